"""Synthetic Bandung: a deterministic synthetic city for demos, tests and benchmarks."""

from hub.synthetic.city import SeedError, SeedSummary, resume_hint, seed_city, seed_finished

__all__ = ["SeedError", "SeedSummary", "resume_hint", "seed_city", "seed_finished"]
