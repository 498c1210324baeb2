"""Loading many rows into a registry table on PostgreSQL: indexes and foreign keys rebuilt once.

PostgreSQL checks a foreign key with a trigger per inserted row and maintains every index
row by row; a first import of the city inserts millions of citizens, for which that is most
of the import's time (measured: 200,000 citizens in 11.7 s with the table's constraints in
place, 2.7 s inserted bare and the same constraints rebuilt). So, when an insert is at
least as big as the table it goes into, `rebuilt_around` drops the table's secondary
indexes, unique constraints and foreign keys, lets the insert run, and recreates each one
from the very definition PostgreSQL reported for it (`pg_get_constraintdef`,
`pg_get_indexdef`): a unique constraint is checked again over the whole table and a foreign
key validated in one query, so nothing the insert wrote escapes a check. The primary key
stays (other tables' foreign keys hang on it), unless the caller asks and nothing does
(`household_kk_numbers`, keyed by the KK number: 805,000 keys inserted one by one into
their index cost more than the rest of that table's load).

All of it runs inside the import's transaction: the DDL is undone with it, and the lock it
takes (ACCESS EXCLUSIVE on the table until commit) means no other session ever sees the
table without its constraints. That lock is why this is only for big loads: a monthly
import's few thousand new rows go in with the constraints in place, and readers go on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

#: Below this many rows an insert keeps the table's constraints (rebuilding costs more).
BULK_MIN_ROWS = 50_000


def worth_rebuilding(inserting: int, existing: int, *, minimum: int = BULK_MIN_ROWS) -> bool:
    """True when inserting `inserting` rows beside `existing` ones is cheaper with the
    table's indexes and foreign keys rebuilt afterwards than maintained row by row."""
    return inserting >= minimum and inserting >= existing


async def _definitions(
    connection: AsyncConnection, table: str, *, primary_key: bool = False
) -> tuple[list[str], list[str]]:
    """(DROP statements, CREATE statements) of `table`'s secondary indexes, unique
    constraints and foreign keys (with `primary_key`, its primary key too), the drops in an
    order that works, the creates too."""
    kinds = "'u', 'f', 'p'" if primary_key else "'u', 'f'"
    constraints = (
        await connection.execute(
            text(
                f"""SELECT conname, CAST(contype AS text), pg_get_constraintdef(oid)
                   FROM pg_constraint
                   WHERE conrelid = CAST(:table AS regclass) AND contype IN ({kinds})
                     -- a key another table's foreign key needs stays
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f'
                                     AND r.confrelid = pg_constraint.conrelid
                                     AND r.conindid = pg_constraint.conindid
                                     AND pg_constraint.contype IN ('u', 'p'))
                   ORDER BY contype DESC, conname"""
            ),
            {"table": table},
        )
    ).all()
    indexes = (
        await connection.execute(
            text(
                """SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                   JOIN pg_class c ON c.oid = i.indexrelid
                   WHERE i.indrelid = CAST(:table AS regclass) AND NOT i.indisprimary
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                     WHERE k.conindid = i.indexrelid AND k.contype <> 'f')
                   ORDER BY c.relname"""
            ),
            {"table": table},
        )
    ).all()
    drops = [f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' for name, _, _ in constraints]
    drops += [f'DROP INDEX "{name}"' for name, _ in indexes]
    # Keys (and indexes) first, so that foreign keys validate through them.
    unique = [(n, d) for n, kind, d in constraints if kind in ("u", "p")]
    foreign = [(n, d) for n, kind, d in constraints if kind == "f"]
    creates = [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d in unique]
    creates += [str(definition) for _, definition in indexes]
    if foreign:
        creates.append(
            f"ALTER TABLE {table} " + ", ".join(f'ADD CONSTRAINT "{n}" {d}' for n, d in foreign)
        )
    return drops, creates


@asynccontextmanager
async def rebuilt_around(
    connection: AsyncConnection, table: str, *, primary_key: bool = False
) -> AsyncIterator[None]:
    """Run the body with `table`'s secondary indexes, unique constraints and foreign keys
    dropped, and recreate them after it (PostgreSQL only; in the caller's transaction).
    With `primary_key` the primary key goes too, unless another table's foreign key needs
    it (then it stays, as it always does without)."""
    drops, creates = await _definitions(connection, table, primary_key=primary_key)
    await connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
    for statement in drops:
        await connection.execute(text(statement))
    yield
    for statement in creates:
        await connection.execute(text(statement))
