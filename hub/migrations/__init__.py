"""Alembic migrations, driven from code so that no `alembic.ini` is needed to run them.

`upgrade` (migrate, then load reference data) and `drift` (models vs the migrated schema)
are the database lifecycle that the CLI, the demo, the seed and the tests share.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import hub.models  # noqa: F401  (registers every table)
from hub.db import Base, create_engine, session_factory, transaction
from hub.reference import load_reference_data

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    """An alembic configuration for `database_url` that finds the hub's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, database_url: str) -> None:
    config = alembic_config(database_url)
    config.attributes["connection"] = connection
    # "heads": branches made in parallel apply side by side until they are merged.
    command.upgrade(config, "heads")


async def upgrade(database_url: str) -> dict[str, int]:
    """Apply every migration, then load missing reference data; return counts added."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, database_url)
        async with transaction(session_factory(engine)) as session:
            return await load_reference_data(session)
    finally:
        await engine.dispose()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def drift(database_url: str) -> list[object]:
    """Differences between the migrated database and the models (empty when in step)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff)
    finally:
        await engine.dispose()
