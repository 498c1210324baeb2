"""Audit trail tables: events, the citizens each event touched, checkpoints, the chain head.

The tables carry no foreign keys to the registry: the trail must outlive the clients,
organisations and citizens it mentions, and must never block a deletion elsewhere.

`seq` is assigned by the appender (previous seq + 1, under the chain-head lock), never by the
database, because the hash chain needs a gap-free order known before the row is written.
Migration 0005 adds triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on
`audit_events`, `audit_event_citizens` and `audit_checkpoints`; archiving is the one delete
path (see `hub.audit.archive`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime

EVENT_KINDS = ("GRAPHQL", "TOKEN", "ADMIN")
DECISIONS = ("ALLOWED", "DENIED")


class AuditEventRecord(Base):
    """One operation, allowed or denied, as appended to the chain."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("kind IN ('GRAPHQL', 'TOKEN', 'ADMIN')", name="kind"),
        CheckConstraint("decision IN ('ALLOWED', 'DENIED')", name="decision"),
        Index(None, "occurred_at"),
        Index(None, "organization_code", "seq"),
        Index(None, "client_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: SHA-256 (hex) of the previous event; 64 zeros before the first one.
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: SHA-256 (hex) of this event's canonical form (`hub.audit.chain`).
    hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(8))
    request_id: Mapped[str | None] = mapped_column(String(64))
    #: The OAuth2 `client_id` (not the row id: the trail outlives the client row).
    client_id: Mapped[str | None] = mapped_column(String(64))
    organization_code: Mapped[str | None] = mapped_column(String(24))
    roles: Mapped[list[str]] = mapped_column(JSON)
    #: The access token's `jti`, when the caller presented one.
    token_id: Mapped[str | None] = mapped_column(String(64))
    source_address: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(24))
    #: `query`, `mutation`, `subscription`; for other kinds what was asked (`token`, `cli`).
    operation_type: Mapped[str | None] = mapped_column(String(16))
    operation_name: Mapped[str | None] = mapped_column(String(120))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    #: The variables with every personal value replaced by a keyed hash (`hub.audit.redact`).
    variables: Mapped[Any] = mapped_column(JSON, nullable=True)
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(200))
    #: How many citizens' personal fields the response held (rows in `audit_event_citizens`).
    citizen_count: Mapped[int] = mapped_column(Integer)
    #: Bytes of the response body.
    result_size: Mapped[int | None] = mapped_column(BigInteger)
    duration_us: Mapped[int | None] = mapped_column(BigInteger)


class AuditEventCitizen(Base):
    """A citizen whose personal fields one event returned, and which fields.

    A narrow table so that "who saw this person" is an index range scan at city scale; its
    rows are part of the event's hash, so one cannot be added or dropped unnoticed.
    """

    __tablename__ = "audit_event_citizens"
    __table_args__ = (Index(None, "citizen_id", "event_seq"),)

    event_seq: Mapped[int] = mapped_column(
        ForeignKey("audit_events.seq"), primary_key=True, autoincrement=False
    )
    citizen_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: GraphQL field names, sorted: `["birthDate", "fullName", "nik"]`.
    fields: Mapped[list[str]] = mapped_column(JSON)


class AuditCheckpoint(Base):
    """A signed statement that the chain's event `seq` has hash `last_hash`."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_hash: Mapped[str] = mapped_column(String(64))
    #: Events sealed by this checkpoint and not by the one before it.
    event_count: Mapped[int] = mapped_column(BigInteger)
    #: The C2SP signed note, signature lines included (`hub.audit.notes`).
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditChainHead(Base):
    """The single row every appender locks: where the chain ends and what is sealed.

    It is bookkeeping, not evidence: verification recomputes everything from the events
    and trusts only signed checkpoints; the head merely makes appends and seals cheap.
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_checkpoint_seq: Mapped[int] = mapped_column(BigInteger)
    #: When the last checkpoint was written; null until the first append starts the timer.
    last_checkpoint_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Events up to this seq were archived; the live chain continues from its hash.
    archived_through_seq: Mapped[int] = mapped_column(BigInteger)
    archived_through_hash: Mapped[str] = mapped_column(String(64))


def _table(model: type[Base]) -> Table:
    """The core table of a mapped class (typed, for core inserts and updates)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


events_table = _table(AuditEventRecord)
event_citizens_table = _table(AuditEventCitizen)
checkpoints_table = _table(AuditCheckpoint)
head_table = _table(AuditChainHead)
