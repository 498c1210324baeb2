"""Read what the hub's audit trail recorded for one request (tests only)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hub.audit.models import AuditEventCitizen, AuditEventRecord
from hub.db import create_engine, session_factory


@dataclass(frozen=True)
class Recorded:
    """An audit event as the tests compare it."""

    decision: str
    reason: str | None
    purpose: str | None
    citizens: dict[int, list[str]]


async def event_of(database_url: str, request_id: str) -> Recorded:
    """The audit event of the request `request_id`, with the citizens it records."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            event = (
                await session.scalars(
                    select(AuditEventRecord).where(AuditEventRecord.request_id == request_id)
                )
            ).one()
            rows = await session.scalars(
                select(AuditEventCitizen).where(AuditEventCitizen.event_seq == event.seq)
            )
            citizens = {row.citizen_id: list(row.fields) for row in rows}
            return Recorded(event.decision, event.reason, event.purpose, citizens)
    finally:
        await engine.dispose()


async def events_of(database_url: str, request_id: str) -> list[Recorded]:
    """Every audit event recorded under `request_id` (a gateway's calls share one), in order."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            events = list(
                await session.scalars(
                    select(AuditEventRecord)
                    .where(AuditEventRecord.request_id == request_id)
                    .order_by(AuditEventRecord.seq)
                )
            )
            found = []
            for event in events:
                rows = await session.scalars(
                    select(AuditEventCitizen).where(AuditEventCitizen.event_seq == event.seq)
                )
                citizens = {row.citizen_id: list(row.fields) for row in rows}
                found.append(Recorded(event.decision, event.reason, event.purpose, citizens))
            return found
    finally:
        await engine.dispose()
