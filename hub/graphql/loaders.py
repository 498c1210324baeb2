"""Batch loading helpers: one query for many keys, results aligned with the keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.engine import Row

if TYPE_CHECKING:
    from hub.graphql.context import Context

T = TypeVar("T")


async def one_each(
    context: Context,
    statement: Select[Any],
    key: ColumnElement[Any],
    keys: Sequence[Hashable],
    to_object: Callable[[Row[Any]], T],
) -> list[T | None]:
    """For each key, the object built from the row whose `key` equals it (or None)."""
    rows = (await context.session.execute(statement.where(key.in_(keys)))).all()
    by_key = {row._mapping[key.key]: to_object(row) for row in rows}
    return [by_key.get(k) for k in keys]


async def many_each(
    context: Context,
    statement: Select[Any],
    key: ColumnElement[Any],
    keys: Sequence[Hashable],
    to_object: Callable[[Row[Any]], T],
) -> list[list[T]]:
    """For each key, the objects built from every row whose `key` equals it, in order."""
    rows = (await context.session.execute(statement.where(key.in_(keys)))).all()
    grouped: dict[Hashable, list[T]] = defaultdict(list)
    for row in rows:
        grouped[row._mapping[key.key]].append(to_object(row))
    return [grouped.get(k, []) for k in keys]
