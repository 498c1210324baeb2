"""A need's lifecycle: every legal transition, every illegal one, and the history it writes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.actor import Actor
from hub.ids import need_ref
from hub.needs.errors import NeedError, NeedErrorCode
from hub.needs.models import NEED_STATUSES, Need, NeedStatusChange, Pledge
from hub.needs.service import (
    CloseOutcome,
    close_need,
    pledge_need,
    refer_need,
    release_pledge,
    report_need,
    verify_need,
)
from hub.registry.models import Citizen, Household
from tests.support.city import NOW, City, need_timeline

Call = Callable[[Any, int], Awaitable[object]]


async def _history(city_db: City, need_id: int) -> list[tuple[str | None, str, int | None, Any]]:
    rows = await city_db.all(
        select(
            NeedStatusChange.from_status,
            NeedStatusChange.to_status,
            NeedStatusChange.organization_id,
            NeedStatusChange.note,
        )
        .where(NeedStatusChange.need_id == need_id)
        .order_by(NeedStatusChange.changed_at, NeedStatusChange.id)
    )
    return [tuple(row) for row in rows]


async def _new_steps(city_db: City, need_id: int, before: int) -> list[tuple[Any, ...]]:
    return (await _history(city_db, need_id))[before:]


async def test_report_need_copies_the_place_and_starts_the_history(city_db: City) -> None:
    dinsos = await city_db.org("DINSOS")
    citizen_id, kecamatan, kelurahan = (
        await city_db.all(
            select(Citizen.id, Household.kecamatan_code, Household.kelurahan_code)
            .join(Household, Household.id == Citizen.household_id)
            .order_by(Citizen.id)
            .limit(1)
        )
    )[0]
    async with city_db.sessions() as session, session.begin():
        need = await report_need(
            session,
            actor=dinsos,
            citizen_id=citizen_id,
            category_code="FOOD",
            ppks_code="PPKS_FAKIR_MISKIN",
            description="  Keluarga kekurangan bahan pangan.  ",
            severity=3,
            now=NOW,
        )
        need_id = need.id
    stored = await city_db.need(need_id)
    assert (stored.status, stored.kecamatan_code, stored.kelurahan_code) == (
        "REPORTED",
        kecamatan,
        kelurahan,
    )
    assert stored.description == "Keluarga kekurangan bahan pangan."
    assert (stored.reported_by_organization_id, stored.reported_at) == (dinsos.organization_id, NOW)
    assert stored.holder_organization_id is None
    assert await _history(city_db, need_id) == [(None, "REPORTED", dinsos.organization_id, None)]


@pytest.mark.parametrize(
    ("changes", "code", "fragment"),
    [
        ({"severity": 5}, NeedErrorCode.INVALID_INPUT, "severity 5 is out of range"),
        ({"description": "   "}, NeedErrorCode.INVALID_INPUT, "description is empty"),
        ({"citizen_id": 10**9}, NeedErrorCode.CITIZEN_NOT_FOUND, "no citizen"),
        ({"category_code": "NOPE"}, NeedErrorCode.CATEGORY_NOT_FOUND, "'NOPE'"),
        ({"ppks_code": "PPKS_NOPE"}, NeedErrorCode.CATEGORY_NOT_FOUND, "'PPKS_NOPE'"),
        ({"category_code": "PPKS_ODHA"}, NeedErrorCode.INVALID_INPUT, "is a PPKS category"),
        ({"ppks_code": "HEALTH"}, NeedErrorCode.INVALID_INPUT, "must be a PPKS category"),
    ],
)
async def test_report_need_refuses_bad_input(
    shared_city_db: City, changes: dict[str, Any], code: NeedErrorCode, fragment: str
) -> None:
    arguments: dict[str, Any] = {
        "citizen_id": 1,
        "category_code": "HEALTH",
        "ppks_code": None,
        "description": "Butuh kontrol rutin.",
        "severity": 2,
    }
    async with shared_city_db.sessions() as session:
        with pytest.raises(NeedError) as caught:
            await report_need(
                session,
                actor=await shared_city_db.org("DINKES"),
                now=NOW,
                **{**arguments, **changes},
            )
    assert caught.value.code is code
    assert fragment in caught.value.message


async def test_verify_takes_a_reported_need_to_open_in_two_steps(city_db: City) -> None:
    dinsos = await city_db.org("DINSOS")
    need_id = await city_db.need_in("REPORTED")
    before = len(await _history(city_db, need_id))
    async with city_db.sessions() as session, session.begin():
        need = await verify_need(
            session, actor=dinsos, need_id=need_id, note="Sudah dikunjungi", now=NOW
        )
        assert need.status == "OPEN"
    stored = await city_db.need(need_id)
    assert stored.status == "OPEN"
    assert (stored.verified_by_organization_id, stored.verified_at, stored.opened_at) == (
        dinsos.organization_id,
        NOW,
        NOW,
    )
    assert await _new_steps(city_db, need_id, before) == [
        ("REPORTED", "VERIFIED", dinsos.organization_id, "Sudah dikunjungi"),
        ("VERIFIED", "OPEN", dinsos.organization_id, None),
    ]


async def test_verify_opens_a_need_already_verified(city_db: City) -> None:
    dinsos = await city_db.org("DINSOS")
    need_id = await city_db.need_in("VERIFIED")
    verified_at = (await city_db.need(need_id)).verified_at
    before = len(await _history(city_db, need_id))
    async with city_db.sessions() as session, session.begin():
        await verify_need(session, actor=dinsos, need_id=need_id, note=None, now=NOW)
    stored = await city_db.need(need_id)
    assert (stored.status, stored.verified_at, stored.opened_at) == ("OPEN", verified_at, NOW)
    assert await _new_steps(city_db, need_id, before) == [
        ("VERIFIED", "OPEN", dinsos.organization_id, None)
    ]


Operations = dict[str, tuple[tuple[str, ...], str, Call]]


async def _operations(city_db: City) -> Operations:
    """Each operation: the statuses it accepts, the status it leads to, and a call."""
    dinsos = await city_db.org("DINSOS")
    agencies = [(await city_db.org(code)).organization_id for code in ("DINKES", "DISDIK")]
    lks = (await city_db.foundations(1))[0]

    async def refer(session: AsyncSession, need_id: int) -> object:
        need = await session.get(Need, need_id)
        assert need is not None
        to = agencies[1] if need.holder_organization_id == agencies[0] else agencies[0]
        return await refer_need(
            session, actor=dinsos, need_id=need_id, to_organization_id=to, note=None, now=NOW
        )

    def close(outcome: CloseOutcome) -> Call:
        return lambda s, n: close_need(
            s, actor=dinsos, need_id=n, outcome=outcome, reason="Sudah terbantu", now=NOW
        )

    return {
        "verifyNeed": (
            ("REPORTED", "VERIFIED"),
            "OPEN",
            lambda s, n: verify_need(s, actor=dinsos, need_id=n, note=None, now=NOW),
        ),
        "referNeed": (("REPORTED", "VERIFIED", "OPEN", "REFERRED"), "REFERRED", refer),
        "pledgeNeed": (
            ("OPEN",),
            "PLEDGED",
            lambda s, n: pledge_need(s, actor=lks, need_id=n, now=NOW),
        ),
        "releasePledge": (
            ("PLEDGED",),
            "OPEN",
            lambda s, n: release_pledge(s, actor=dinsos, need_id=n, reason="x", now=NOW),
        ),
        "closeNeed(FULFILLED)": (
            ("PLEDGED", "REFERRED"),
            "FULFILLED",
            close(CloseOutcome.FULFILLED),
        ),
        "closeNeed(NO_LONGER_NEEDED)": (
            ("REPORTED", "VERIFIED", "OPEN", "PLEDGED", "REFERRED"),
            "CLOSED",
            close(CloseOutcome.NO_LONGER_NEEDED),
        ),
    }


async def test_every_legal_transition_moves_the_need_and_writes_history(city_db: City) -> None:
    needs = {status: await city_db.need_in(status) for status in NEED_STATUSES}
    moved = 0
    for operation, (allowed, to_status, call) in (await _operations(city_db)).items():
        for status in allowed:
            need_id = needs[status]
            before = len(await _history(city_db, need_id))
            async with city_db.sessions() as session:
                await call(session, need_id)
                need = await session.get(Need, need_id)
                assert need is not None
                assert need.status == to_status, (operation, status)
                steps = (
                    await session.execute(
                        select(NeedStatusChange.from_status, NeedStatusChange.to_status)
                        .where(NeedStatusChange.need_id == need_id)
                        .order_by(NeedStatusChange.changed_at, NeedStatusChange.id)
                    )
                ).all()
                await session.rollback()
            new = [tuple(step) for step in steps[before:]]
            assert new[0][0] == status and new[-1][1] == to_status, (operation, status, new)
            moved += 1
    assert moved == 15


async def test_every_illegal_transition_is_refused_with_its_reason(city_db: City) -> None:
    operations = {
        name: (allowed, call) for name, (allowed, _, call) in (await _operations(city_db)).items()
    }
    needs = {status: await city_db.need_in(status) for status in NEED_STATUSES}
    refused = 0
    for operation, (allowed, call) in operations.items():
        for status, need_id in needs.items():
            if status in allowed:
                continue
            async with city_db.sessions() as session:
                with pytest.raises(NeedError) as caught:
                    await call(session, need_id)
                await session.rollback()
            refused += 1
            if (operation, status) == ("pledgeNeed", "PLEDGED"):
                # Its own code, for the race a partner loses (tested in test_concurrency).
                assert caught.value.code is NeedErrorCode.NEED_ALREADY_PLEDGED
                assert caught.value.message.startswith(
                    f"need {need_ref(need_id)} is PLEDGED by another"
                )
                continue
            assert caught.value.code is NeedErrorCode.ILLEGAL_TRANSITION, (operation, status)
            expected = f"need {need_ref(need_id)} is {status}; {operation} needs "
            assert caught.value.message.startswith(expected), caught.value.message
    assert refused == 27  # 6 operations x 7 statuses, less the 15 legal pairs
    # Nothing moved.
    for status, need_id in needs.items():
        assert (await city_db.need(need_id)).status == status


async def test_the_message_lists_what_is_allowed(city_db: City) -> None:
    need_id = await city_db.need_in("FULFILLED")
    async with city_db.sessions() as session:
        with pytest.raises(NeedError) as caught:
            await pledge_need(session, actor=await city_db.org("DINSOS"), need_id=need_id, now=NOW)
        assert (
            caught.value.message == f"need {need_ref(need_id)} is FULFILLED; pledgeNeed needs OPEN"
        )
        with pytest.raises(NeedError) as caught:
            await verify_need(
                session, actor=await city_db.org("DINSOS"), need_id=need_id, note=None, now=NOW
            )
        assert caught.value.message == (
            f"need {need_ref(need_id)} is FULFILLED; verifyNeed needs REPORTED or VERIFIED"
        )


async def test_unknown_need(city_db: City) -> None:
    async with city_db.sessions() as session:
        for call in (
            verify_need(session, actor=Actor(1), need_id=10**9, note=None, now=NOW),
            pledge_need(session, actor=Actor(1), need_id=10**9, now=NOW),
            need_timeline(session, need_id=10**9),
        ):
            with pytest.raises(NeedError) as caught:
                await call
            assert caught.value.code is NeedErrorCode.NEED_NOT_FOUND


async def test_refer_hands_the_need_to_an_agency(city_db: City) -> None:
    dinsos, dinkes, disdik = [await city_db.org(c) for c in ("DINSOS", "DINKES", "DISDIK")]
    need_id = await city_db.need_in("OPEN")
    before = len(await _history(city_db, need_id))
    async with city_db.sessions() as session, session.begin():
        need = await refer_need(
            session,
            actor=dinsos,
            need_id=need_id,
            to_organization_id=dinkes.organization_id,
            note=None,
            now=NOW,
        )
        assert (need.status, need.holder_organization_id) == ("REFERRED", dinkes.organization_id)
    async with city_db.sessions() as session:
        with pytest.raises(NeedError) as caught:
            await refer_need(
                session,
                actor=dinsos,
                need_id=need_id,
                to_organization_id=dinkes.organization_id,
                note=None,
                now=NOW,
            )
        assert caught.value.code is NeedErrorCode.INVALID_REFERRAL_TARGET
        assert "already referred to DINKES" in caught.value.message
        lks = (await city_db.foundations(1))[0]
        with pytest.raises(NeedError) as caught:
            await refer_need(
                session,
                actor=dinsos,
                need_id=need_id,
                to_organization_id=lks.organization_id,
                note=None,
                now=NOW,
            )
        assert caught.value.code is NeedErrorCode.INVALID_REFERRAL_TARGET
        assert "ACTIVE agency (OPD)" in caught.value.message
        with pytest.raises(NeedError) as caught:
            await refer_need(
                session,
                actor=dinsos,
                need_id=need_id,
                to_organization_id=10**9,
                note=None,
                now=NOW,
            )
        assert caught.value.code is NeedErrorCode.ORGANIZATION_NOT_FOUND
    later = NOW + dt.timedelta(days=1)
    async with city_db.sessions() as session, session.begin():
        await refer_need(
            session,
            actor=dinkes,
            need_id=need_id,
            to_organization_id=disdik.organization_id,
            note="Urusan pendidikan",
            now=later,
        )
    assert (await city_db.need(need_id)).holder_organization_id == disdik.organization_id
    assert await _new_steps(city_db, need_id, before) == [
        ("OPEN", "REFERRED", dinsos.organization_id, "Dirujuk ke DINKES"),
        ("REFERRED", "REFERRED", dinkes.organization_id, "Urusan pendidikan"),
    ]


async def test_pledge_claims_an_open_need_for_fourteen_days(city_db: City) -> None:
    lks, other = await city_db.foundations(2)
    need_id = await city_db.need_in("OPEN")
    before = len(await _history(city_db, need_id))
    async with city_db.sessions() as session, session.begin():
        result = await pledge_need(session, actor=lks, need_id=need_id, now=NOW)
    assert (result.need.status, result.need.holder_organization_id) == (
        "PLEDGED",
        lks.organization_id,
    )
    pledge = result.pledge
    assert (pledge.status, pledge.pledged_at, pledge.expires_at) == (
        "ACTIVE",
        NOW,
        NOW + dt.timedelta(days=14),
    )
    assert await _new_steps(city_db, need_id, before) == [
        ("OPEN", "PLEDGED", lks.organization_id, None)
    ]
    for actor, whose in ((other, "another organisation"), (lks, "your organisation")):
        async with city_db.sessions() as session:
            with pytest.raises(NeedError) as caught:
                await pledge_need(session, actor=actor, need_id=need_id, now=NOW)
        assert caught.value.code is NeedErrorCode.NEED_ALREADY_PLEDGED
        assert whose in caught.value.message


@pytest.mark.parametrize("days", [0, -1, 91])
async def test_pledge_lifetime_is_bounded(shared_city_db: City, days: int) -> None:
    async with shared_city_db.sessions() as session:
        with pytest.raises(NeedError) as caught:
            await pledge_need(
                session,
                actor=(await shared_city_db.foundations(1))[0],
                need_id=await shared_city_db.need_in("OPEN"),
                now=NOW,
                ttl=dt.timedelta(days=days),
            )
    assert caught.value.code is NeedErrorCode.INVALID_INPUT


async def test_release_reopens_the_need(city_db: City) -> None:
    need_id = await city_db.need_in("PLEDGED")
    holder = await city_db.pledger(need_id)
    stranger = await city_db.other_foundation(holder)
    before = len(await _history(city_db, need_id))
    async with city_db.sessions() as session:
        with pytest.raises(NeedError) as caught:
            await release_pledge(session, actor=stranger, need_id=need_id, reason="x", now=NOW)
        assert caught.value.code is NeedErrorCode.NEED_NOT_HELD
        with pytest.raises(NeedError) as caught:
            await release_pledge(session, actor=holder, need_id=need_id, reason=" ", now=NOW)
        assert caught.value.code is NeedErrorCode.INVALID_INPUT
        await session.rollback()
    async with city_db.sessions() as session, session.begin():
        need = await release_pledge(
            session, actor=holder, need_id=need_id, reason="Dana belum tersedia", now=NOW
        )
        assert (need.status, need.holder_organization_id) == ("OPEN", None)
    pledges = await city_db.all(
        select(Pledge.status, Pledge.ended_at).where(
            Pledge.need_id == need_id, Pledge.organization_id == holder.organization_id
        )
    )
    assert ("RELEASED", NOW) in [tuple(p) for p in pledges]
    assert not [p for p in pledges if p.status == "ACTIVE"]
    assert await _new_steps(city_db, need_id, before) == [
        ("PLEDGED", "OPEN", holder.organization_id, "Dana belum tersedia")
    ]


async def test_an_agency_may_release_a_foundations_pledge(city_db: City) -> None:
    need_id = await city_db.need_in("PLEDGED")
    async with city_db.sessions() as session, session.begin():
        need = await release_pledge(
            session,
            actor=await city_db.org("DINSOS"),
            need_id=need_id,
            reason="Tidak ada kabar",
            now=NOW,
        )
    assert need.status == "OPEN"


async def test_close_fulfilled_ends_the_pledge(city_db: City) -> None:
    need_id = await city_db.need_in("PLEDGED")
    holder = await city_db.pledger(need_id)
    before = len(await _history(city_db, need_id))
    async with city_db.sessions() as session, session.begin():
        need = await close_need(
            session,
            actor=holder,
            need_id=need_id,
            outcome=CloseOutcome.FULFILLED,
            reason=None,
            now=NOW,
        )
    assert (need.status, need.fulfilled_at, need.holder_organization_id) == (
        "FULFILLED",
        NOW,
        holder.organization_id,
    )
    assert (
        await city_db.scalar(
            select(Pledge.status).where(
                Pledge.need_id == need_id,
                Pledge.organization_id == holder.organization_id,
                Pledge.ended_at == NOW,
            )
        )
        == "FULFILLED"
    )
    assert await _new_steps(city_db, need_id, before) == [
        ("PLEDGED", "FULFILLED", holder.organization_id, None)
    ]


async def test_close_fulfilled_of_a_referred_need_by_its_agency(city_db: City) -> None:
    need_id = await city_db.need_in("REFERRED")
    agency_id = (await city_db.need(need_id)).holder_organization_id
    assert agency_id is not None
    async with city_db.sessions() as session, session.begin():
        need = await close_need(
            session,
            actor=Actor(agency_id),
            need_id=need_id,
            outcome=CloseOutcome.FULFILLED,
            reason="Sudah terdaftar PBI-JK",
            now=NOW,
        )
    assert need.status == "FULFILLED"


async def test_close_no_longer_needed(city_db: City) -> None:
    dinsos = await city_db.org("DINSOS")
    open_id = await city_db.need_in("OPEN")
    pledged_id = await city_db.need_in("PLEDGED")
    holder = await city_db.pledger(pledged_id)
    stranger = await city_db.other_foundation(holder)
    async with city_db.sessions() as session:
        with pytest.raises(NeedError) as caught:
            await close_need(
                session,
                actor=dinsos,
                need_id=open_id,
                outcome=CloseOutcome.NO_LONGER_NEEDED,
                reason=None,
                now=NOW,
            )
        assert caught.value.code is NeedErrorCode.INVALID_INPUT
        for need_id in (open_id, pledged_id):
            with pytest.raises(NeedError) as caught:
                await close_need(
                    session,
                    actor=stranger,
                    need_id=need_id,
                    outcome=CloseOutcome.NO_LONGER_NEEDED,
                    reason="x",
                    now=NOW,
                )
            assert caught.value.code is NeedErrorCode.NEED_NOT_HELD
        await session.rollback()
    async with city_db.sessions() as session, session.begin():
        closed = await close_need(
            session,
            actor=dinsos,
            need_id=open_id,
            outcome=CloseOutcome.NO_LONGER_NEEDED,
            reason="Pindah ke luar kota",
            now=NOW,
        )
        assert (closed.status, closed.closed_at) == ("CLOSED", NOW)
        closed = await close_need(
            session,
            actor=holder,
            need_id=pledged_id,
            outcome=CloseOutcome.NO_LONGER_NEEDED,
            reason="Sudah terbantu dari sumber lain",
            now=NOW,
        )
        assert closed.status == "CLOSED"
    assert (
        await city_db.scalar(
            select(func.count()).where(Pledge.need_id == pledged_id, Pledge.status == "ACTIVE")
        )
        == 0
    )
    assert (
        await city_db.scalar(
            select(Pledge.status).where(Pledge.need_id == pledged_id, Pledge.ended_at == NOW)
        )
        == "RELEASED"
    )


async def test_the_reporter_may_close_a_need_nobody_holds(city_db: City) -> None:
    lks = (await city_db.foundations(1))[0]
    async with city_db.sessions() as session, session.begin():
        need = await report_need(
            session,
            actor=lks,
            citizen_id=1,
            category_code="FOOD",
            ppks_code=None,
            description="Kekurangan pangan",
            severity=2,
            now=NOW,
        )
        closed = await close_need(
            session,
            actor=lks,
            need_id=need.id,
            outcome=CloseOutcome.NO_LONGER_NEEDED,
            reason="Salah input",
            now=NOW,
        )
    assert closed.status == "CLOSED"


async def test_a_whole_journey_is_told_by_the_timeline(city_db: City) -> None:
    dinkes, dinsos = await city_db.org("DINKES"), await city_db.org("DINSOS")
    first, second = await city_db.foundations(2)
    t = [NOW + dt.timedelta(hours=h) for h in range(6)]
    async with city_db.sessions() as session, session.begin():
        need = await report_need(
            session,
            actor=dinkes,
            citizen_id=5,
            category_code="HEALTH",
            ppks_code=None,
            description="Kontrol rutin hipertensi",
            severity=3,
            now=t[0],
        )
        need_id = need.id
        await verify_need(session, actor=dinsos, need_id=need_id, note="Valid", now=t[1])
        await pledge_need(session, actor=first, need_id=need_id, now=t[2])
        await release_pledge(session, actor=first, need_id=need_id, reason="Batal", now=t[3])
        await pledge_need(session, actor=second, need_id=need_id, now=t[4])
        await close_need(
            session,
            actor=second,
            need_id=need_id,
            outcome=CloseOutcome.FULFILLED,
            reason=None,
            now=t[5],
        )
    async with city_db.sessions() as session:
        timeline = await need_timeline(session, need_id=need_id)
    codes = {dinkes.organization_id: "DINKES", dinsos.organization_id: "DINSOS"}
    assert [(e.changed_at, e.from_status, e.to_status, e.note) for e in timeline] == [
        (t[0], None, "REPORTED", None),
        (t[1], "REPORTED", "VERIFIED", "Valid"),
        (t[1], "VERIFIED", "OPEN", None),
        (t[2], "OPEN", "PLEDGED", None),
        (t[3], "PLEDGED", "OPEN", "Batal"),
        (t[4], "OPEN", "PLEDGED", None),
        (t[5], "PLEDGED", "FULFILLED", None),
    ]
    assert [e.organization_id for e in timeline] == [
        dinkes.organization_id,
        dinsos.organization_id,
        dinsos.organization_id,
        first.organization_id,
        first.organization_id,
        second.organization_id,
        second.organization_id,
    ]
    assert [codes.get(e.organization_id or 0) for e in timeline[:3]] == [
        e.organization_code for e in timeline[:3]
    ]
    stored = await city_db.need(need_id)
    assert (stored.opened_at, stored.fulfilled_at) == (t[1], t[5])
    assert await city_db.scalar(select(func.count()).where(Pledge.need_id == need_id)) == 2


async def test_a_seeded_timeline_reads_oldest_first(city_db: City) -> None:
    need_id = await city_db.need_in("FULFILLED")
    async with city_db.sessions() as session:
        timeline = await need_timeline(session, need_id=need_id)
    assert timeline[0].from_status is None
    assert timeline[-1].to_status == "FULFILLED"
    assert [e.changed_at for e in timeline] == sorted(e.changed_at for e in timeline)
    assert all(a.to_status == b.from_status for a, b in itertools.pairwise(timeline))


async def test_services_do_not_commit(city_db: City) -> None:
    need_id = await city_db.need_in("OPEN")
    lks = (await city_db.foundations(1))[0]
    async with city_db.sessions() as session:
        await pledge_need(session, actor=lks, need_id=need_id, now=NOW)
        await release_pledge(session, actor=lks, need_id=need_id, reason="x", now=NOW)
        await pledge_need(session, actor=lks, need_id=need_id, now=NOW)
        await session.rollback()
    assert (await city_db.need(need_id)).status == "OPEN"
    assert (
        await city_db.scalar(
            select(func.count()).where(Pledge.need_id == need_id, Pledge.pledged_at == NOW)
        )
        == 0
    )
    assert (
        await city_db.scalar(
            select(func.count()).where(
                NeedStatusChange.need_id == need_id, NeedStatusChange.changed_at == NOW
            )
        )
        == 0
    )
