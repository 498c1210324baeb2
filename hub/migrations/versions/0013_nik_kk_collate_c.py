"""NIK and KK numbers compared byte by byte on PostgreSQL (COLLATE "C")

A first DTKS import of the city rebuilds the registry's unique indexes on 2.6 million NIKs
and 800,000 KK numbers (`hub.imports.bulk`); under the database's collation (C.UTF-8,
strcoll for every comparison) that sort was several times slower than bytewise. Digits
order the same under every collation, so nothing a reader sees changes. SQLite compares
text bytewise already: nothing to do there.

Revision ID: 0013_nik_kk_collate_c
Revises: 0012_needs_ppks_index
Create Date: 2026-12-01 13:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_nik_kk_collate_c"
down_revision: str | None = "0012_needs_ppks_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("citizens", "nik"), ("households", "kk_number"), ("household_kk_numbers", "kk_number"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(
            table, column, type_=sa.String(16, collation="C"), existing_type=sa.String(16)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(
            table, column, type_=sa.String(16), existing_type=sa.String(16, collation="C")
        )
