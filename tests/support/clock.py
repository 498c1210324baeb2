"""The one fake clock of the suite: it moves only when told to.

Code under test takes a clock as a callable: the audit trail's returns a `datetime`
(pass `clock.now`), the identity layer's returns epoch seconds (pass `clock.time`).
"""

from __future__ import annotations

import datetime as dt


class FakeClock:
    """A clock that moves only when told to (forward, or back with a negative number)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.moment = start or dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """The current fake moment, timezone-aware."""
        return self.moment

    def time(self) -> float:
        """The current fake moment in epoch seconds, like `time.time()`."""
        return self.moment.timestamp()

    def advance(self, seconds: float) -> None:
        """Move the clock by `seconds`."""
        self.moment += dt.timedelta(seconds=seconds)
