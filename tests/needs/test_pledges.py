"""Pledges: one active per need under a 50-way race, expiry, and the delivery-details rule."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, insert, select

from hub.actor import Actor
from hub.ids import need_ref
from hub.needs.errors import NeedError, NeedErrorCode
from hub.needs.models import Need, NeedStatusChange, Pledge
from hub.needs.queries import holds_active_pledge
from hub.needs.service import (
    EXPIRY_NOTE,
    expire_pledges,
    pledge_need,
    release_pledge,
)
from tests.support.city import NOW, City

RACERS = 50


@pytest.mark.parametrize("status", ["OPEN", "PLEDGED"])
async def test_fifty_foundations_race_for_one_need_and_one_wins(city_db: City, status: str) -> None:
    """On an OPEN need; and on a PLEDGED one whose pledge has lapsed, where every racer
    first tries to expire the old pledge."""
    need_id = await city_db.need_in(status)
    now = NOW
    if status == "PLEDGED":
        now = await city_db.scalar(
            select(Pledge.expires_at).where(Pledge.need_id == need_id, Pledge.status == "ACTIVE")
        ) + dt.timedelta(seconds=1)
    racers = await city_db.foundations(RACERS)
    start = asyncio.Event()

    async def attempt(actor: Actor) -> str:
        await start.wait()
        async with city_db.sessions() as session, session.begin():
            try:
                await pledge_need(session, actor=actor, need_id=need_id, now=now)
            except NeedError as error:
                # The caller's transaction is still usable: its audit event would commit here.
                await session.execute(select(1))
                return error.code.value
            return "WON"

    tasks = [asyncio.create_task(attempt(actor)) for actor in racers]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert Counter(outcomes) == {"WON": 1, "NEED_ALREADY_PLEDGED": RACERS - 1}
    winner = racers[outcomes.index("WON")]
    assert await city_db.all(
        select(Pledge.organization_id).where(Pledge.need_id == need_id, Pledge.status == "ACTIVE")
    ) == [(winner.organization_id,)]
    need = await city_db.need(need_id)
    assert (need.status, need.holder_organization_id) == ("PLEDGED", winner.organization_id)
    # The lapse (at the old expiry, a second before `now`) is recorded once, however many
    # racers saw it.
    since = now - dt.timedelta(seconds=1)
    steps = await city_db.all(
        select(NeedStatusChange.from_status, NeedStatusChange.to_status)
        .where(NeedStatusChange.need_id == need_id, NeedStatusChange.changed_at >= since)
        .order_by(NeedStatusChange.changed_at, NeedStatusChange.id)
    )
    lapse = [("PLEDGED", "OPEN")] if status == "PLEDGED" else []
    assert [tuple(step) for step in steps] == [*lapse, ("OPEN", "PLEDGED")]


async def test_the_unique_index_refuses_a_second_active_pledge_inside_a_savepoint(
    city_db: City,
) -> None:
    """Even when a need wrongly shows OPEN beside an active pledge, the index says no, and the
    caller's transaction survives to commit its own writes."""
    need_id, other_need_id = await city_db.need_in("OPEN"), await city_db.need_in("OPEN", offset=1)
    squatter, late = await city_db.foundations(2)
    async with city_db.sessions() as session, session.begin():
        await session.execute(
            insert(Pledge).values(
                need_id=need_id,
                organization_id=squatter.organization_id,
                status="ACTIVE",
                pledged_at=NOW,
                expires_at=NOW + dt.timedelta(days=3),
            )
        )
    async with city_db.sessions() as session, session.begin():
        try:
            await pledge_need(session, actor=late, need_id=need_id, now=NOW)
        except NeedError as error:
            assert error.code is NeedErrorCode.NEED_ALREADY_PLEDGED
        else:
            raise AssertionError("the second active pledge was accepted")
        # Stands for the audit event the GraphQL layer writes after the error result.
        session.add(
            NeedStatusChange(
                need_id=other_need_id,
                from_status="OPEN",
                to_status="OPEN",
                changed_at=NOW,
                organization_id=late.organization_id,
                note="audit stand-in",
            )
        )
    need = await city_db.need(need_id)
    assert (need.status, need.holder_organization_id) == ("OPEN", None)
    assert (
        await city_db.scalar(
            select(func.count()).where(
                Pledge.organization_id == late.organization_id, Pledge.need_id == need_id
            )
        )
        == 0
    )
    assert (
        await city_db.scalar(select(func.count()).where(NeedStatusChange.note == "audit stand-in"))
        == 1
    )
    assert (
        await city_db.scalar(
            select(func.count()).where(
                NeedStatusChange.need_id == need_id, NeedStatusChange.changed_at == NOW
            )
        )
        == 0
    )


async def _active_pledge(city_db: City, need_id: int) -> tuple[int, int, dt.datetime]:
    row = (
        await city_db.all(
            select(Pledge.id, Pledge.organization_id, Pledge.expires_at).where(
                Pledge.need_id == need_id, Pledge.status == "ACTIVE"
            )
        )
    )[0]
    return row.id, row.organization_id, row.expires_at


