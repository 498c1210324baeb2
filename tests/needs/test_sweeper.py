"""The sweep reopens needs whose pledges lapsed, without anyone touching them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from hub.db import create_engine, session_factory
from hub.events.models import EventRecord
from hub.needs import sweeper
from hub.needs.models import Need, Pledge
from hub.needs.sweeper import sweep_once


async def test_lapsed_pledges_are_swept_and_their_needs_reopen(
    fresh_city_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small batches, so that the seed's lapsed pledges take several transactions.
    monkeypatch.setattr(sweeper, "BATCH", 3)
    engine = create_engine(fresh_city_database_url)
    sessions = session_factory(engine, write=True)
    now = dt.datetime.now(dt.UTC)

    async def count(*where: object) -> int:
        async with sessions() as session:
            return int(
                await session.scalar(select(func.count()).select_from(Pledge).where(*where)) or 0
            )

    lapsed = await count(Pledge.status == "ACTIVE", Pledge.expires_at <= now)
    assert lapsed > sweeper.BATCH, "the seed's active pledges lapsed before today"
    async with sessions() as session:
        events_before = await session.scalar(select(func.count()).select_from(EventRecord))
    assert await sweep_once(sessions) == lapsed
    assert await count(Pledge.status == "ACTIVE", Pledge.expires_at <= now) == 0
    async with sessions() as session:
        still_pledged = await session.scalar(
            select(func.count())
            .select_from(Need)
            .where(Need.status == "PLEDGED")
            .where(
                ~select(Pledge.id)
                .where(Pledge.need_id == Need.id, Pledge.status == "ACTIVE")
                .exists()
            )
        )
        # Each reopened need told its subscribers, once as changed and once as opened.
        events = await session.scalar(select(func.count()).select_from(EventRecord))
    assert still_pledged == 0
    assert events - (events_before or 0) == 2 * lapsed
    assert await sweep_once(sessions) == 0
    await engine.dispose()
