"""The periodic check that warns foundations a day before their pledges lapse."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db import transaction, utcnow
from hub.events.service import warn_expiring_pledges
from hub.periodic import Periodic


async def warn_once(sessions: async_sessionmaker[AsyncSession], *, ahead: dt.timedelta) -> int:
    """Write `pledge.expiring` for every pledge newly within `ahead` of lapsing; how many."""
    async with transaction(sessions) as session:
        return await warn_expiring_pledges(session, now=utcnow(), ahead=ahead)


class PledgeWarner(Periodic):
    """Runs `warn_once` every `interval` seconds until stopped (0: never)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, ahead: dt.timedelta, interval: float
    ) -> None:
        self.sessions = sessions
        self.ahead = ahead
        super().__init__(
            "pledge-warner",
            lambda: warn_once(sessions, ahead=ahead),
            interval=interval,
            did="warned of %d pledges about to lapse",
        )
