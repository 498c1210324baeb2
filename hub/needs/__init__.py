"""Needs: one person's specific problem, its category, lifecycle, pledges and history."""
