"""`node(id)`: where each type of global id is fetched from, under the row rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import FromClause, select
from sqlalchemy.engine import Row
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.errors import BadInput, NotFound
from hub.graphql.lists import many
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


async def load_nodes(
    info: Info[Context, Any],
    type_name: str,
    keys: Sequence[Any],
    *,
    key_column: str | None = None,
) -> dict[Any, Any]:
    """The objects of `type_name` with the given keys that the caller may see, by key.

    One statement for all keys, under the row rules; then one prefetch of what the current
    field selects and one pass of the field layer over everything reached. `node(id)` and
    federation's `_entities` both come through here, so a reference is never a way around
    the policy. `key_column` looks objects up by another unique column (a citizen's NIK).
    """
    source = _SOURCES.get(type_name)
    if source is None or not keys:
        return {}
    column = source.table.c[key_column or source.key_column]
    statement = select(source.table).where(column.in_(list(dict.fromkeys(keys))))
    if source.row_type is not None:
        statement = statement.where(info.context.row_filter(source.row_type))
    rows = await info.context.rows(statement)
    found = {row._mapping[column.key]: source.to_object(row) for row in rows}
    missing = [key for key in dict.fromkeys(keys) if key not in found]
    if missing and source.row_type is not None:
        # Told NOT_FOUND all the same; the trail records a reach the rules refused.
        await info.context.note_if_hidden(
            source.row_type, select(column).where(column.in_(missing))
        )
    await many(info, list(found.values()))
    return found


def parse_node_key(global_id: str, type_name: str, raw_key: str) -> Any:
    """The database key inside a global id, None for a type without nodes; `BadInput` when
    the key is not one a `type_name` has."""
    source = _SOURCES.get(type_name)
    if source is None:
        return None
    try:
        return source.parse_key(raw_key)
    except ValueError:
        raise BadInput(
            f"{global_id!r} is not a global id issued by this hub: its key {raw_key!r} is not "
            f"one a {type_name} has",
            code="INVALID_ID",
        ) from None


async def resolve_node(info: Info[Context, Any], global_id: str) -> Any:
    """The object a global id names, prefetched and masked; `NotFound` otherwise.

    A record the caller may not see is reported exactly like one that does not exist.
    """
    type_name, raw_key = from_global_id(global_id)
    key = parse_node_key(global_id, type_name, raw_key)
    found = await load_nodes(info, type_name, [key]) if key is not None else {}
    if key not in found:
        raise NotFound(f"No object has the id {global_id!r}")
    return found[key]
