"""The periodic sweep that ends lapsed pledges, so their needs reopen for everyone.

Pledges also expire lazily whenever their need is touched; the sweep covers the needs
nobody touches, which would otherwise stay PLEDGED and out of every other feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db import transaction, utcnow
from hub.needs.service import expire_pledges

log = logging.getLogger(__name__)


async def sweep_once(sessions: async_sessionmaker[AsyncSession]) -> int:
    """End every lapsed pledge now; return how many."""
    async with transaction(sessions) as session:
        return len(await expire_pledges(session, now=utcnow()))


class PledgeSweeper:
    """Runs `sweep_once` every `interval` seconds until stopped."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, interval: float) -> None:
        self.sessions = sessions
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sweeping in the background."""
        if self._task is None and self.interval > 0:
            self._task = asyncio.create_task(self._run(), name="pledge-sweeper")

    async def _run(self) -> None:
        while True:
            try:
                expired = await sweep_once(self.sessions)
                if expired:
                    log.info("expired %d lapsed pledges", expired)
            except Exception:  # the next round retries; requests go on
                log.exception("pledge sweep failed")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
