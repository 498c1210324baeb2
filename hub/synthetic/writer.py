"""Batched inserts of generated rows, one transaction per batch.

PostgreSQL receives rows through COPY (asyncpg's binary `copy_records_to_table`), several
times faster than an INSERT per row; other backends get SQLAlchemy Core `insert()` with
executemany. Both take the same tuples, in the column order declared here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import hub.models  # noqa: F401  (registers every table)
from hub.db import Base
from hub.synthetic.contributions import CONTRIBUTION_COLUMNS
from hub.synthetic.needs import NEED_COLUMNS, PLEDGE_COLUMNS, STATUS_CHANGE_COLUMNS
from hub.synthetic.organizations import (
    ORGANIZATION_AREA_COLUMNS,
    ORGANIZATION_CATEGORY_COLUMNS,
    ORGANIZATION_COLUMNS,
)
from hub.synthetic.people import CITIZEN_COLUMNS, HOUSEHOLD_COLUMNS, KK_NUMBER_COLUMNS
from hub.synthetic.programmes import ENROLMENT_COLUMNS
from hub.synthetic.rows import Row

Batch = Mapping[str, Sequence[Row]]

#: Every table the generator fills, parents before children, with its tuple layout.
COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations": ORGANIZATION_COLUMNS,
    "organization_categories": ORGANIZATION_CATEGORY_COLUMNS,
    "organization_areas": ORGANIZATION_AREA_COLUMNS,
    "households": HOUSEHOLD_COLUMNS,
    "household_kk_numbers": KK_NUMBER_COLUMNS,
    "citizens": CITIZEN_COLUMNS,
    "enrolments": ENROLMENT_COLUMNS,
    "needs": NEED_COLUMNS,
    "need_status_changes": STATUS_CHANGE_COLUMNS,
    "pledges": PLEDGE_COLUMNS,
    "contributions": CONTRIBUTION_COLUMNS,
}
#: Tables whose integer `id` the generator assigns itself.
ID_TABLES = tuple(name for name, columns in COLUMNS.items() if columns[0] == "id")


def table(name: str) -> Table:
    """The SQLAlchemy table called `name`."""
    return Base.metadata.tables[name]


async def next_ids(connection: AsyncConnection) -> dict[str, int]:
    """max(id) + 1 of every table with an assigned id (1 when empty)."""
    result: dict[str, int] = {}
    for name in ID_TABLES:
        highest = await connection.scalar(select(func.max(table(name).c.id)))
        result[name] = (highest or 0) + 1
    return result


class BatchWriter:
    """Writes batches of rows into one database and counts what it wrote."""

    def __init__(self, engine: AsyncEngine) -> None:
        """A writer for `engine`, using COPY when it is PostgreSQL through asyncpg."""
        self.engine = engine
        self.use_copy = engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg"
        self.counts: Counter[str] = Counter()

    async def write(self, batch: Batch) -> None:
        """Insert one batch in a single transaction, tables in dependency order."""
        async with self.engine.begin() as connection:
            if self.use_copy:
                await self._copy(connection, batch)
            else:
                await self._insert(connection, batch)
        for name, rows in batch.items():
            self.counts[name] += len(rows)

    async def _insert(self, connection: AsyncConnection, batch: Batch) -> None:
        """SQLAlchemy Core executemany, one statement per table."""
        for name, columns in COLUMNS.items():
            rows = batch.get(name)
            if rows:
                await connection.execute(
                    insert(table(name)), [dict(zip(columns, row, strict=True)) for row in rows]
                )

    async def _copy(self, connection: AsyncConnection, batch: Batch) -> None:
        """COPY through the asyncpg connection, inside the transaction SQLAlchemy began."""
        # The statement starts the transaction on the driver connection, so the COPYs join it.
        # Relaxed durability is safe here: a seed cut short by a crash is thrown away anyway.
        await connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        for name, columns in COLUMNS.items():
            rows = batch.get(name)
            if rows:
                await driver.copy_records_to_table(name, records=rows, columns=columns)

    async def finish(self) -> None:
        """Move PostgreSQL's id sequences past the assigned ids, and refresh statistics."""
        if self.engine.dialect.name != "postgresql":
            return
        async with self.engine.begin() as connection:
            for name in ID_TABLES:
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {name}), 1), "
                        f"(SELECT max(id) FROM {name}) IS NOT NULL)"
                    )
                )
            # The planner would otherwise see millions of rows as an empty table.
            await connection.execute(text(f"ANALYZE {', '.join(COLUMNS)}"))
