"""Writing an event: an outbox row in the change's transaction, a bus message after its commit.

`write()` inserts the `event_outbox` row with the caller's session, so the event commits or
rolls back with the change itself, and remembers a `BusMessage` on the session. A listener on
every `Session` publishes the remembered messages once the outermost transaction commits, on
the bus `attach()` put on the session factory, and forgets those of a savepoint that rolled
back (a mutation's expected error), or of a transaction that did not commit. Whatever the
path (a GraphQL mutation, the pledge sweep, a command), no message leaves before its commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from hub.events.bus import BusMessage, EventBus
from hub.events.models import EventRecord

#: `Session.info` keys: the bus to publish on, and the messages waiting for the commit.
BUS_KEY = "hub.events.bus"
_PENDING = "hub.events.pending"


def attach(sessions: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
    """Make every session of `sessions` publish its events on `bus` after commit."""
    sessions.configure(info={BUS_KEY: bus})


async def write(
    session: AsyncSession,
    *,
    rows: list[dict[str, Any]],
) -> list[int]:
    """Insert outbox rows (kind, need_id, organization_id, pledge_id, data, occurred_at);
    return their ids. Their bus messages leave after the transaction commits."""
    if not rows:
        return []
    # One executemany, returning the generated ids in the rows' order ("insertmanyvalues"
    # batches it into a few multi-row INSERTs on both backends).
    result = await session.execute(
        insert(EventRecord).returning(EventRecord.id, sort_by_parameter_order=True), rows
    )
    ids = list(result.scalars())
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    pending: list[tuple[SessionTransaction | None, BusMessage]] = sync.info.setdefault(_PENDING, [])
    for event_id, row in zip(ids, rows, strict=True):
        message = BusMessage(
            kind=row["kind"],
            need_id=row["need_id"],
            event_id=event_id,
            organization_id=row.get("organization_id"),
        )
        pending.append((transaction, message))
    return ids


def event_row(
    kind: str,
    need_id: int,
    data: dict[str, Any],
    *,
    at: dt.datetime,
    organization_id: int | None = None,
    pledge_id: int | None = None,
) -> dict[str, Any]:
    """The values of one outbox row."""
    return {
        "kind": kind,
        "need_id": need_id,
        "organization_id": organization_id,
        "pledge_id": pledge_id,
        "data": data,
        "occurred_at": at,
    }


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # SQLAlchemy reports a released savepoint as a commit too: not yet
    pending = session.info.pop(_PENDING, None)
    bus: EventBus | None = session.info.get(BUS_KEY)
    if pending and bus is not None:
        bus.publish_soon([message for _, message in pending])


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [p for p in pending if not _within(p[0], previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # after_commit has already taken what committed; anything left did not.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
