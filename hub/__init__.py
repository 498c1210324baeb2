"""Satu Pintu Hub: one door to Kota Bandung's social-welfare data."""

__version__ = "0.1.0"
