"""Duplicate aid ("tepat sasaran"): help given where help in the same category exists."""
