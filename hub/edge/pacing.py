"""Pacing: how fast one client's requests may start in a worker, bursts included.

The rate limit bounds what a client spends over a window (`HUB_ROLE_RATE_LIMITS`, ten
seconds), not how fast: a client whose window is full may spend all of it at once, and a
foundation's 3500 units are over a hundred cheap requests, which two cores answer back to back in
about a second while every other client's answers wait behind them. `Pacer` spreads them:
a client may start `burst` requests at once and then `rate` a second (the generic cell
rate algorithm, GCRA, as NGINX's `limit_req` with `burst` applies it); a request ahead
of its time waits for it before any work is done for it, in the client's slot, so a
client that keeps to the rate never waits and one that does not is slowed, not refused
(the slots and the waiting bound of `hub.edge.http` still refuse a flood of connections).
On by default (`HUB_CLIENT_RATE=allowance`: each client at its role's limit at the minimum
charge, burst 4): on bench/attack.py, 20 rounds a run, the victim's p99 under attack was
x1.40-1.52 of its p99 alone unpaced and x0.99-1.17 paced (bench/results/attack.md).

Per worker and in memory, like the slots and the turns: what it protects is the worker's
CPU, and a shared counter would cost a round trip to Redis on every request. The
`limits` library has no GCRA; this is its arithmetic, on one timestamp per client.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Reservations between two sweeps of the clients whose schedule has lapsed.
_SWEEP_EVERY = 1024
#: The longest a request is held for its pace. Pacing spreads a burst over a second or
#: two; a request further ahead is past what the client's limit allows (`allowance`) or
#: what the operator set, and goes on at once, unreserved, for the rate limit to judge
#: (a 429 with `Retry-After` says more than a long silence).
MAX_PAUSE = 2.0


class Pacer:
    """When each client's next request may start (see the module docstring)."""

    def __init__(self, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        #: How far ahead of its schedule a client may be: `burst - 1` requests at once.
        self.burst = burst
        self.clock = clock
        #: Per client, the theoretical arrival time of its next request (GCRA's TAT).
        self._next: dict[str, float] = {}
        self._reservations = 0

    def reserve(self, client_id: str, rate: float) -> float:
        """Take the client's next start at `rate` a second (a client keeps one rate) and
        return how long to wait for it (0: now; never more than `MAX_PAUSE`: a later start
        is not taken, and 0 is returned)."""
        interval = 1.0 / rate
        tolerance = (self.burst - 1) * interval
        now = self.clock()
        start = max(self._next.get(client_id, now), now)
        pause = max(0.0, start - tolerance - now)
        if pause > MAX_PAUSE:
            return 0.0
        self._next[client_id] = start + interval
        self._reservations += 1
        if self._reservations % _SWEEP_EVERY == 0:
            self._sweep(now)
        return pause

    def _sweep(self, now: float) -> None:
        """Forget clients whose schedule is in the past: they start afresh anyway."""
        for client_id in [key for key, due in self._next.items() if due <= now]:
            del self._next[client_id]
