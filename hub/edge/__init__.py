"""The production edge: rate limits, query cost limits, metrics and access logs."""
