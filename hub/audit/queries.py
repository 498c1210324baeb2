"""What auditors ask: filtered event lists, who accessed a citizen, and integrity.

Lists are newest first with a keyset cursor on `seq` (`hub.pagination`, the same pager as
every other list), so a page costs the same at the start and deep into the log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.head import read_head
from hub.audit.models import AuditCheckpoint, AuditEventCitizen, AuditEventRecord
from hub.audit.notes import NoteVerifier
from hub.audit.verify import Verification, verify_database
from hub.db import utcnow
from hub.pagination import Page, SortKey, paginate, to_page


@dataclass(frozen=True, slots=True, kw_only=True)
class EventFilter:
    """Conditions on the events listed; every given one must hold."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    organization_code: str | None = None
    client_id: str | None = None
    operation_name: str | None = None
    operation_type: str | None = None
    decision: str | None = None
    kind: str | None = None
    #: Only events whose response held this citizen's personal fields.
    citizen_id: int | None = None


_events = AuditEventRecord.__table__

#: Newest first: the keyset order of event lists (`hub.pagination`).
EVENT_ORDER = (SortKey(_events.c.seq, "seq", descending=True),)
#: Newest first: the keyset order of a citizen's access report.
ACCESS_ORDER = (SortKey(AuditEventCitizen.__table__.c.event_seq, "seq", descending=True),)


def events_statement(filters: EventFilter) -> Select[Any]:
    """The events matching `filters`, unordered: page it in `EVENT_ORDER`."""
    c = _events.c
    statement = select(_events)
    if filters.since is not None:
        statement = statement.where(c.occurred_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(c.occurred_at < filters.until)
    for column, value in (
        (c.organization_code, filters.organization_code),
        (c.client_id, filters.client_id),
        (c.operation_name, filters.operation_name),
        (c.operation_type, filters.operation_type),
        (c.decision, filters.decision),
        (c.kind, filters.kind),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if filters.citizen_id is not None:
        statement = statement.where(
            exists().where(
                AuditEventCitizen.event_seq == c.seq,
                AuditEventCitizen.citizen_id == filters.citizen_id,
            )
        )
    return statement


async def list_events(
    session: AsyncSession,
    *,
    filters: EventFilter | None = None,
    first: int = 20,
    after: str | None = None,
) -> Page:
    """A page of events matching `filters`, newest first (`after`: a page's `end_cursor`)."""
    statement = paginate(
        events_statement(filters or EventFilter()), EVENT_ORDER, first=first, after=after
    )
    rows = (await session.execute(statement)).all()
    return to_page(rows, EVENT_ORDER, first=first, after=after)


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One access to a citizen's personal data: who, when, for what, which fields."""

    seq: int
    occurred_at: dt.datetime
    organization_code: str | None
    client_id: str | None
    roles: list[str]
    purpose: str | None
    operation_type: str | None
    operation_name: str | None
    decision: str
    fields: list[str]
    request_id: str | None


def access_report_query(
    *, citizen_id: int, first: int | None = None, after: int | None = None
) -> Select[Any]:
    """The accesses to `citizen_id`, newest first: a range of the (citizen_id, seq) index."""
    link = AuditEventCitizen
    event = AuditEventRecord
    query: Select[Any] = (
        select(  # type: ignore[assignment]
            event.seq,
            event.occurred_at,
            event.organization_code,
            event.client_id,
            event.roles,
            event.purpose,
            event.operation_type,
            event.operation_name,
            event.decision,
            link.fields,
            event.request_id,
        )
        .join(event, event.seq == link.event_seq)
        .where(link.citizen_id == citizen_id)
        .order_by(link.event_seq.desc())
    )
    if after is not None:
        query = query.where(link.event_seq < after)
    if first is not None:
        query = query.limit(first)
    return query


async def access_report(
    session: AsyncSession, *, citizen_id: int, first: int | None = None, after: int | None = None
) -> list[AccessEntry]:
    """Every recorded access to the personal data of `citizen_id` (or a page of them)."""
    rows = await session.execute(
        access_report_query(citizen_id=citizen_id, first=first, after=after)
    )
    return [AccessEntry(*row) for row in rows.all()]


@dataclass(frozen=True, slots=True)
class IntegrityStatus:
    """The chain's end, its last checkpoint, and what verifying it found."""

    checked_at: dt.datetime
    last_seq: int
    last_checkpoint_seq: int | None
    last_checkpoint_at: dt.datetime | None
    last_checkpoint_note: str | None
    #: Events appended since the last checkpoint.
    unsealed: int
    archived_through_seq: int
    #: Where the verification started (0 or the anchor for a full run).
    verified_from_seq: int
    verification: Verification = field(repr=False)

    @property
    def ok(self) -> bool:
        """True when the verification found nothing wrong."""
        return self.verification.ok


async def integrity_status(
    session: AsyncSession,
    *,
    verifiers: list[NoteVerifier],
    origin: str,
    full: bool = False,
    now: dt.datetime | None = None,
) -> IntegrityStatus:
    """The integrity of the live chain: by default the last checkpoint and the events after
    it (cheap enough for every request of a dashboard), the whole chain with `full`."""
    head = await read_head(session)
    checkpoint = await session.scalar(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    )
    start = None
    if not full and checkpoint is not None and checkpoint.seq > head.archived_through_seq:
        start = checkpoint.seq
    verification = await verify_database(session, verifiers=verifiers, origin=origin, start=start)
    return IntegrityStatus(
        checked_at=now or utcnow(),
        last_seq=head.last_seq,
        last_checkpoint_seq=checkpoint.seq if checkpoint else None,
        last_checkpoint_at=checkpoint.created_at if checkpoint else None,
        last_checkpoint_note=checkpoint.note if checkpoint else None,
        unsealed=head.unsealed,
        archived_through_seq=head.archived_through_seq,
        verified_from_seq=verification.anchor_seq,
        verification=verification,
    )
