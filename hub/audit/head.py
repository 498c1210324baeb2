"""The chain-head row: the lock that serialises appenders, and where the chain ends.

Every appender starts with one UPDATE of the single `audit_chain_head` row. On PostgreSQL
the row lock it takes is held until the transaction ends, so appenders in any number of
processes queue behind each other and each sees the committed end of the chain (under READ
COMMITTED the waiting UPDATE re-reads the row once the lock is free). On SQLite the UPDATE
takes the database write lock, which serialises the same way; starting with a write
rather than a read also avoids SQLite's unrecoverable lock-upgrade error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.audit.models import head_table as _HEAD


class AuditChainError(RuntimeError):
    """The chain cannot be appended to (its head row is missing: run `hub db upgrade`)."""


@dataclass(frozen=True, slots=True)
class Head:
    """A snapshot of the chain head."""

    last_seq: int
    last_hash: str
    last_checkpoint_seq: int
    last_checkpoint_at: dt.datetime | None
    archived_through_seq: int
    archived_through_hash: str

    @property
    def unsealed(self) -> int:
        """Events appended since the last checkpoint."""
        return self.last_seq - self.last_checkpoint_seq


#: The head's columns a `Head` is made of (`head_of`).
HEAD_COLUMNS = (
    "last_seq",
    "last_hash",
    "last_checkpoint_seq",
    "last_checkpoint_at",
    "archived_through_seq",
    "archived_through_hash",
)


def head_of(row: Any) -> Head:
    """A `Head` from a result row of the head table."""
    return Head(
        last_seq=row.last_seq,
        last_hash=row.last_hash,
        last_checkpoint_seq=row.last_checkpoint_seq,
        last_checkpoint_at=row.last_checkpoint_at,
        archived_through_seq=row.archived_through_seq,
        archived_through_hash=row.archived_through_hash,
    )


async def read_head(session: AsyncSession | AsyncConnection) -> Head:
    """The head as this transaction (or statement, in autocommit) sees it, without locking it."""
    row = (await session.execute(select(_HEAD).where(_HEAD.c.id == 1))).first()
    if row is None:
        raise AuditChainError("the audit chain head is missing; run `hub db upgrade`")
    return head_of(row)


async def lock_head(session: AsyncSession, *, reserve: int = 0) -> Head:
    """Lock the head until the transaction ends, reserving `reserve` seqs; return it before.

    The returned `last_seq`/`last_hash` are those before the reservation: the new events
    take seqs `last_seq + 1 … last_seq + reserve` and chain from `last_hash`.
    """
    statement = (
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(last_seq=_HEAD.c.last_seq + reserve)
        .returning(*_HEAD.c)
    )
    row = (await session.execute(statement)).first()
    if row is None:
        raise AuditChainError("the audit chain head is missing; run `hub db upgrade`")
    head = head_of(row)
    # RETURNING gives the row after the update; report the chain end before the reservation.
    return Head(
        last_seq=head.last_seq - reserve,
        last_hash=head.last_hash,
        last_checkpoint_seq=head.last_checkpoint_seq,
        last_checkpoint_at=head.last_checkpoint_at,
        archived_through_seq=head.archived_through_seq,
        archived_through_hash=head.archived_through_hash,
    )


async def update_head(session: AsyncSession, **values: Any) -> None:
    """Set columns of the (locked) head row."""
    await session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(**values))
