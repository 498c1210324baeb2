"""Synthetic Bandung: a deterministic synthetic city for demos, tests and benchmarks."""

from hub.synthetic.city import SeedError, SeedSummary, seed_city

__all__ = ["SeedError", "SeedSummary", "seed_city"]
