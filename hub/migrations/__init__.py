"""Alembic migrations, driven from code so that no `alembic.ini` is needed to run them.

`upgrade` (migrate, then load reference data) and `drift` (models vs the migrated schema)
are the database lifecycle that the CLI, the demo, the seed and the tests share.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Index, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex

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
    dialect = connection.dialect.name

    def for_this_backend(
        item: object, _name: object, kind: str, reflected: bool, _: object
    ) -> bool:
        # An index the models declare for other backends only (`info["dialects"]`, e.g. an
        # expression index on PostgreSQL), which the migrations rightly did not create here.
        if kind == "index" and not reflected and isinstance(item, Index):
            return dialect in item.info.get("dialects", (dialect,))
        return True

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": for_this_backend}
    )
    elsewhere = [
        re.escape(str(index.name))
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if dialect not in index.info.get("dialects", (dialect,))
    ]
    with warnings.catch_warnings():
        # Alembic warns that it cannot reflect those indexes here before it asks
        # `for_this_backend`; they are not meant to be here, so that is no news.
        if elsewhere:
            warnings.filterwarnings(
                "ignore", message=f".*expression-based index '({'|'.join(elsewhere)})'"
            )
        diffs = list(compare_metadata(context, Base.metadata))
    return (
        _settle_index_pairs(connection, diffs)
        + _collation_diffs(connection)
        + _include_diffs(connection)
    )


def _include_diffs(connection: Connection) -> list[object]:
    """("modify_include", index, stored, wanted) for every index whose INCLUDE columns the
    database does not hold as the model says (PostgreSQL: alembic's index comparison looks
    at the keys only)."""
    if connection.dialect.name != "postgresql":
        return []
    stored = {
        name: _included(definition)
        for name, definition in connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        )
    }
    diffs: list[object] = []
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            wanted = list(index.dialect_options["postgresql"]["include"] or [])
            name = str(index.name)
            if name in stored and stored[name] != wanted:
                diffs.append(("modify_include", name, stored[name], wanted))
    return diffs


def _included(definition: str) -> list[str]:
    """The INCLUDE columns of a `pg_indexes.indexdef`."""
    match = re.search(r" INCLUDE \((.*?)\)", definition)
    return [c.strip().strip('"') for c in match.group(1).split(",")] if match else []


def _collation_diffs(connection: Connection) -> list[object]:
    """("modify_collation", table, column, stored, wanted) for every text column whose
    collation the database does not hold as the model says (PostgreSQL: alembic's type
    comparison does not look at collations; None is the database's default)."""
    if connection.dialect.name != "postgresql":
        return []
    stored = {
        (table, column): collation
        for table, column, collation in connection.execute(
            text(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = current_schema()"
            )
        )
    }
    diffs: list[object] = []
    for table in Base.metadata.tables.values():
        for column in table.columns:
            key = (table.name, column.name)
            wanted = getattr(column.type.dialect_impl(connection.dialect), "collation", None)
            if key in stored and stored[key] != wanted:
                diffs.append(("modify_collation", *key, stored[key], wanted))
    return diffs


def _settle_index_pairs(connection: Connection, diffs: list[object]) -> list[object]:
    """Drop the (remove_index X, add_index X) pairs whose definitions are in fact equal.

    Alembic's SQLite comparison reflects an index with a descending key (`severity DESC`,
    the URGENT order) only approximately, and so reports it as removed and added although
    the database holds exactly the model's index. For such a pair, compare what the database
    stores (`sqlite_master.sql`, `pg_indexes.indexdef`) with the model's CREATE INDEX, key
    by key and direction by direction; a pair that really differs stays in the diff.
    """
    removed = {index.name for kind, index in _index_diffs(diffs) if kind == "remove_index"}
    added = {index.name: index for kind, index in _index_diffs(diffs) if kind == "add_index"}
    settled: set[str | None] = set()
    for name in removed & added.keys():
        stored = _stored_index_sql(connection, str(name))
        wanted = str(CreateIndex(added[name]).compile(dialect=connection.dialect))
        if stored is not None and _index_keys(stored) == _index_keys(wanted):
            settled.add(name)
    return [d for d in diffs if _settled_name(d) not in settled]


def _index_diffs(diffs: list[object]) -> list[tuple[str, Index]]:
    return [
        (d[0], d[1])
        for d in diffs
        if isinstance(d, tuple)
        and len(d) == 2
        and d[0] in ("remove_index", "add_index")
        and isinstance(d[1], Index)
    ]


def _settled_name(diff: object) -> str | None:
    """The index name of an index diff; a name no index has (a non-empty marker) else."""
    found = _index_diffs([diff])
    return found[0][1].name if found else "\0not an index diff"


def _stored_index_sql(connection: Connection, name: str) -> str | None:
    if connection.dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    else:
        query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    return connection.execute(text(query), {"name": name}).scalar()


def _index_keys(sql: str) -> tuple[str, bool, str]:
    """(table, unique, normalised key list and WHERE) of a CREATE INDEX statement."""
    flat = " ".join(sql.replace('"', "").lower().split())
    match = re.match(
        r"create (unique )?index \S+ on (?:\S+\.)?(\S+)(?: using btree)? \((.*)\)(.*)$", flat
    )
    if match is None:
        return ("", False, flat)
    unique, table, keys, rest = match.groups()
    keys = ",".join(k.strip().removesuffix(" asc") for k in keys.split(","))
    return (table, unique is not None, keys + rest.strip())


async def drift(database_url: str) -> list[object]:
    """Differences between the migrated database and the models (empty when in step)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff)
    finally:
        await engine.dispose()
