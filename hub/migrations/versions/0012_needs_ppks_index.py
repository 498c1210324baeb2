"""needs by (status, kecamatan, PPKS type): the PPKS branch of a service area as a set

`hub.authz.rows.need_filter_as_sets` collects a foundation's needs branch by branch; the
category branch reads `(status, kecamatan_code, category_code)`, and without this index the
PPKS branch read every OPEN need of the city (84 ms at 2.6M citizens instead of about 1 ms).

Revision ID: 0012_needs_ppks_index
Revises: 0011_counters
Create Date: 2026-12-01 12:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_needs_ppks_index"
down_revision: str | None = "0011_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_needs_status_kecamatan_code_ppks_code",
        "needs",
        ["status", "kecamatan_code", "ppks_code"],
    )


def downgrade() -> None:
    op.drop_index("ix_needs_status_kecamatan_code_ppks_code", table_name="needs")
