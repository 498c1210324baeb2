"""`node(id)`: where each type of global id is fetched from, under the row rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import FromClause, select
from sqlalchemy.engine import Row
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.errors import BadInput, NotFound
from hub.graphql.lists import single
from hub.graphql.relay import database_key, from_global_id


@dataclass(frozen=True, slots=True)
class NodeSource:
    """How to turn the key of a global id into an object a caller may see."""

    table: FromClause
    key_column: str
    to_object: Callable[[Row[Any]], Any]
    parse_key: Callable[[str], Any]
    #: The policy's row type narrowing lookups, or None for reference data open to all.
    row_type: str | None


_SOURCES: dict[str, NodeSource] = {}


def node_source(
    type_name: str,
    table: FromClause,
    to_object: Callable[[Row[Any]], Any],
    *,
    key_column: str = "id",
    parse_key: Callable[[str], Any] = database_key,
    row_type: str | None = None,
) -> None:
    """Declare that global ids of `type_name` name rows of `table` by `key_column`."""
    _SOURCES[type_name] = NodeSource(table, key_column, to_object, parse_key, row_type)


async def resolve_node(info: Info[Context, Any], global_id: str) -> Any:
    """The object a global id names, prefetched and masked; `NotFound` otherwise.

    A record the caller may not see is reported exactly like one that does not exist.
    """
    type_name, raw_key = from_global_id(global_id)
    source = _SOURCES.get(type_name)
    try:
        key = source.parse_key(raw_key) if source else None
    except ValueError:
        raise BadInput(
            f"{global_id!r} is not a global id issued by this hub: its key {raw_key!r} is not "
            f"one a {type_name} has",
            code="INVALID_ID",
        ) from None
    row = None
    if source is not None and key is not None:
        statement = select(source.table).where(source.table.c[source.key_column] == key)
        if source.row_type is not None:
            statement = statement.where(info.context.row_filter(source.row_type))
        rows = await info.context.rows(statement)
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"No object has the id {global_id!r}")
    return await single(info, source.to_object(row))  # type: ignore[union-attr]
