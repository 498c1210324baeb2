"""Duplicate aid ("tepat sasaran"): warnings from programme enrolments and other contributions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, insert, select

from hub.actor import Actor
from hub.contributions.models import Contribution
from hub.contributions.service import RecordResult, record_contribution
from hub.duplicate_aid.models import DuplicateAidFlag
from hub.ids import contribution_ref
from hub.needs.models import Need
from hub.needs.service import pledge_need, report_need, verify_need
from hub.organizations.models import Organization
from hub.programs.models import Enrolment, Program
from hub.registry.models import Citizen
from tests.support.city import NOW, City

TODAY = dt.date(2026, 11, 1)


async def _citizen_without_help(city_db: City, category: str) -> int:
    """A citizen with no enrolment, contribution or need in `category`."""
    enrolled = (
        select(Enrolment.citizen_id)
        .join(Program, Program.code == Enrolment.program_code)
        .where(Program.category_code == category)
    )
    given = select(Contribution.citizen_id).where(Contribution.category_code == category)
    citizen_id = await city_db.scalar(
        select(func.min(Citizen.id)).where(
            Citizen.id.not_in(enrolled),
            Citizen.id.not_in(given),
            Citizen.id.not_in(select(Need.citizen_id)),
        )
    )
    assert citizen_id is not None
    return int(citizen_id)


async def _open_need(city_db: City, citizen_id: int, category: str) -> int:
    async with city_db.sessions() as session, session.begin():
        need = await report_need(
            session,
            actor=await city_db.org("DINKES"),
            citizen_id=citizen_id,
            category_code=category,
            ppks_code=None,
            description="Kontrol rutin",
            severity=2,
            now=NOW,
        )
        await verify_need(
            session, actor=await city_db.org("DINSOS"), need_id=need.id, note=None, now=NOW
        )
        return need.id


async def _enrol(
    city_db: City, citizen_id: int, programme: str, started: dt.date, ended: dt.date | None
) -> int:
    async with city_db.sessions() as session, session.begin():
        result = await session.execute(
            insert(Enrolment)
            .values(
                citizen_id=citizen_id, program_code=programme, started_on=started, ended_on=ended
            )
            .returning(Enrolment.id)
        )
        return int(result.scalar_one())


async def _flags(city_db: City, **where: Any) -> list[Any]:
    conditions = [getattr(DuplicateAidFlag, name) == value for name, value in where.items()]
    return await city_db.all(
        select(DuplicateAidFlag).where(*conditions).order_by(DuplicateAidFlag.id)
    )


async def test_pledging_for_someone_enrolled_in_a_programme_warns_and_flags(city_db: City) -> None:
    citizen_id = await _citizen_without_help(city_db, "HEALTH")
    enrolment_id = await _enrol(city_db, citizen_id, "PBI_JK", dt.date(2024, 1, 3), None)
    need_id = await _open_need(city_db, citizen_id, "HEALTH")
    lks = (await city_db.foundations(1))[0]
    async with city_db.sessions() as session, session.begin():
        result = await pledge_need(session, actor=lks, need_id=need_id, now=NOW)
    assert [
        (w.kind, w.program_code, w.enrolment_id, w.organization_code, w.on) for w in result.warnings
    ] == [("ENROLMENT", "PBI_JK", enrolment_id, "DINKES", dt.date(2024, 1, 3))]
    assert result.warnings[0].message == (
        "the citizen is enrolled in PBI_JK (DINKES) since 2024-01-03, a HEALTH programme"
    )
    (flag,) = [row[0] for row in await _flags(city_db, need_id=need_id)]
    assert (flag.pledge_id, flag.contribution_id, flag.citizen_id, flag.category_code) == (
        result.pledge.id,
        None,
        citizen_id,
        "HEALTH",
    )
    assert (flag.organization_id, flag.found_kind, flag.found_enrolment_id, flag.reviewed_at) == (
        lks.organization_id,
        "ENROLMENT",
        enrolment_id,
        None,
    )


async def test_an_enrolment_that_ended_outside_the_window_does_not_count(city_db: City) -> None:
    citizen_id = await _citizen_without_help(city_db, "HEALTH")
    await _enrol(city_db, citizen_id, "PBI_JK", dt.date(2020, 1, 1), TODAY - dt.timedelta(days=91))
    recent = await _enrol(
        city_db, citizen_id, "PBI_JK", dt.date(2021, 1, 1), TODAY - dt.timedelta(days=89)
    )
    await _enrol(city_db, citizen_id, "PIP", dt.date(2021, 1, 1), None)  # another category
    need_id = await _open_need(city_db, citizen_id, "HEALTH")
    async with city_db.sessions() as session, session.begin():
        result = await pledge_need(
            session, actor=(await city_db.foundations(1))[0], need_id=need_id, now=NOW
        )
    assert [w.enrolment_id for w in result.warnings] == [recent]


async def test_a_pledge_without_earlier_help_has_no_warning(city_db: City) -> None:
    citizen_id = await _citizen_without_help(city_db, "HOUSING")
    need_id = await _open_need(city_db, citizen_id, "HOUSING")
    async with city_db.sessions() as session, session.begin():
        result = await pledge_need(
            session, actor=(await city_db.foundations(1))[0], need_id=need_id, now=NOW
        )
    assert result.warnings == []
    assert await _flags(city_db, need_id=need_id) == []


async def _give(
    city_db: City,
    actor: Actor,
    citizen_id: int,
    day: dt.date,
    key: str,
    need_id: int | None = None,
    category: str = "HOUSING",
) -> RecordResult:
    async with city_db.sessions() as session, session.begin():
        return await record_contribution(
            session,
            actor=actor,
            citizen_id=citizen_id,
            need_id=need_id,
            category_code=category,
            kind="IN_KIND",
            amount_rupiah=650_000,
            quantity=10,
            unit="sak",
            delivered_on=day,
            evidence_sha256=None,
            idempotency_key=key,
            now=NOW,
        )


async def test_a_contribution_after_another_organisations_warns_within_the_window(
    city_db: City,
) -> None:
    citizen_id = await _citizen_without_help(city_db, "HOUSING")
    first_org, second_org = await city_db.foundations(2)
    first = await _give(city_db, first_org, citizen_id, dt.date(2026, 8, 1), "a-1")
    assert first.warnings == []
    second = await _give(city_db, second_org, citizen_id, dt.date(2026, 10, 15), "b-1")
    assert second.created
    (warning,) = second.warnings
    first_code = await city_db.scalar(
        select(Organization.code).where(Organization.id == first_org.organization_id)
    )
    assert (warning.kind, warning.contribution_id, warning.organization_id, warning.on) == (
        "CONTRIBUTION",
        first.contribution_id,
        first_org.organization_id,
        dt.date(2026, 8, 1),
    )
    assert warning.organization_code == first_code
    assert warning.message.startswith(
        f"the citizen received contribution {contribution_ref(first.contribution_id)}"
    )
    (flag,) = [row[0] for row in await _flags(city_db, contribution_id=second.contribution_id)]
    assert (flag.found_kind, flag.found_contribution_id, flag.pledge_id, flag.need_id) == (
        "CONTRIBUTION",
        first.contribution_id,
        None,
        None,
    )
    # The retry reports the same warnings, from the flags, and writes no new flag.
    again = await _give(city_db, second_org, citizen_id, dt.date(2026, 10, 15), "b-1")
    assert (again.created, again.warnings) == (False, second.warnings)
    assert len(await _flags(city_db, contribution_id=second.contribution_id)) == 1
    # 92 days after the first: outside the window.
    late = await _give(
        city_db, second_org, citizen_id, dt.date(2026, 8, 1) + dt.timedelta(days=92), "b-2"
    )
    assert [w.contribution_id for w in late.warnings] == [second.contribution_id]


async def test_instalments_against_one_need_are_not_duplicates(city_db: City) -> None:
    citizen_id = await _citizen_without_help(city_db, "HOUSING")
    need_id = await _open_need(city_db, citizen_id, "HOUSING")
    lks = (await city_db.foundations(1))[0]
    async with city_db.sessions() as session, session.begin():
        await pledge_need(session, actor=lks, need_id=need_id, now=NOW)
    first = await _give(city_db, lks, citizen_id, dt.date(2026, 10, 20), "i-1", need_id)
    second = await _give(city_db, lks, citizen_id, dt.date(2026, 10, 27), "i-2", need_id)
    assert first.warnings == second.warnings == []
    # A gift outside the need does see them.
    gift = await _give(city_db, lks, citizen_id, dt.date(2026, 10, 28), "i-3")
    assert {w.contribution_id for w in gift.warnings} == {
        first.contribution_id,
        second.contribution_id,
    }
