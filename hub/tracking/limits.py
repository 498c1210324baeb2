"""How often one address may look up tracking codes (the `limits` library, in memory).

A code is short enough to read aloud, so guessing must be slow: per client address, a
moving window (`HUB_TRACK_RATE`, default `10/minute`). The window lives in this process's
memory; several workers each keep their own (a shared storage such as Redis is a setting
away in `limits`, when the hub runs more than one process behind one address).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class TrackingRateLimit:
    """Allows `rate` lookups per address; says how long to wait when it does not."""

    def __init__(self, rate: str = "10/minute") -> None:
        self.item: RateLimitItem = parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, address: str) -> int | None:
        """Count one lookup from `address`; None when allowed, else seconds to wait."""
        if self.limiter.hit(self.item, "track", address):
            return None
        stats = self.limiter.get_window_stats(self.item, "track", address)
        return max(1, math.ceil(stats.reset_time - time.time()))
