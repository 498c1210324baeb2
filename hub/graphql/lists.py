"""The one way a list field becomes a page: filter, keyset page, map, prefetch, count."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Row
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.errors import BadInput
from hub.graphql.prefetch import prefetch
from hub.graphql.relay import Connection, connection, page_size
from hub.pagination import CursorError, SortKey, paginate, to_page

T = TypeVar("T")

#: Lists' statements narrowed by the rules and cut to a first page, by the list's statement
#: (a weak key: one built anew per request is forgotten with it), then by the rules'
#: condition (one object per caller, `hub.authz.rows.row_filter`), the order and the size,
#: by identity (the entry holds them). A list whose statement is kept for the same filters
#: (the needs list's, `hub.needs.queries.filtered_statement`) builds its first page once
#: per caller: about 0.3 ms of Python a request, and SQLAlchemy's cache key with it.
_NARROWED: weakref.WeakKeyDictionary[Select[Any], dict[tuple[int, ...], tuple[Any, ...]]] = (
    weakref.WeakKeyDictionary()
)


def _narrowed(
    statement: Select[Any], condition: Any, keys: Sequence[SortKey], size: int
) -> tuple[Select[Any], Select[Any]]:
    """`statement` under `condition`, and its first page of `size` in the order `keys`."""
    variants = _NARROWED.get(statement)
    if variants is None:
        variants = _NARROWED[statement] = {}
    entry = variants.get((id(condition), id(keys), size))
    if entry is not None and entry[0] is condition and entry[1] is keys:
        return entry[2], entry[3]
    narrowed = statement.where(condition)
    first_page = paginate(narrowed, keys, first=size, after=None)
    if len(variants) >= 256:
        variants.clear()  # callers without end (a policy reloaded many times over)
    variants[(id(condition), id(keys), size)] = (condition, keys, narrowed, first_page)
    return narrowed, first_page


async def page_of(
    info: Info[Context, Any],
    row_type: str,
    statement: Select[Any],
    keys: Sequence[SortKey],
    to_object: Callable[[Row[Any]], T],
    *,
    first: int | None,
    after: str | None,
    count: Callable[[], Select[Any]] | None = None,
) -> Connection[T]:
    """One page of `statement` in the order `keys`, relations prefetched per the selection.

    `row_type` names the policy's row rules that narrow the statement (`Need`, `Citizen`…).
    `count`, when given, builds a one-value statement that answers `totalCount` without
    reading the rows (the needs list's counters); else the rows are counted. Either is built
    only when the selection asks for `totalCount` (building one costs as much as a page's
    mapping).
    """
    context = info.context
    settings = context.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    statement, paged = _narrowed(statement, context.row_filter(row_type), keys, size)
    if after is not None:
        try:
            paged = paginate(statement, keys, first=size, after=after)
        except CursorError as error:
            raise BadInput(str(error), code=error.code) from None
    rows = await context.rows(paged)
    page = to_page(rows, keys, first=size, after=after)
    nodes = [to_object(row) for row in page.rows]
    await prefetch(info, nodes, connection=True)

    async def total() -> int:
        if count is not None:
            counted = count()
        else:
            counted = select(func.count()).select_from(statement.subquery())
        return int(await context.scalar(counted))

    return connection(page, nodes, total)


async def single(info: Info[Context, Any], obj: T | None, *, at: str | None = None) -> T | None:
    """`obj` with the relations its selection asks for prefetched (None stays None).

    `at` names the field of the result the object sits under (`organization` of a payload).
    """
    if obj is not None:
        await prefetch(info, [obj], at=at)
    return obj


async def many(info: Info[Context, Any], objects: list[T]) -> list[T]:
    """`objects` with the relations the selection asks for prefetched."""
    await prefetch(info, objects)
    return objects
