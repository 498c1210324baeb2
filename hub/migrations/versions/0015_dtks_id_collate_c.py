"""DTKS ids compared byte by byte on PostgreSQL (COLLATE "C")

A first DTKS import of the city rebuilds the households' unique index on 805,000 DTKS ids
(`hub.imports.bulk`); under the database's collation (C.UTF-8, strcoll for every
comparison) that sort costs several times a bytewise one, as the NIKs' did (0013). A DTKS
id is only ever looked up by equality (an import's join with its staged rows, which are
COLLATE "C" already, and an agency's push), never ordered for a reader, and equality is
the same under every deterministic collation: nothing a reader sees changes. SQLite
compares text bytewise already: nothing to do there.

Revision ID: 0015_dtks_id_collate_c
Revises: 0014_covering_rule_indexes
Create Date: 2026-12-02 02:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_dtks_id_collate_c"
down_revision: str | None = "0014_covering_rule_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column(
        "households",
        "dtks_id",
        type_=sa.String(32, collation="C"),
        existing_type=sa.String(32),
        existing_nullable=True,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column(
        "households",
        "dtks_id",
        type_=sa.String(32),
        existing_type=sa.String(32, collation="C"),
        existing_nullable=True,
    )
