"""Real time: events published after commit, GraphQL subscriptions, and signed webhooks."""
