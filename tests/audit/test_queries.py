"""Auditors' queries: filtered lists, who accessed a citizen, the integrity status."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.checkpoints import Sealer
from hub.audit.events import CitizenAccess
from hub.audit.queries import (
    EventFilter,
    access_report,
    access_report_query,
    integrity_status,
    list_events,
)
from hub.audit.recorder import append
from hub.db import transaction
from tests.audit.conftest import START, make_event, tamper


async def _populate(sessions: async_sessionmaker[AsyncSession], sealer: Sealer) -> None:
    """Ten events: two organisations, one denial, citizen 42 in three of them."""
    events = []
    for n in range(1, 11):
        org = "DINKES" if n % 2 else "LKS-0001"
        citizens = (
            (CitizenAccess(42, ("nik",) if n < 5 else ("fullName", "phone")),)
            if n in (2, 5, 9)
            else ()
        )
        event = make_event(
            n,
            organization_code=org,
            client_id=f"{org.lower()}-app",
            decision="DENIED" if n == 7 else "ALLOWED",
            operation_name="CitizenProfile" if n in (2, 5, 9) else "Needs",
            purpose="ELIGIBILITY_CHECK" if n == 5 else "SERVICE_DELIVERY",
        )
        events.append(replace(event, citizens=citizens))
    async with transaction(sessions) as session:
        await append(session, events, sealer=sealer)


async def test_list_events_filters_and_pages(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await _populate(sessions, sealer)
    async with transaction(sessions) as session:
        page = await list_events(session, first=4)
        assert [e.seq for e in page.rows] == [10, 9, 8, 7] and page.has_next
        rest = await list_events(session, first=10, after=page.end_cursor)
        assert [e.seq for e in rest.rows] == [6, 5, 4, 3, 2, 1] and not rest.has_next

        async def seqs(**conditions: object) -> list[int]:
            """The seqs listed under `conditions`."""
            result = await list_events(session, filters=EventFilter(**conditions), first=50)  # type: ignore[arg-type]
            return [e.seq for e in result.rows]

        assert await seqs(organization_code="DINKES") == [9, 7, 5, 3, 1]
        assert await seqs(client_id="lks-0001-app", operation_name="CitizenProfile") == [2]
        assert await seqs(decision="DENIED") == [7]
        assert await seqs(citizen_id=42) == [9, 5, 2]
        assert await seqs(
            since=START + dt.timedelta(seconds=3), until=START + dt.timedelta(seconds=6)
        ) == [5, 4, 3]


async def test_access_report_lists_who_saw_what(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await _populate(sessions, sealer)
    async with transaction(sessions) as session:
        report = await access_report(session, citizen_id=42)
        assert [(a.seq, a.organization_code, a.purpose, a.fields) for a in report] == [
            (9, "DINKES", "SERVICE_DELIVERY", ["fullName", "phone"]),
            (5, "DINKES", "ELIGIBILITY_CHECK", ["fullName", "phone"]),
            (2, "LKS-0001", "SERVICE_DELIVERY", ["nik"]),
        ]
        assert report[0].occurred_at == START + dt.timedelta(seconds=9)
        assert [a.seq for a in await access_report(session, citizen_id=42, first=1, after=9)] == [5]
        assert await access_report(session, citizen_id=43) == []


async def test_access_report_reads_the_citizen_index(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await _populate(sessions, sealer)
    async with transaction(sessions) as session:
        dialect = session.get_bind().dialect
        compiled = access_report_query(citizen_id=42).compile(
            dialect=dialect, compile_kwargs={"literal_binds": True}
        )
        if dialect.name == "postgresql":
            # Small tables favour sequential scans; the planner's choice at scale is what counts.
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join((await session.scalars(text(f"EXPLAIN {compiled}"))).all())
        else:
            rows = (await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
            plan = "\n".join(str(row[-1]) for row in rows)
    assert "ix_audit_event_citizens_citizen_id_event_seq" in plan, plan


async def test_integrity_status(sessions: async_sessionmaker[AsyncSession], sealer: Sealer) -> None:
    await _populate(sessions, sealer)  # one append of ten: sealed at 10
    async with transaction(sessions) as session:
        await append(session, [make_event(11)], sealer=sealer)
    async with transaction(sessions) as session:
        status = await integrity_status(session, verifiers=sealer.verifiers, origin=sealer.origin)
    assert status.ok and status.last_seq == 11 and status.unsealed == 1
    assert (status.last_checkpoint_seq, status.verified_from_seq) == (10, 10)
    assert status.last_checkpoint_note and status.last_checkpoint_note.startswith(sealer.origin)

    await tamper(sessions, "UPDATE audit_events SET reason = 'x' WHERE seq = 3")
    async with transaction(sessions) as session:
        quick = await integrity_status(session, verifiers=sealer.verifiers, origin=sealer.origin)
        full = await integrity_status(
            session, verifiers=sealer.verifiers, origin=sealer.origin, full=True
        )
    assert quick.ok  # the cheap check starts at the last checkpoint
    assert not full.ok and full.verification.first_bad_seq == 3
