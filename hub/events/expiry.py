"""The periodic check that warns foundations a day before their pledges lapse."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db import transaction, utcnow
from hub.events.service import warn_expiring_pledges

log = logging.getLogger(__name__)


async def warn_once(sessions: async_sessionmaker[AsyncSession], *, ahead: dt.timedelta) -> int:
    """Write `pledge.expiring` for every pledge newly within `ahead` of lapsing; how many."""
    async with transaction(sessions) as session:
        return await warn_expiring_pledges(session, now=utcnow(), ahead=ahead)


class PledgeWarner:
    """Runs `warn_once` every `interval` seconds until stopped (0: never)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, ahead: dt.timedelta, interval: float
    ) -> None:
        self.sessions = sessions
        self.ahead = ahead
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin checking in the background."""
        if self._task is None and self.interval > 0:
            self._task = asyncio.create_task(self._run(), name="pledge-warner")

    async def _run(self) -> None:
        while True:
            try:
                warned = await warn_once(self.sessions, ahead=self.ahead)
                if warned:
                    log.info("warned of %d pledges about to lapse", warned)
            except Exception:  # the next round retries
                log.exception("pledge warning check failed")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stop checking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
