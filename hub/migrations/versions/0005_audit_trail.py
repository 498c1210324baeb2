"""audit trail: events, citizens touched, checkpoints, chain head, append-only triggers

Revision ID: 0005_audit
Revises: 0004_flags
Create Date: 2026-11-28 09:00:00.000000

The triggers make the audit tables append-only at the database level. On PostgreSQL, UPDATE,
DELETE and TRUNCATE are refused, except DELETE from events and their citizen rows inside a
transaction that ran `SET LOCAL hub.audit_archiving = 'on'` (`hub.audit.archive`). SQLite has
no session variables, so there a DELETE is allowed only for seqs up to
`audit_chain_head.archived_through_seq`, which the archiver raises first in the same
transaction. Alembic's SQLite batch mode rebuilds a table and drops its triggers: a later
migration that alters these tables must create them again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0005_audit"
down_revision: str | None = "0004_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("audit_events", "audit_event_citizens", "audit_checkpoints")

_PG_FUNCTION = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME <> 'audit_checkpoints'
            AND current_setting('hub.audit_archiving', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

# SQLite: which rows the archiver may delete (seq column, per table).
_SQLITE_DELETABLE = {
    "audit_events": "OLD.seq <= (SELECT archived_through_seq FROM audit_chain_head WHERE id = 1)",
    "audit_event_citizens": (
        "OLD.event_seq <= (SELECT archived_through_seq FROM audit_chain_head WHERE id = 1)"
    ),
    "audit_checkpoints": "0",
}


def upgrade() -> None:
    """Create the audit tables, the chain head row and the append-only triggers."""
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("last_checkpoint_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_checkpoint_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archived_through_seq", sa.BigInteger(), nullable=False),
        sa.Column("archived_through_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("organization_code", sa.String(length=24), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("token_id", sa.String(length=64), nullable=True),
        sa.Column("source_address", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=24), nullable=True),
        sa.Column("operation_type", sa.String(length=16), nullable=True),
        sa.Column("operation_name", sa.String(length=120), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=True),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("citizen_count", sa.Integer(), nullable=False),
        sa.Column("result_size", sa.BigInteger(), nullable=True),
        sa.Column("duration_us", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('ALLOWED', 'DENIED')", name=op.f("ck_audit_events_decision")
        ),
        sa.CheckConstraint(
            "kind IN ('GRAPHQL', 'TOKEN', 'ADMIN')", name=op.f("ck_audit_events_kind")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_client_id_seq"), ["client_id", "seq"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_organization_code_seq"),
            ["organization_code", "seq"],
            unique=False,
        )

    op.create_table(
        "audit_event_citizens",
        sa.Column("event_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("citizen_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            ["audit_events.seq"],
            name=op.f("fk_audit_event_citizens_event_seq_audit_events"),
        ),
        sa.PrimaryKeyConstraint("event_seq", "citizen_id", name=op.f("pk_audit_event_citizens")),
    )
    with op.batch_alter_table("audit_event_citizens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_event_citizens_citizen_id_event_seq"),
            ["citizen_id", "event_seq"],
            unique=False,
        )

    op.execute(
        "INSERT INTO audit_chain_head (id, last_seq, last_hash, last_checkpoint_seq, "
        "last_checkpoint_at, archived_through_seq, archived_through_hash) "
        f"VALUES (1, 0, '{'0' * 64}', 0, NULL, 0, '{'0' * 64}')"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for table in _TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )
    else:
        for table, deletable in _SQLITE_DELETABLE.items():
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"WHEN NOT ({deletable}) "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )


def downgrade() -> None:
    """Drop the triggers and the audit tables."""
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    else:
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    with op.batch_alter_table("audit_event_citizens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_citizens_citizen_id_event_seq"))

    op.drop_table("audit_event_citizens")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_organization_code_seq"))
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_client_id_seq"))

    op.drop_table("audit_events")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_chain_head")
