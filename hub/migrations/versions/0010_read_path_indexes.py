"""read path: one index per list order, in the order's directions (URGENT's mixed ones too)

The needs list's named orders (`hub.needs.queries.NEED_ORDERS`), with and without a status
filter, the contributions list (newest delivery first, for one organisation and for all),
and a need's pledges by need. `severity DESC` is written as text: both backends create it
as a descending key, so URGENT (severity descending, reported_at and id ascending) is read
off the index in order; the old all-ascending (status, severity, reported_at, id) index
served no order (a backward scan gives reported_at descending) and is dropped.

Revision ID: 0010_read_path_indexes
Revises: 0009_connectors
Create Date: 2026-12-01 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_read_path_indexes"
down_revision: str | None = "0009_connectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEVERITY_DESC = sa.text("severity DESC")


def upgrade() -> None:
    op.drop_index("ix_needs_status_severity_reported_at_id", table_name="needs")
    op.create_index(
        "ix_needs_status_urgent", "needs", ["status", _SEVERITY_DESC, "reported_at", "id"]
    )
    op.create_index("ix_needs_urgent", "needs", [_SEVERITY_DESC, "reported_at", "id"])
    op.create_index("ix_needs_status_reported_at_id", "needs", ["status", "reported_at", "id"])
    op.create_index("ix_needs_reported_at_id", "needs", ["reported_at", "id"])
    op.create_index("ix_pledges_need_id", "pledges", ["need_id"])
    op.drop_index("ix_contributions_organization_id_delivered_on", table_name="contributions")
    op.create_index(
        "ix_contributions_organization_id_delivered_on_id",
        "contributions",
        ["organization_id", "delivered_on", "id"],
    )
    op.create_index("ix_contributions_delivered_on_id", "contributions", ["delivered_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_contributions_delivered_on_id", table_name="contributions")
    op.drop_index("ix_contributions_organization_id_delivered_on_id", table_name="contributions")
    op.create_index(
        "ix_contributions_organization_id_delivered_on",
        "contributions",
        ["organization_id", "delivered_on"],
    )
    op.drop_index("ix_pledges_need_id", table_name="pledges")
    op.drop_index("ix_needs_reported_at_id", table_name="needs")
    op.drop_index("ix_needs_status_reported_at_id", table_name="needs")
    op.drop_index("ix_needs_urgent", table_name="needs")
    op.drop_index("ix_needs_status_urgent", table_name="needs")
    op.create_index(
        "ix_needs_status_severity_reported_at_id",
        "needs",
        ["status", "severity", "reported_at", "id"],
    )
