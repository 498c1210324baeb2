"""Batch loading helpers: one query for many keys, results aligned with the keys.

Every batch load names the policy's row type of what it loads (`rows="Citizen"`), or says
`rows=None` for data outside the row layer (reference data, parts of an object already
reached). The row type's filter is then part of the statement itself, so a relation reached
at any depth (`Need.citizen`, `Household.members`, `Contribution.need`) returns only the
records a root list would: no path around the row rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.engine import Row

if TYPE_CHECKING:
    from hub.graphql.context import Context

T = TypeVar("T")


def _within(context: Context, statement: Select[Any], rows: str | None) -> Select[Any]:
    return statement if rows is None else statement.where(context.row_filter(rows))


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
    """
    statement = _within(context, statement, rows).where(key.in_(keys))
    found = (await context.session.execute(statement)).all()
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
    statement = _within(context, statement, rows).where(key.in_(keys))
    found = (await context.session.execute(statement)).all()
    grouped: dict[Hashable, list[T]] = defaultdict(list)
    for row in found:
        grouped[row._mapping[key.key]].append(to_object(row))
    return [grouped.get(k, []) for k in keys]
