"""Batch loading helpers: one query for many keys, results aligned with the keys.

Every batch load names the policy's row type of what it loads (`rows="Citizen"`), or says
`rows=None` for data outside the row layer (reference data, parts of an object already
reached). The row type's filter is then part of the statement itself, so a relation reached
at any depth (`Need.citizen`, `Household.members`, `Contribution.need`) returns only the
records a root list would: no path around the row rules.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, FromClause, Select, bindparam, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import create_engine

if TYPE_CHECKING:
    from hub.graphql.context import Context

T = TypeVar("T")


#: The name of the keys' parameter in a batch load's statement (a list, expanded).
_KEYS = "hub_batch_keys"

_Entry = tuple[ColumnElement[Any], "ColumnElement[bool] | None", Select[Any]]

#: Batch loads' final statements, by what they are made of: the loader's statement (a
#: weak key: a statement built anew per call is forgotten with it), then the key column and
#: the row rules' condition (the same object for the same caller, see
#: `hub.authz.rows.row_filter`). A statement built once keeps SQLAlchemy's cache key too (it
#: is memoised on the object): each load then only binds its keys, where building
#: `statement.where(rules).where(key.in_(keys))` again cost about half of the load's Python.
_STATEMENTS: weakref.WeakKeyDictionary[Select[Any], dict[tuple[int, int], _Entry]] = (
    weakref.WeakKeyDictionary()
)
_STATEMENTS_MAX = 256


def _keyed(
    context: Context, statement: Select[Any], key: ColumnElement[Any], rows: str | None
) -> Select[Any]:
    """`statement` narrowed by `rows`' rules and to the keys bound as `_KEYS`."""
    condition = None if rows is None else context.row_filter(rows)
    variants = _STATEMENTS.get(statement)
    if variants is None:
        variants = _STATEMENTS[statement] = {}
    # By identity (SQL expressions overload `==`); the entry holds both objects, so
    # neither id can be another object's while it lives.
    entry = variants.get((id(key), id(condition)))
    if entry is not None and entry[0] is key and entry[1] is condition:
        return entry[2]
    built = statement if condition is None else statement.where(condition)
    built = built.where(key.in_(bindparam(_KEYS, expanding=True)))
    if len(variants) >= _STATEMENTS_MAX:
        variants.clear()  # callers without end (a policy reloaded many times over)
    variants[(id(key), id(condition))] = (key, condition, built)
    return built


async def one_each(
    context: Context,
    statement: Select[Any],
    key: ColumnElement[Any],
    keys: Sequence[Hashable],
    to_object: Callable[[Row[Any]], T],
    *,
    rows: str | None,
) -> list[T | None]:
    """For each key, the object built from the row whose `key` equals it (or None).

    `rows` names the row type whose rules narrow the statement; a hidden record is None.
    `statement` should be built once (a module's constant): it is a key of the cache of
    final statements.
    """
    statement = _keyed(context, statement, key, rows)
    found = (await context.session.execute(statement, {_KEYS: list(keys)})).all()
    by_key = {row._mapping[key.key]: to_object(row) for row in found}
    return [by_key.get(k) for k in keys]


async def many_each(
    context: Context,
    statement: Select[Any],
    key: ColumnElement[Any],
    keys: Sequence[Hashable],
    to_object: Callable[[Row[Any]], T],
    *,
    rows: str | None,
) -> list[list[T]]:
    """For each key, the objects built from every row whose `key` equals it, in order.

    `rows` names the row type whose rules narrow the statement; hidden records are left out.
    """
    statement = _keyed(context, statement, key, rows)
    found = (await context.session.execute(statement, {_KEYS: list(keys)})).all()
    grouped: dict[Hashable, list[T]] = defaultdict(list)
    for row in found:
        grouped[row._mapping[key.key]].append(to_object(row))
    return [grouped.get(k, []) for k in keys]


# --- reference data -----------------------------------------------------------------------
#
# Regions and the need taxonomy are reference data: `hub db upgrade` inserts the rows that
# are missing and nothing ever changes or deletes one. A page of needs asks for the same
# few dozen of them on every request (kelurahan, kecamatan, category): one statement each,
# about 1.5 ms of the process's CPU apiece, for rows it already read. So each process keeps
# the rows (never the objects: a response sets attributes on its own), read whole the
# first time; a key still missing is asked in the request, as before, and kept once found.
#
# The first read goes through an engine of its own, one connection, closed at once: not
# the request's session (its statements would be the request's, on one request only), and
# not the app's pool, which concurrent requests may hold whole while they wait for it.

#: Per connection pool (one per database the process serves): table -> key -> row.
_REFERENCE_ROWS: weakref.WeakKeyDictionary[Any, dict[FromClause, dict[Hashable, Row[Any]]]] = (
    weakref.WeakKeyDictionary()
)
#: One first read at a time per pool: concurrent requests wait for it instead of each
#: opening a connection.
_REFERENCE_LOCKS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


async def _reference_rows(
    context: Context, table: FromClause, key: ColumnElement[Any]
) -> dict[Hashable, Row[Any]]:
    bind = context.session.bind
    if not isinstance(bind, AsyncEngine):
        return {}  # a session on a connection of its own: every key is asked in it
    pool = bind.sync_engine.pool
    tables = _REFERENCE_ROWS.setdefault(pool, {})
    rows = tables.get(table)
    if rows is not None:
        return rows
    async with _REFERENCE_LOCKS.setdefault(pool, asyncio.Lock()):
        rows = tables.get(table)
        if rows is None:
            engine = create_engine(bind.url.render_as_string(hide_password=False), pool_size=1)
            try:
                async with engine.connect() as connection:
                    found = (await connection.execute(select(table))).all()
            finally:
                await engine.dispose()
            rows = tables[table] = {row._mapping[key]: row for row in found}
    return rows


async def reference_each(
    context: Context,
    table: FromClause,
    key: ColumnElement[Any],
    keys: Sequence[Hashable],
    to_object: Callable[[Row[Any]], T],
) -> list[T | None]:
    """`one_each` for a reference table (no row rules): the rows from the process's copy,
    a new object per request; keys it lacks are asked in the request and kept."""
    rows = await _reference_rows(context, table, key)
    missing = [k for k in keys if k not in rows]
    if missing:
        found = (await context.session.execute(select(table).where(key.in_(missing)))).all()
        rows.update((row._mapping[key], row) for row in found)
    return [to_object(rows[k]) if k in rows else None for k in keys]
