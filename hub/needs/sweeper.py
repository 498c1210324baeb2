"""The periodic sweep that ends lapsed pledges, so their needs reopen for everyone.

Pledges also expire lazily whenever their need is touched; the sweep covers the needs
nobody touches, which would otherwise stay PLEDGED and out of every other feed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db import transaction, utcnow
from hub.needs.service import expire_pledges
from hub.periodic import Periodic

#: Pledges ended per transaction: a city whose sweeps stopped for a while (or a freshly
#: seeded one) may hold tens of thousands of lapsed pledges, and one transaction over all
#: of them would hold their needs' locks (and every feed's writers) for seconds.
BATCH = 1000


async def sweep_once(sessions: async_sessionmaker[AsyncSession]) -> int:
    """End every lapsed pledge now, a batch per transaction; return how many."""
    ended = 0
    while True:
        async with transaction(sessions) as session:
            batch = len(await expire_pledges(session, now=utcnow(), limit=BATCH))
        ended += batch
        if batch < BATCH:
            return ended


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
