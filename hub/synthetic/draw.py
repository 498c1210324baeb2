"""Small helpers to draw from a seeded `random.Random` quickly and reproducibly."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from random import Random
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed weighted choice, with the cumulative weights computed once."""

    __slots__ = ("_cumulative", "_total", "_values")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        """Values with their relative weights (weights need not sum to one)."""
        if not pairs:
            raise ValueError("a weighted choice needs at least one value")
        self._values = tuple(value for value, _ in pairs)
        self._cumulative = tuple(accumulate(weight for _, weight in pairs))
        self._total = self._cumulative[-1]

    def pick(self, rng: Random) -> T:
        """One value, drawn with its weight."""
        # One uniform draw and a bisection: several times faster than Random.choices per call.
        index = bisect_right(self._cumulative, rng.random() * self._total)
        return self._values[min(index, len(self._values) - 1)]


def chance(rng: Random, probability: float) -> bool:
    """True with the given probability."""
    return rng.random() < probability


def digits(rng: Random, count: int) -> str:
    """A string of `count` random decimal digits."""
    return str(rng.randrange(10**count)).zfill(count)
