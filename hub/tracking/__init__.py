"""Tracking codes: a citizen follows their reported need without a token (DESIGN §6c)."""