async def test_a_lapsed_pledge_reopens_its_need_on_the_sweep(city_db: City) -> None:
    need_id = await city_db.need_in("PLEDGED")
    pledge_id, org_id, expires_at = await _active_pledge(city_db, need_id)
    async with city_db.sessions() as session, session.begin():
        assert (
            await expire_pledges(session, now=expires_at - dt.timedelta(seconds=1), need_id=need_id)
            == []
        )
        expired = await expire_pledges(
            session, now=expires_at + dt.timedelta(hours=5), need_id=need_id
        )
    assert [
        (e.pledge_id, e.need_id, e.organization_id, e.expired_at, e.need_reopened) for e in expired
    ] == [(pledge_id, need_id, org_id, expires_at, True)]
    need = await city_db.need(need_id)
    assert (need.status, need.holder_organization_id) == ("OPEN", None)
    assert await city_db.all(
        select(Pledge.status, Pledge.ended_at).where(Pledge.id == pledge_id)
    ) == [("EXPIRED", expires_at)]
    last = (
        await city_db.all(
            select(
                NeedStatusChange.changed_at,
                NeedStatusChange.from_status,
                NeedStatusChange.to_status,
                NeedStatusChange.organization_id,
                NeedStatusChange.note,
            )
            .where(NeedStatusChange.need_id == need_id)
            .order_by(NeedStatusChange.id.desc())
            .limit(1)
        )
    )[0]
    assert tuple(last) == (expires_at, "PLEDGED", "OPEN", None, EXPIRY_NOTE)


async def test_the_periodic_sweep_expires_every_lapsed_pledge_once(city_db: City) -> None:
    active = await city_db.scalar(select(func.count()).where(Pledge.status == "ACTIVE"))
    later = NOW + dt.timedelta(days=15)
    async with city_db.sessions() as session, session.begin():
        expired = await expire_pledges(session, now=later)
        assert await expire_pledges(session, now=later) == []
    assert len(expired) == active > 0
    assert all(e.need_reopened for e in expired)
    assert await city_db.scalar(select(func.count()).where(Pledge.status == "ACTIVE")) == 0
    assert await city_db.scalar(select(func.count()).where(Need.status == "PLEDGED")) == 0


async def test_pledging_a_lapsed_need_expires_the_old_pledge_first(city_db: City) -> None:
    need_id = await city_db.need_in("PLEDGED")
    old_pledge, old_org, expires_at = await _active_pledge(city_db, need_id)
    newcomer = await city_db.other_foundation(Actor(old_org))
    later = expires_at + dt.timedelta(minutes=1)
    async with city_db.sessions() as session, session.begin():
        result = await pledge_need(session, actor=newcomer, need_id=need_id, now=later)
    assert result.need.holder_organization_id == newcomer.organization_id
    assert await city_db.scalar(select(Pledge.status).where(Pledge.id == old_pledge)) == "EXPIRED"
    steps = await city_db.all(
        select(
            NeedStatusChange.from_status, NeedStatusChange.to_status, NeedStatusChange.changed_at
        )
        .where(NeedStatusChange.need_id == need_id)
        .order_by(NeedStatusChange.changed_at, NeedStatusChange.id)
    )
    assert [tuple(s) for s in steps[-2:]] == [
        ("PLEDGED", "OPEN", expires_at),
        ("OPEN", "PLEDGED", later),
    ]


async def test_a_lapsed_pledge_can_no_longer_be_released(city_db: City) -> None:
    need_id = await city_db.need_in("PLEDGED")
    _, org_id, expires_at = await _active_pledge(city_db, need_id)
    async with city_db.sessions() as session:
        try:
            await release_pledge(
                session,
                actor=Actor(org_id),
                need_id=need_id,
                reason="x",
                now=expires_at + dt.timedelta(seconds=1),
            )
        except NeedError as error:
            assert error.code is NeedErrorCode.ILLEGAL_TRANSITION
            assert error.message == f"need {need_ref(need_id)} is OPEN; releasePledge needs PLEDGED"
        else:
            raise AssertionError("a lapsed pledge was released")


async def test_holds_active_pledge_answers_for_a_batch_of_citizens(city_db: City) -> None:
    pairs = await city_db.all(
        select(Pledge.organization_id, Need.citizen_id, Pledge.expires_at)
        .join(Need, Need.id == Pledge.need_id)
        .where(Pledge.status == "ACTIVE")
    )
    busiest, _ = Counter(p.organization_id for p in pairs).most_common(1)[0]
    own = {p.citizen_id for p in pairs if p.organization_id == busiest}
    everyone = [int(row[0]) for row in await city_db.all(select(Need.citizen_id).distinct())]
    async with city_db.sessions() as session:
        assert (
            await holds_active_pledge(
                session, organization_id=busiest, citizen_ids=everyone, now=NOW
            )
            == own
        )
        assert (
            await holds_active_pledge(session, organization_id=busiest, citizen_ids=[], now=NOW)
            == set()
        )
        last = max(p.expires_at for p in pairs if p.organization_id == busiest)
        assert (
            await holds_active_pledge(
                session, organization_id=busiest, citizen_ids=everyone, now=last
            )
            == set()
        )
        stranger = await city_db.other_foundation(*(Actor(p.organization_id) for p in pairs))
        assert (
            await holds_active_pledge(
                session, organization_id=stranger.organization_id, citizen_ids=everyone, now=NOW
            )
            == set()
        )
    # A released pledge stops counting.
    counts = Counter(p.citizen_id for p in pairs if p.organization_id == busiest)
    citizen = next(c for c, n in sorted(counts.items()) if n == 1)
    need_id = await city_db.scalar(
        select(Pledge.need_id)
        .join(Need, Need.id == Pledge.need_id)
        .where(
            Pledge.organization_id == busiest, Pledge.status == "ACTIVE", Need.citizen_id == citizen
        )
    )
    async with city_db.sessions() as session, session.begin():
        await release_pledge(session, actor=Actor(busiest), need_id=need_id, reason="x", now=NOW)
        assert (
            await holds_active_pledge(
                session, organization_id=busiest, citizen_ids=[citizen], now=NOW
            )
            == set()
        )
