"""Between events, table rows and the canonical form that is hashed and exported."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.chain import CANONICAL_FIELDS, event_hash, format_time
from hub.audit.events import AuditEvent
from hub.audit.models import event_citizens_table, events_table

#: Columns of `audit_events` that appear unchanged in the canonical form.
_PLAIN_COLUMNS = tuple(
    name
    for name in CANONICAL_FIELDS
    if name not in ("occurred_at", "citizens", "roles", "seq", "prev_hash")
)

#: Events read per query when walking the chain.
PAGE = 2000


def canonical_record(event: AuditEvent, *, seq: int, prev_hash: str) -> dict[str, Any]:
    """The canonical form of `event` at position `seq` after `prev_hash`."""
    return {
        "seq": seq,
        "prev_hash": prev_hash,
        "occurred_at": format_time(event.occurred_at),
        "kind": event.kind,
        "request_id": event.request_id,
        "client_id": event.client_id,
        "organization_code": event.organization_code,
        "roles": list(event.roles),
        "token_id": event.token_id,
        "source_address": event.source_address,
        "purpose": event.purpose,
        "operation_type": event.operation_type,
        "operation_name": event.operation_name,
        "document_sha256": event.document_sha256,
        "variables": event.variables,
        "decision": event.decision,
        "reason": event.reason,
        "citizens": [
            {"citizen_id": access.citizen_id, "fields": list(access.fields)}
            for access in event.citizens
        ],
        "citizen_count": len(event.citizens),
        "result_size": event.result_size,
        "duration_us": event.duration_us,
    }


def chained_rows(
    events: list[AuditEvent], *, first_seq: int, prev_hash: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Rows of `audit_events` and `audit_event_citizens` for `events`, and the last hash."""
    event_rows: list[dict[str, Any]] = []
    citizen_rows: list[dict[str, Any]] = []
    for offset, event in enumerate(events):
        seq = first_seq + offset
        record = canonical_record(event, seq=seq, prev_hash=prev_hash)
        prev_hash = event_hash(record)
        row = {name: record[name] for name in _PLAIN_COLUMNS}
        row.update(
            seq=seq,
            prev_hash=record["prev_hash"],
            hash=prev_hash,
            occurred_at=event.occurred_at,
            roles=record["roles"],
        )
        event_rows.append(row)
        citizen_rows.extend(
            {"event_seq": seq, "citizen_id": access.citizen_id, "fields": list(access.fields)}
            for access in event.citizens
        )
    return event_rows, citizen_rows, prev_hash


def record_from_row(row: Mapping[Any, Any], citizens: list[dict[str, Any]]) -> dict[str, Any]:
    """The canonical form (plus `hash`) of a stored event row and its citizen rows."""
    record = {name: row[name] for name in _PLAIN_COLUMNS}
    record.update(
        seq=row["seq"],
        prev_hash=row["prev_hash"],
        occurred_at=format_time(row["occurred_at"]),
        roles=row["roles"],
        citizens=citizens,
        hash=row["hash"],
    )
    return record


async def iter_records(
    session: AsyncSession, *, from_seq: int = 1, to_seq: int | None = None, page: int = PAGE
) -> AsyncGenerator[dict[str, Any]]:
    """Stored events from `from_seq` to `to_seq` in seq order, as canonical records + `hash`.

    Pages are read by keyset (never OFFSET) and the citizens of a page in one query, so the
    walk costs two statements per page whatever the length of the chain.
    """
    columns = events_table.c
    citizens_table = event_citizens_table.c
    after = from_seq - 1
    while True:
        query = select(events_table).where(columns.seq > after).order_by(columns.seq).limit(page)
        if to_seq is not None:
            query = query.where(columns.seq <= to_seq)
        rows = (await session.execute(query)).mappings().all()
        if not rows:
            return
        low, high = rows[0]["seq"], rows[-1]["seq"]
        grouped: dict[int, list[dict[str, Any]]] = {}
        citizen_query = (
            select(citizens_table.event_seq, citizens_table.citizen_id, citizens_table.fields)
            .where(citizens_table.event_seq.between(low, high))
            .order_by(citizens_table.event_seq, citizens_table.citizen_id)
        )
        for event_seq, citizen_id, fields in (await session.execute(citizen_query)).all():
            grouped.setdefault(event_seq, []).append({"citizen_id": citizen_id, "fields": fields})
        for row in rows:
            yield record_from_row(row, grouped.get(row["seq"], []))
        after = high
        if len(rows) < page:
            return
