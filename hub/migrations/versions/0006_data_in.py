"""data in: DTKS imports, provenance and versions, household history, programme funding

Revision ID: 0006_data_in
Revises: 0005_audit
Create Date: 2026-12-01 07:53:42.136422

Households and citizens gain a version and their last change's provenance (which import or
which organisation's client, which fields), and whether the latest DTKS file lists them;
citizens their PPKS type and since when they belong to their household, with earlier
memberships in `citizen_household_history`. Programmes gain a funding source and budget,
enrolments the benefit and who recorded it. On SQLite batch mode rebuilds the altered tables;
foreign keys are deferred to the commit so that rebuilding a table other rows refer to works
on a populated database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0006_data_in"
down_revision: str | None = "0005_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: Funding source and yearly budget (Rp) of the programmes the hub shipped before; the new
#: ones arrive with the reference data (`hub.programs.reference`).
_FUNDING = {
    "PKH": ("APBN", 185_000_000_000),
    "BPNT": ("APBN", 220_000_000_000),
    "PBI_JK": ("APBN", 310_000_000_000),
    "PIP": ("APBN", 48_000_000_000),
    "RUTILAHU": ("APBD_KOTA", 42_000_000_000),
    "ATENSI": ("APBN", 12_000_000_000),
}


_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add(table: str, column: sa.Column[Any], check: str | None = None) -> None:
    """Add a column, with its check constraint (`ck_<table>_<name>`, `name=expression`)."""
    if _sqlite() and check is not None:
        # SQLite cannot add a constraint to a table; it takes one inline in ADD COLUMN.
        name, expression = check.split("=", 1)
        ddl = sa.schema.CreateColumn(column).compile(dialect=op.get_bind().dialect)
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {ddl} CONSTRAINT ck_{table}_{name} CHECK ({expression})"
        )
        return
    op.add_column(table, column)
    if check is not None:
        name, expression = check.split("=", 1)
        op.create_check_constraint(name, table, expression)


def _add_reference(table: str, column: str, target: str, target_column: str = "id") -> None:
    """Add a nullable foreign-key column named as the models' naming convention names it."""
    name = f"fk_{table}_{column}_{target}"
    if _sqlite():
        # Rebuilding a table that other rows refer to fails SQLite's foreign-key check, and
        # ALTER TABLE cannot add a constraint: SQLite takes the reference inline instead.
        kind = "VARCHAR(40)" if target_column == "code" else "INTEGER"
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} {kind} "
            f"CONSTRAINT {name} REFERENCES {target} ({target_column})"
        )
        return
    kind_pg: sa.types.TypeEngine[Any] = sa.String(40) if target_column == "code" else _ID
    op.add_column(table, sa.Column(column, kind_pg, nullable=True))
    op.create_foreign_key(name, table, target, [column], [target_column])


