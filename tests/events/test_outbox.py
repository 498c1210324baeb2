"""Events leave after their transaction commits, never for a rolled-back change."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from hub.actor import Actor
from hub.db import create_engine, session_factory, transaction, utcnow
from hub.events.bus import BusMessage, EventBus
from hub.events.expiry import warn_once
from hub.events.models import EventRecord
from hub.events.outbox import attach
from hub.needs import service as needs
from tests.events.conftest import choose_area, sql

DINSOS = "SELECT id FROM organizations WHERE code = 'DINSOS'"


class Heard:
    """An in-process bus and what it carried."""

    def __init__(self) -> None:
        self.bus = EventBus()
        self.messages: list[BusMessage] = []
        self.bus.add_listener(self.messages.append)


async def _outbox(url: str) -> int:
    rows = await sql(url, "SELECT count(*) AS n FROM event_outbox")
    return int(rows[0]["n"])


async def test_a_committed_change_publishes_after_its_commit(fresh_city_database_url: str) -> None:
    url = fresh_city_database_url
    area = await choose_area(url)
    (dinsos,) = await sql(url, DINSOS)
    heard = Heard()
    engine = create_engine(url)
    sessions = session_factory(engine)
    attach(sessions, heard.bus)
    try:
        async with transaction(sessions) as session:
            await needs.verify_need(
                session,
                actor=Actor(organization_id=dinsos["id"]),
                need_id=area.inside,
                note=None,
                now=utcnow(),
            )
            await asyncio.sleep(0.05)
            assert heard.messages == []  # written, not yet committed: nothing left
            written = await session.scalar(select(func.count()).select_from(EventRecord))
            assert written == 2
        await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    assert [(m.kind, m.need_id) for m in heard.messages] == [
        ("need.changed", area.inside),
        ("need.opened", area.inside),
    ]


@pytest.mark.parametrize("how", ["rollback", "released-savepoint", "savepoint"])
async def test_a_rolled_back_change_publishes_nothing(
    fresh_city_database_url: str, how: str
) -> None:
    url = fresh_city_database_url
    area = await choose_area(url)
    (dinsos,) = await sql(url, DINSOS)
    heard = Heard()
    engine = create_engine(url)
    sessions = session_factory(engine)
    attach(sessions, heard.bus)
    actor = Actor(organization_id=dinsos["id"])
    try:
        async with sessions() as session:
            await session.begin()
            if how == "rollback":
                await needs.verify_need(
                    session, actor=actor, need_id=area.inside, note=None, now=utcnow()
                )
                await session.rollback()
            elif how == "released-savepoint":
                # As a mutation does: its savepoint is released, then the request fails.
                async with session.begin_nested():
                    await needs.verify_need(
                        session, actor=actor, need_id=area.inside, note=None, now=utcnow()
                    )
                await asyncio.sleep(0.05)
                await session.rollback()
            else:
                # A mutation's expected error: its savepoint rolls back, the request commits.
                await needs.verify_need(
                    session, actor=actor, need_id=area.outside, note=None, now=utcnow()
                )
                with pytest.raises(RuntimeError):
                    async with session.begin_nested():
                        await needs.verify_need(
                            session, actor=actor, need_id=area.inside, note=None, now=utcnow()
                        )
                        raise RuntimeError("refused")
                await session.commit()
        await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    published = {m.need_id for m in heard.messages}
    stored = {r["need_id"] for r in await sql(url, "SELECT need_id FROM event_outbox")}
    assert area.inside not in published and area.inside not in stored
    if how == "savepoint":
        assert published == stored == {area.outside}
    else:
        assert published == stored == set()


async def test_pledges_about_to_lapse_are_warned_once(fresh_city_database_url: str) -> None:
    url = fresh_city_database_url
    area = await choose_area(url)
    rows = await sql(
        url,
        "SELECT id FROM organizations WHERE kind = 'LKS' AND status = 'ACTIVE' ORDER BY id",
    )
    (dinsos,) = await sql(url, DINSOS)
    engine = create_engine(url)
    sessions = session_factory(engine)
    heard = Heard()
    attach(sessions, heard.bus)
    try:
        async with transaction(sessions) as session:
            now = utcnow()
            await needs.verify_need(
                session,
                actor=Actor(organization_id=dinsos["id"]),
                need_id=area.inside,
                note=None,
                now=now,
            )
            await needs.pledge_need(
                session,
                actor=Actor(organization_id=rows[0]["id"]),
                need_id=area.inside,
                now=now,
                ttl=dt.timedelta(hours=20),
            )
        heard.messages.clear()
        ahead = dt.timedelta(hours=24)
        # Lapsed pledges of the seed are warned of too; this one among them, once.
        assert await warn_once(sessions, ahead=ahead) >= 1
        assert await warn_once(sessions, ahead=ahead) == 0
        await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    mine = [m for m in heard.messages if m.need_id == area.inside]
    assert [(m.kind, m.organization_id) for m in mine] == [("pledge.expiring", rows[0]["id"])]
