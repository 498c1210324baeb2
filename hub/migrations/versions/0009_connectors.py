"""connectors: agencies' subgraphs the hub calls for the citizen fields they provide

Revision ID: 0009_connectors
Revises: 0008_events
Create Date: 2026-12-01 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0009_connectors"
down_revision: str | None = "0008_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("key_field", sa.String(length=8), nullable=False),
        sa.Column("timeout_ms", sa.Integer(), nullable=False),
        sa.Column("auth", sa.String(length=20), nullable=False),
        sa.Column("secret_ref", sa.String(length=200), nullable=True),
        sa.Column("token_url", sa.String(length=500), nullable=True),
        sa.Column("client_id", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "auth IN ('NONE', 'BEARER', 'CLIENT_CREDENTIALS')", name=op.f("ck_connectors_auth")
        ),
        sa.CheckConstraint("key_field IN ('nik', 'id')", name=op.f("ck_connectors_key_field")),
        sa.CheckConstraint("status IN ('ACTIVE', 'DISABLED')", name=op.f("ck_connectors_status")),
        sa.CheckConstraint(
            "timeout_ms BETWEEN 50 AND 30000", name=op.f("ck_connectors_timeout_ms")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_connectors_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectors")),
        sa.UniqueConstraint("name", name=op.f("uq_connectors_name")),
    )
    op.create_index(
        op.f("ix_connectors_organization_id"), "connectors", ["organization_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_connectors_organization_id"), table_name="connectors")
    op.drop_table("connectors")