def _provenance(table: str) -> None:
    op.add_column(
        table, sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.add_column(
        table, sa.Column("changed_via", sa.String(length=8), server_default="SEED", nullable=False)
    )
    _add_reference(table, "changed_by_organization_id", "organizations")
    _add_reference(table, "changed_by_client_id", "clients")
    _add_reference(table, "changed_by_import_id", "dtks_imports")
    op.add_column(table, sa.Column("changed_fields", sa.String(length=200), nullable=True))
    op.add_column(
        table, sa.Column("dtks_listed", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(table, sa.Column("delisted_on", sa.Date(), nullable=True))


def upgrade() -> None:
    op.create_table(
        "dtks_imports",
        sa.Column("id", _ID, nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ran_by", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("started_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dtks_imports")),
    )
    op.create_index(op.f("ix_dtks_imports_sha256"), "dtks_imports", ["sha256"], unique=False)
    op.create_table(
        "citizen_household_history",
        sa.Column("id", _ID, nullable=False),
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("household_id", _ID, nullable=False),
        sa.Column("relationship", sa.String(length=12), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "valid_to >= valid_from", name=op.f("ck_citizen_household_history_period")
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_citizen_household_history_citizen_id_citizens"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_citizen_household_history_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_household_history")),
    )
    op.create_index(
        op.f("ix_citizen_household_history_citizen_id_valid_from"),
        "citizen_household_history",
        ["citizen_id", "valid_from"],
        unique=False,
    )
    op.create_index(
        op.f("ix_citizen_household_history_household_id"),
        "citizen_household_history",
        ["household_id"],
        unique=False,
    )

    _provenance("households")
    _provenance("citizens")
    _add_reference("citizens", "ppks_code", "need_categories", "code")
    op.add_column("citizens", sa.Column("household_since", sa.Date(), nullable=True))

    _add(
        "enrolments",
        sa.Column("benefit_rupiah", sa.BigInteger(), nullable=True),
        "benefit=benefit_rupiah >= 0",
    )
    op.add_column(
        "enrolments",
        sa.Column("changed_via", sa.String(length=8), server_default="SEED", nullable=False),
    )
    _add_reference("enrolments", "changed_by_organization_id", "organizations")
    _add_reference("enrolments", "changed_by_client_id", "clients")
    op.add_column(
        "enrolments", sa.Column("changed_at", hub.db.UTCDateTime(timezone=True), nullable=True)
    )

    _add(
        "programs",
        sa.Column("funding_source", sa.String(length=12), server_default="APBN", nullable=False),
        "funding_source=funding_source IN ('APBD_KOTA', 'APBD_JABAR', 'APBN', 'FOUNDATIONS')",
    )
    _add(
        "programs",
        sa.Column("budget_rupiah", sa.BigInteger(), nullable=True),
        "budget=budget_rupiah >= 0",
    )
    programs = sa.table(
        "programs",
        sa.column("code", sa.String),
        sa.column("funding_source", sa.String),
        sa.column("budget_rupiah", sa.BigInteger),
    )
    for code, (source, budget) in _FUNDING.items():
        op.execute(
            programs.update()
            .where(programs.c.code == code)
            .values(funding_source=source, budget_rupiah=budget)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_constraint("ck_enrolments_benefit", type_="check")
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_constraint("ck_programs_budget", type_="check")
        batch_op.drop_constraint("ck_programs_funding_source", type_="check")
        batch_op.drop_column("budget_rupiah")
        batch_op.drop_column("funding_source")

    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_households_changed_by_organization_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_households_changed_by_import_id_dtks_imports"), type_="foreignkey"
        )
        batch_op.drop_column("delisted_on")
        batch_op.drop_column("dtks_listed")
        batch_op.drop_column("changed_fields")
        batch_op.drop_column("changed_by_import_id")
        batch_op.drop_column("changed_by_client")
        batch_op.drop_column("changed_by_organization_id")
        batch_op.drop_column("changed_via")
        batch_op.drop_column("version")

    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_enrolments_changed_by_organization_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_column("changed_at")
        batch_op.drop_column("changed_by_client")
        batch_op.drop_column("changed_by_organization_id")
        batch_op.drop_column("changed_via")
        batch_op.drop_column("benefit_rupiah")

    with op.batch_alter_table("citizens", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_citizens_changed_by_organization_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_citizens_ppks_code_need_categories"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_citizens_changed_by_import_id_dtks_imports"), type_="foreignkey"
        )
        batch_op.drop_column("delisted_on")
        batch_op.drop_column("dtks_listed")
        batch_op.drop_column("changed_fields")
        batch_op.drop_column("changed_by_import_id")
        batch_op.drop_column("changed_by_client")
        batch_op.drop_column("changed_by_organization_id")
        batch_op.drop_column("changed_via")
        batch_op.drop_column("version")
        batch_op.drop_column("household_since")
        batch_op.drop_column("ppks_code")

    with op.batch_alter_table("citizen_household_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_household_history_household_id"))
        batch_op.drop_index(batch_op.f("ix_citizen_household_history_citizen_id_valid_from"))

    op.drop_table("citizen_household_history")
    with op.batch_alter_table("dtks_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dtks_imports_sha256"))

    op.drop_table("dtks_imports")
