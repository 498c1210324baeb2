"""counters: exact need counts per cell and contribution totals per month, kept by triggers

`need_counts` (status, kecamatan, category, PPKS type or '', severity -> n) and
`contribution_months` (organisation, category, month -> rupiah, contributions) change in
the same statement as every write to `needs` and `contributions`: database triggers, so that
every writer keeps them exact (the services, the sweeper, the seed's COPY, imports, scripts,
tests that insert rows by hand), and a rolled-back write rolls its counts back with it.

PostgreSQL: statement-level AFTER triggers with transition tables, one upsert per statement
with the net change per cell (a COPY of 50,000 needs is one grouped upsert, not 50,000), in
key order so that two statements lock shared cells in the same order. SQLite: row-level
triggers (a write there is serialised anyway). Both are backfilled here, after the triggers
exist, under a lock that keeps writers out until the migration commits.

Revision ID: 0011_counters
Revises: 0010_read_path_indexes
Create Date: 2026-12-01 11:20:00.000000
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_counters"
down_revision: str | None = "0010_read_path_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEED_KEY = "status, kecamatan_code, category_code, ppks_code, severity"
_NEED_CELL = "status, kecamatan_code, category_code, coalesce(ppks_code, ''), severity"
_MONTH_KEY = "organization_id, category_code, month"
_PG_MONTH = "to_char(delivered_on, 'YYYY-MM')"
_SQLITE_MONTH = "strftime('%Y-%m', delivered_on)"


def _pg_apply_function(
    table: str, upsert: Callable[[str], str], rows: Callable[[str, int], str]
) -> str:
    """`<table>_apply()`: the statement trigger that adds the changed rows' cells (+1 for
    new rows, -1 for old ones) to `table`, and empties it on TRUNCATE."""
    return f"""
CREATE FUNCTION {table}_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN{upsert(rows("new_rows", 1))}
  ELSIF TG_OP = 'UPDATE' THEN{upsert(rows("new_rows", 1) + " UNION ALL " + rows("old_rows", -1))}
  ELSIF TG_OP = 'DELETE' THEN{upsert(rows("old_rows", -1))}
  ELSE
    DELETE FROM {table};
  END IF;
  RETURN NULL;
