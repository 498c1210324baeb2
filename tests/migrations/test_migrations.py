"""The migrations build the models' schema, and reference data loads once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from hub.db import create_engine
from hub.migrations import drift, upgrade
from hub.needs.models import SERVICE_AREA_COLUMNS
from hub.regions.models import Region


async def test_models_and_migrations_do_not_drift(empty_database_url: str) -> None:
    assert await drift(empty_database_url) == []


async def test_reference_data_is_loaded_once(empty_database_url: str) -> None:
    assert await upgrade(empty_database_url) == {
        "regions": 0,
        "need_categories": 0,
        "organizations": 0,
        "programs": 0,
    }
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            levels = dict(
                (
                    await connection.execute(
                        select(Region.level, func.count()).group_by(Region.level)
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    assert levels == {"CITY": 1, "KECAMATAN": 30, "KELURAHAN": 151}


async def test_drift_sees_a_descending_key_made_ascending(empty_database_url: str) -> None:
    # The URGENT index's `severity DESC` is compared by definition (SQLite's reflection of a
    # descending key is approximate): the same index ascending must still count as drift.
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP INDEX ix_needs_urgent"))
            await connection.execute(
                text("CREATE INDEX ix_needs_urgent ON needs (severity, reported_at, id)")
            )
    finally:
        await engine.dispose()
    names = {(d[0], d[1].name) for d in await drift(empty_database_url) if isinstance(d, tuple)}
    assert ("add_index", "ix_needs_urgent") in names


async def test_drift_sees_a_number_column_under_the_database_collation(
    empty_database_url: str,
) -> None:
    # NIKs and KK numbers are COLLATE "C" on PostgreSQL (migration 0013); alembic's type
    # comparison ignores collations, so `drift` compares them itself.
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite compares text bytewise; its columns carry no collation to drift")
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text('ALTER TABLE citizens ALTER COLUMN nik TYPE VARCHAR(16) COLLATE "default"')
            )
    finally:
        await engine.dispose()
    assert await drift(empty_database_url) == [("modify_collation", "citizens", "nik", None, "C")]


async def test_drift_sees_an_index_without_its_included_columns(empty_database_url: str) -> None:
    # The feed's order index holds the service area's columns (INCLUDE, migration 0014);
    # the same keys without them read every skipped need from the table again.
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite has no INCLUDE: its index is the keys alone")
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP INDEX ix_needs_status_urgent"))
            await connection.execute(
                text(
                    "CREATE INDEX ix_needs_status_urgent "
                    "ON needs (status, severity DESC, reported_at, id)"
                )
            )
    finally:
        await engine.dispose()
    assert ("modify_include", "ix_needs_status_urgent", [], SERVICE_AREA_COLUMNS) in await drift(
        empty_database_url
    )
