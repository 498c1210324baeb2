"""Relay pagination: global ids, the `Node` interface, cursor connections over keyset pages.

The keyset pages themselves (sort keys, cursors) are `hub.pagination`, free of strawberry so
that domain queries can declare their orders; this module turns a page into a connection.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Annotated, Generic, TypeVar

import strawberry

from hub.graphql.errors import BadInput
from hub.ids import global_id
from hub.pagination import Page

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


# --- pages as connections --------------------------------------------------------------


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    """The number of rows to return for `first`, or `BadInput` when out of bounds."""
    if first is None:
        return default
    if not 1 <= first <= maximum:
        raise BadInput(
            f"`first` must be between 1 and {maximum}; got {first}", code="BAD_PAGE_SIZE"
        )
    return first


def connection(
    page: Page, nodes: list[T], count: Callable[[], Awaitable[int]], *, edges: bool = True
) -> Connection[T]:
    """A connection of `nodes` (mapped from `page.rows`, same order).

    `edges=False` when the selection asks for no edges: none are made, and `page.cursors`
    may hold only the first and the last row's (what `pageInfo` gives).
    """
    made = (
        [Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)] if edges else []
    )
    info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
    return Connection(edges=made, nodes=nodes, page_info=info, _count=count)


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