END $$
"""


def _pg_need_function() -> str:
    # Each branch names only the transition tables its event has (an INSERT trigger has
    # no old_rows): PL/pgSQL plans a statement when it first runs, so the others are fine.
    def upsert(source: str) -> str:
        return f"""
    INSERT INTO need_counts AS c ({_NEED_KEY}, n)
    SELECT {_NEED_KEY}, sum(d) FROM ({source}) AS changes
    GROUP BY {_NEED_KEY} HAVING sum(d) <> 0 ORDER BY {_NEED_KEY}
    ON CONFLICT ({_NEED_KEY}) DO UPDATE SET n = c.n + excluded.n;"""

    def rows(table: str, d: int) -> str:
        return (
            f"SELECT status, kecamatan_code, category_code, coalesce(ppks_code, '') AS "
            f"ppks_code, severity, {d} AS d FROM {table}"
        )

    return _pg_apply_function("need_counts", upsert, rows)


def _pg_month_function() -> str:
    def upsert(source: str) -> str:
        return f"""
    INSERT INTO contribution_months AS c ({_MONTH_KEY}, amount_rupiah, contributions)
    SELECT {_MONTH_KEY}, sum(amount), sum(d) FROM ({source}) AS changes
    GROUP BY {_MONTH_KEY} HAVING sum(d) <> 0 OR sum(amount) <> 0 ORDER BY {_MONTH_KEY}
    ON CONFLICT ({_MONTH_KEY}) DO UPDATE SET
      amount_rupiah = c.amount_rupiah + excluded.amount_rupiah,
      contributions = c.contributions + excluded.contributions;"""

    def rows(table: str, d: int) -> str:
        return (
            f"SELECT organization_id, category_code, {_PG_MONTH} AS month, "
            f"{d} * amount_rupiah AS amount, {d} AS d FROM {table}"
        )

    return _pg_apply_function("contribution_months", upsert, rows)


def _pg_triggers(table: str, function: str) -> list[str]:
    each = "FOR EACH STATEMENT EXECUTE FUNCTION " + function + "()"
    return [
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows {each}",
        f"CREATE TRIGGER {table}_count_truncate AFTER TRUNCATE ON {table} {each}",
    ]


def _sqlite_need_change(row: str, d: int) -> str:
    return (
        f"INSERT INTO need_counts ({_NEED_KEY}, n) VALUES ({row}.status, {row}.kecamatan_code, "
        f"{row}.category_code, coalesce({row}.ppks_code, ''), {row}.severity, {d}) "
        f"ON CONFLICT ({_NEED_KEY}) DO UPDATE SET n = n + ({d});"
    )


def _sqlite_month_change(row: str, d: int) -> str:
    return (
        f"INSERT INTO contribution_months ({_MONTH_KEY}, amount_rupiah, contributions) "
        f"VALUES ({row}.organization_id, {row}.category_code, "
        f"strftime('%Y-%m', {row}.delivered_on), {d} * {row}.amount_rupiah, {d}) "
        f"ON CONFLICT ({_MONTH_KEY}) DO UPDATE SET "
        f"amount_rupiah = amount_rupiah + ({d} * {row}.amount_rupiah), "
        f"contributions = contributions + ({d});"
    )


_NEED_COLUMNS = ("status", "kecamatan_code", "category_code", "ppks_code", "severity")
_MONTH_COLUMNS = ("organization_id", "category_code", "delivered_on", "amount_rupiah")


def _sqlite_triggers(table: str, columns: Sequence[str], change: object) -> list[str]:
    assert callable(change)
    moved = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
    return [
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN {change('new', 1)} END",
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE OF {', '.join(columns)} ON {table} "
        f"WHEN {moved} BEGIN {change('old', -1)} {change('new', 1)} END",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} "
        f"BEGIN {change('old', -1)} END",
    ]


def upgrade() -> None:
    op.create_table(
        "need_counts",
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=13), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("ppks_code", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "status",
            "kecamatan_code",
            "category_code",
            "ppks_code",
            "severity",
            name=op.f("pk_need_counts"),
        ),
    )
    op.create_table(
        "contribution_months",
        sa.Column(
            "organization_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("amount_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("contributions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "category_code", "month", name=op.f("pk_contribution_months")
        ),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # The median time to fulfilment reads the middle of this index (PostgreSQL only).
        op.create_index(
            "ix_needs_fulfilment_seconds",
            "needs",
            [sa.text("(EXTRACT(epoch FROM fulfilled_at - opened_at))")],
            postgresql_include=["opened_at", "fulfilled_at"],
            postgresql_where=sa.text("status = 'FULFILLED'"),
        )
        # Writers wait until this commits: the counts start exact and stay so.
        op.execute("LOCK TABLE needs, contributions IN SHARE ROW EXCLUSIVE MODE")
        op.execute(_pg_need_function())
        op.execute(_pg_month_function())
        statements = _pg_triggers("needs", "need_counts_apply") + _pg_triggers(
            "contributions", "contribution_months_apply"
        )
        month = _PG_MONTH
    else:
        statements = _sqlite_triggers("needs", _NEED_COLUMNS, _sqlite_need_change)
        statements += _sqlite_triggers("contributions", _MONTH_COLUMNS, _sqlite_month_change)
        month = _SQLITE_MONTH
    for statement in statements:
        op.execute(statement)
    op.execute(
        f"INSERT INTO need_counts ({_NEED_KEY}, n) "
        f"SELECT {_NEED_CELL}, count(*) FROM needs GROUP BY {_NEED_CELL}"
    )
    op.execute(
        f"INSERT INTO contribution_months ({_MONTH_KEY}, amount_rupiah, contributions) "
        f"SELECT organization_id, category_code, {month}, sum(amount_rupiah), count(*) "
        f"FROM contributions GROUP BY organization_id, category_code, {month}"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in ("needs", "contributions"):
        for change in ("insert", "update", "delete", "truncate"):
            if postgresql:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_count_{change} ON {table}")
            elif change != "truncate":
                op.execute(f"DROP TRIGGER IF EXISTS {table}_count_{change}")
    if postgresql:
        op.drop_index("ix_needs_fulfilment_seconds", table_name="needs")
        op.execute("DROP FUNCTION IF EXISTS need_counts_apply()")
        op.execute("DROP FUNCTION IF EXISTS contribution_months_apply()")
    op.drop_table("contribution_months")
    op.drop_table("need_counts")
