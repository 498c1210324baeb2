"""Contributions: what foundations and agencies delivered, in rupiah, goods or services."""
