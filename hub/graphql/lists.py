"""The one way a list field becomes a page: filter, keyset page, map, prefetch, count."""

from __future__ import annotations

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
    statement = statement.where(context.row_filter(row_type))
    settings = context.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
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
