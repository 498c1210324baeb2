"""Duplicate aid ("tepat sasaran"): help given where help in the same category already exists.

When a foundation pledges a need or records a contribution, the citizen may already be
enrolled in a programme of that category (PKH, BPNT, PBI-JK, …) or have received a
contribution in it from another organisation recently. That is not refused — the family may
really need more — but the caller gets a warning naming what was found, and a flag row is
written for Dinsos to review.
"""
