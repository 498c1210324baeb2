"""tracking codes: the digest of each need's code, for trackRequest

Revision ID: 0007_tracking
Revises: 0006_data_in
Create Date: 2026-12-01 08:10:00.000000

Existing needs get no code here: only a digest is stored, so a code made by a migration
could never be handed to anyone. Dinsos issues one on request (`reissueTrackingCode`); the
synthetic seed gives its needs codes when it makes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0007_tracking"
down_revision: str | None = "0006_data_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracking_codes",
        sa.Column(
            "need_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "issued_by_organization_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_organization_id"],
            ["organizations.id"],
            name=op.f("fk_tracking_codes_issued_by_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_tracking_codes_need_id_needs")
        ),
        sa.PrimaryKeyConstraint("need_id", name=op.f("pk_tracking_codes")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_tracking_codes_code_sha256")),
    )


def downgrade() -> None:
    op.drop_table("tracking_codes")
