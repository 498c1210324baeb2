"""The one way a list field becomes a page: filter, keyset page, map, prefetch, count."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import True_
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.errors import BadInput
from hub.graphql.prefetch import (
    Joined,
    JoinPlan,
    join_plan,
    join_relations,
    node_tree,
    prefetch,
    selection_tree,
    set_joined,
)
from hub.graphql.relay import Connection, connection, page_size
from hub.pagination import CursorError, Page, SortKey, encode_cursor, paginate, to_page

T = TypeVar("T")

#: Lists' statements narrowed by the rules, cut to a first page and with the selected
#: to-one relations joined, by the list's statement (a weak key: one built anew per request
#: is forgotten with it), then by everything else they are made of, by identity (the entry
#: holds it): the rules' condition (one object per caller, `hub.authz.rows.row_filter`),
#: the order, the size and the joins. A list whose statement is kept for the same filters
#: (the needs list's, `hub.needs.queries.filtered_statement`) builds its first page once
#: per caller and selection: about 0.5 ms of Python a request, SQLAlchemy's cache key
#: with it.
_PAGES: weakref.WeakKeyDictionary[Select[Any], dict[tuple[Any, ...], tuple[Any, ...]]] = (
    weakref.WeakKeyDictionary()
)


def _pages(
    statement: Select[Any],
    condition: Any,
    keys: Sequence[SortKey],
    size: int,
    plan: JoinPlan,
) -> tuple[Select[Any], Select[Any], tuple[Joined, ...]]:
    """`statement` under `condition`; its first page of `size` in the order `keys` with the
    relations of `plan` joined; and where their columns are."""
    parts = (condition, keys, *(part for step in plan for part in step))
    variants = _PAGES.get(statement)
    if variants is None:
        variants = _PAGES[statement] = {}
    ident = (size, *map(id, parts))
    entry = variants.get(ident)
    if entry is not None and all(a is b for a, b in zip(entry[0], parts, strict=True)):
        return entry[1], entry[2], entry[3]
    narrowed = statement.where(condition)
    first_page, joined = join_relations(_page(statement, condition, keys, size, None), plan)
    if len(variants) >= 256:
        variants.clear()  # callers without end (a policy reloaded many times over)
    variants[ident] = (parts, narrowed, first_page, joined)
    return narrowed, first_page, joined


def _page(
    statement: Select[Any],
    condition: Any,
    keys: Sequence[SortKey],
    size: int,
    after: str | None,
) -> Select[Any]:
    """The page, after `after`, of `statement` under the rules' `condition`.

    Under rules that filter, in two steps: which rows, by their keys alone, then those rows.
    A rule tests a few columns, and a page of a foundation's feed walks the order's index
    past thousands of needs it may not see (3,378 for 51 at city scale); the first step
    reads them off an index that holds those columns (`ix_needs_status_urgent` includes the
    service area's), never the table, and only the page's rows are read whole (8.8 → 2.4 ms
    of PostgreSQL for that page). The last key is the table's own primary key, so the second
    step finds exactly the rows the first chose; it repeats the list's filters, not the
    rules. A list under no rule (`true()`), or whose last key is not its table's primary
    key, is read in one step.
    """
    narrowed = statement.where(condition)
    unique = keys[-1].column
    if isinstance(condition, True_) or not _primary_key(unique):
        return paginate(narrowed, keys, first=size, after=after)
    chosen = paginate(narrowed, keys, first=size, after=after).with_only_columns(unique)
    # Not correlated with the outer statement, which reads the same table: its own FROM.
    within = statement.where(unique.in_(chosen.correlate(None)))
    return paginate(within, keys, first=size, after=None)


def _primary_key(column: Any) -> bool:
    """Whether `column` is, alone, its table's primary key."""
    key = getattr(getattr(column, "table", None), "primary_key", None)
    return key is not None and list(key.columns) == [column]


def _ends(rows: Sequence[Row[Any]], keys: Sequence[SortKey], size: int, after: str | None) -> Page:
    """`to_page` with the cursors of the first and the last row only (no edges selected:
    a cursor per row cost ~0.3 ms a page for the one `pageInfo.endCursor` read)."""
    visible = list(rows[:size])
    ends = visible[:1] + visible[1:][-1:]
    cursors = [encode_cursor([row._mapping[k.name] for k in keys]) for row in ends]
    return Page(visible, cursors, has_next=len(rows) > size, has_previous=after is not None)


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
    selected = selection_tree(info)
    tree = node_tree(selected)
    # The node type, where `to_object` is its `from_row`: its to-one relations that can
    # be joined come in the page's own statement.
    owner = getattr(to_object, "__self__", None)
    plan = join_plan(context, statement, owner, tree) if isinstance(owner, type) else ()
    unnarrowed, condition = statement, context.row_filter(row_type)
    statement, paged, joined = _pages(statement, condition, keys, size, plan)
    if after is not None:
        try:
            paged = _page(unnarrowed, condition, keys, size, after)
        except CursorError as error:
            raise BadInput(str(error), code=error.code) from None
        paged, joined = join_relations(paged, plan)
    rows = await context.rows(paged)
    edges = "edges" in selected
    page = to_page(rows, keys, first=size, after=after) if edges else _ends(rows, keys, size, after)
    nodes = [to_object(row) for row in page.rows]
    set_joined(nodes, page.rows, joined)
    await prefetch(info, nodes, tree=tree, loaded_already=frozenset(j.field for j in joined))

    async def total() -> int:
        if count is not None:
            counted = count()
        else:
            counted = select(func.count()).select_from(statement.subquery())
        return int(await context.scalar(counted))

    return connection(page, nodes, total, edges=edges)


#: Lookups' statements narrowed by the rules with the selected to-one relations joined, as
#: `_PAGES` keeps pages' (the statement a weak key, the rest by identity).
_LOOKUPS: weakref.WeakKeyDictionary[Select[Any], dict[tuple[int, ...], tuple[Any, ...]]] = (
    weakref.WeakKeyDictionary()
)


async def lookup(
    info: Info[Context, Any],
    row_type: str,
    statement: Select[Any],
    params: Mapping[str, Any],
    to_object: Callable[[Row[Any]], T],
) -> T | None:
    """The object of the first row of `statement` under `row_type`'s rules, or None; its
    selected to-one relations joined in the same statement, the rest prefetched (`single`).

    `statement` is built once, its values bound by `params`: the statement with the rules
    and joins is then built once per caller and selection.
    """
    context = info.context
    tree = selection_tree(info)
    owner = getattr(to_object, "__self__", None)
    plan = join_plan(context, statement, owner, tree) if isinstance(owner, type) else ()
    condition = context.row_filter(row_type)
    parts = (condition, *(part for step in plan for part in step))
    variants = _LOOKUPS.get(statement)
    if variants is None:
        variants = _LOOKUPS[statement] = {}
    ident = tuple(map(id, parts))
    entry = variants.get(ident)
    if entry is not None and all(a is b for a, b in zip(entry[0], parts, strict=True)):
        built, joined = entry[1], entry[2]
    else:
        built, joined = join_relations(statement.where(condition), plan)
        if len(variants) >= 256:
            variants.clear()
        variants[ident] = (parts, built, joined)
    async with context.db_lock:
        row = (await context.session.execute(built, dict(params))).first()
    if row is None:
        return None
    obj = to_object(row)
    set_joined([obj], [row], joined)
    await prefetch(info, [obj], tree=tree, loaded_already=frozenset(j.field for j in joined))
    return obj


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
