"""A big first import rebuilds the registry tables' indexes and foreign keys as they were."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from hub.cli.imports import run_import
from hub.imports.bulk import worth_rebuilding
from hub.registry.models import Citizen, Household
from hub.synthetic.dtks import write_export, write_next_month
from tests.imports.test_dtks import fetch, settings_for

TABLES = ("households", "household_kk_numbers", "citizens")
#: Every index and constraint of the registry tables, as PostgreSQL defines them.
DEFINITIONS = text(
    """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
       WHERE conrelid::regclass::text IN ('households', 'household_kk_numbers', 'citizens')
       UNION ALL
       SELECT indrelid::regclass::text, indexrelid::regclass::text, pg_get_indexdef(indexrelid)
       FROM pg_index
       WHERE indrelid::regclass::text IN ('households', 'household_kk_numbers', 'citizens')
       ORDER BY 1, 2, 3"""
)


def test_only_an_insert_as_big_as_its_table_rebuilds() -> None:
    assert worth_rebuilding(100_000, 0)
    assert worth_rebuilding(100_000, 100_000)
    assert not worth_rebuilding(100_000, 100_001)  # the monthly case: a few beside many
    assert not worth_rebuilding(49_999, 0)  # small: rebuilding costs more than it saves


async def test_a_first_import_in_bulk_keeps_every_index_and_constraint(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    settings = settings_for(url, tmp_path)
    postgres = url.startswith("postgresql")
    before = await fetch(url, DEFINITIONS) if postgres else []
    first = tmp_path / "dtks-1.txt"
    export = write_export(first, citizens=600, seed=3, dirty=0.05)
    rejects = tmp_path / "rejects.csv"
    summary = await run_import(settings, first, rejects=rejects, dry_run=False, bulk_min_rows=1)
    # SQLite inserts as it always does; PostgreSQL rebuilt all three tables.
    assert summary.rebuilt == (list(TABLES) if postgres else [])
    if postgres:
        after = await fetch(url, DEFINITIONS)
        assert [tuple(row) for row in after] == [tuple(row) for row in before]
        assert len(before) > 10  # keys, unique constraints, foreign keys, indexes
    refused = set(export.refused_household_lines)
    assert summary.rows_rejected == len(refused)
    (citizens,) = (await fetch(url, select(func.count()).select_from(Citizen)))[0]
    (households,) = (await fetch(url, select(func.count()).select_from(Household)))[0]
    assert (households, citizens) == (summary.households.new, summary.citizens.new)
    assert citizens == export.rows - len(refused)
    orphans = await fetch(
        url,
        select(func.count())
        .select_from(Citizen)
        .outerjoin(Household, Household.id == Citizen.household_id)
        .where(Household.id.is_(None)),
    )
    assert orphans[0][0] == 0

    # Next month's few new rows go in beside the many with the constraints in place.
    second = tmp_path / "dtks-2.txt"
    month = write_next_month(first, second, seed=4, change=0.06, untouched=refused)
    applied = await run_import(
        settings, second, rejects=tmp_path / "r2.csv", dry_run=False, bulk_min_rows=1
    )
    assert applied.rebuilt == []
    assert applied.citizens.new == len(month.new)
    assert applied.households.new == month.changes["split"]
