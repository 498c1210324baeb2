"""The migrations build the models' schema, and reference data loads once."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.db import create_engine
from hub.migrations import drift, upgrade
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
