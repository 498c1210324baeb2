"""the needs' order indexes and a foundation's pledges hold what its row rule reads

A foundation's feed walks the URGENT index past every need of the city it may not see
(3,378 for a page of 51 at 2.6 million citizens) and read each from the table to test its
service area. With the area's columns in the index (INCLUDE, PostgreSQL only; SQLite keeps
the indexes as they were), the page's ids are picked off the index alone
(`hub.graphql.lists._page`): 8.8 ms → 2.4 ms for that page's statement.

Revision ID: 0014_covering_rule_indexes
Revises: 0013_nik_kk_collate_c
Create Date: 2026-12-01 22:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_covering_rule_indexes"
down_revision: str | None = "0013_nik_kk_collate_c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AREA = ["kecamatan_code", "category_code", "ppks_code"]
_SEVERITY_DESC = sa.text("severity DESC")

#: (name, table, keys, included columns) of each index this revision widens.
_INDEXES: tuple[tuple[str, str, list[str | sa.TextClause], list[str]], ...] = (
    ("ix_needs_status_urgent", "needs", ["status", _SEVERITY_DESC, "reported_at", "id"], _AREA),
    ("ix_needs_status_reported_at_id", "needs", ["status", "reported_at", "id"], _AREA),
    (
        "ix_pledges_organization_id_status",
        "pledges",
        ["organization_id", "status"],
        ["need_id", "expires_at"],
    ),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE: its indexes stay as they are
    for name, table, keys, included in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, keys, postgresql_include=included)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, keys, _ in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, keys)
