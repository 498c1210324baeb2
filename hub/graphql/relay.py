"""Relay pagination: global ids, the `Node` interface, cursor connections over keyset pages.

Cursors are opaque to clients; inside they hold the sort-key values of the last row, so the
next page is a `WHERE (sort keys) > (cursor)` range scan on an index, not an OFFSET that
grows with the page number.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import orjson
import strawberry
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.engine import Row

from hub.graphql.errors import BadInput
from hub.ids import global_id

T = TypeVar("T")

#: The page arguments every list takes, described once.
First = Annotated[
    int | None, strawberry.argument(description="Page size (default 20, at most 100).")
]
After = Annotated[
    str | None, strawberry.argument(description="Cursor of the last item of the previous page.")
]


def to_global_id(type_name: str, key: object) -> str:
    """The opaque global id of one object: base64 of `Type:key`."""
    return global_id(type_name, key)


def from_global_id(global_id: str) -> tuple[str, str]:
    """Split a global id into (type name, key); raise `BadInput` when it is not one."""
    try:
        type_name, _, key = base64.b64decode(global_id, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):  # binascii.Error; non-ASCII text
        type_name = key = ""
    if not type_name or not key:
        raise BadInput(f"{global_id!r} is not a global id issued by this hub", code="INVALID_ID")
    return type_name, key


@strawberry.interface(description="An object with a globally unique id, fetchable with `node(id)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Globally unique, opaque id of this object; pass it to `node(id)`."
    )


@strawberry.type(description="Where a page stands in its connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when another page follows.")
    has_previous_page: bool = strawberry.field(
        description="True when this page was requested with `after` (earlier rows exist)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge; pass it as `after` for the next page."
    )


@strawberry.type(description="One item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item, for `after`.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, with cursors to fetch the next one.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page with cursors.")
    nodes: list[T] = strawberry.field(description="The items of this page, without cursors.")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow.")
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items match the filter across all pages (one extra query)."
    )
    async def total_count(self) -> int:
        return await self._count()


# --- keyset pagination -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SortKey:
    """One column of a page's order; the last key of an order must be unique (the id)."""

    column: ColumnElement[Any]
    name: str
    descending: bool = False

    def order(self) -> ColumnElement[Any]:
        return self.column.desc() if self.descending else self.column.asc()


def encode_cursor(values: Sequence[object]) -> str:
    """An opaque cursor holding the sort-key values of one row."""
    return base64.urlsafe_b64encode(orjson.dumps([_plain(v) for v in values])).decode()


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _typed(value: object) -> object:
    if isinstance(value, dict):
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
    return value


def decode_cursor(cursor: str, length: int) -> list[object]:
    """The sort-key values inside `cursor`; raise `BadInput` when it is not one of ours."""
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError):
        raw = None
    if not isinstance(raw, list) or len(raw) != length:
        raise BadInput(
            "`after` is not a cursor from this list; pass `pageInfo.endCursor` of the "
            "previous page unchanged",
            code="INVALID_CURSOR",
        )
    try:
        return [_typed(v) for v in raw]
    except (TypeError, ValueError):
        raise BadInput("`after` holds a damaged cursor", code="INVALID_CURSOR") from None


def _after(keys: Sequence[SortKey], values: Sequence[object]) -> ColumnElement[bool]:
    # (a, b, id) > (x, y, z) in the order's directions, expanded so that mixed
    # ascending/descending keys and NULL-free columns work on every backend.
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


@dataclass(slots=True)
class Page:
    """The rows of one page, and whether more follow."""

    rows: list[Row[Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    """The number of rows to return for `first`, or `BadInput` when out of bounds."""
    if first is None:
        return default
    if not 1 <= first <= maximum:
        raise BadInput(
            f"`first` must be between 1 and {maximum}; got {first}", code="BAD_PAGE_SIZE"
        )
    return first


def paginate(
    statement: Select[Any], keys: Sequence[SortKey], *, first: int, after: str | None
) -> Select[Any]:
    """`statement` ordered by `keys`, starting after the cursor, one row past the page."""
    if after is not None:
        statement = statement.where(_after(keys, decode_cursor(after, len(keys))))
    return statement.order_by(*(k.order() for k in keys)).limit(first + 1)


def to_page(
    rows: Sequence[Row[Any]], keys: Sequence[SortKey], *, first: int, after: str | None
) -> Page:
    """Cut the extra row off and compute each row's cursor."""
    visible = list(rows[:first])
    cursors = [encode_cursor([row._mapping[k.name] for k in keys]) for row in visible]
    return Page(visible, cursors, has_next=len(rows) > first, has_previous=after is not None)


def connection(page: Page, nodes: list[T], count: Callable[[], Awaitable[int]]) -> Connection[T]:
    """A connection of `nodes` (mapped from `page.rows`, same order)."""
    edges = [Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)]
    info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
    return Connection(edges=edges, nodes=nodes, page_info=info, _count=count)


#: The largest key a database integer column holds (BIGINT, SQLite's INTEGER).
MAX_DATABASE_KEY = 2**63 - 1


def database_key(key: str) -> int:
    """A key of ASCII digits within BIGINT; `ValueError` otherwise (`int()` alone would
    take Arabic-Indic or full-width digits, and numbers the database cannot compare)."""
    if not (key.isascii() and key.isdigit()) or int(key) > MAX_DATABASE_KEY:
        raise ValueError(key)
    return int(key)


def pk_of(global_id: str, type_name: str) -> int:
    """The database key inside a global id of `type_name`; `BadInput` for any other id."""
    actual, key = from_global_id(global_id)
    try:
        if actual != type_name:
            raise ValueError(actual)
        return database_key(key)
    except ValueError:
        raise BadInput(
            f"{global_id!r} is not the id of a {type_name} (a global id as this hub issues "
            "them, such as the `id` field of the object)",
            code="INVALID_ID",
        ) from None
