"""The periodic sweep that ends lapsed pledges, so their needs reopen for everyone.

Pledges also expire lazily whenever their need is touched; the sweep covers the needs
nobody touches, which would otherwise stay PLEDGED and out of every other feed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db import transaction, utcnow
from hub.needs.service import expire_pledges
from hub.periodic import Periodic


async def sweep_once(sessions: async_sessionmaker[AsyncSession]) -> int:
    """End every lapsed pledge now; return how many."""
    async with transaction(sessions) as session:
        return len(await expire_pledges(session, now=utcnow()))


class PledgeSweeper(Periodic):
    """Runs `sweep_once` every `interval` seconds until stopped."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, interval: float) -> None:
        self.sessions = sessions
        super().__init__(
            "pledge-sweeper",
            lambda: sweep_once(sessions),
            interval=interval,
            did="expired %d lapsed pledges",
        )
