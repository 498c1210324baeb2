"""Database lifecycle operations shared by the CLI, the demo and the tests."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

import hub.models  # noqa: F401  (registers every table)
from hub.db import Base, create_engine, session_factory, transaction
from hub.migrations import alembic_config
from hub.reference import load_reference_data


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


async def ping(database_url: str) -> None:
    """Raise unless the database answers a trivial query."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
