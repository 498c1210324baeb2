"""`node(id)`: which loader fetches each type of global id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strawberry.types import Info

from hub.graphql.context import BatchLoad, Context
from hub.graphql.errors import NotFound
from hub.graphql.lists import single
from hub.graphql.relay import from_global_id


@dataclass(frozen=True, slots=True)
class NodeSource:
    """How to turn the key of a global id into an object."""

    load: BatchLoad
    parse_key: Callable[[str], Any]


_SOURCES: dict[str, NodeSource] = {}


def node_source(type_name: str, load: BatchLoad, parse_key: Callable[[str], Any] = int) -> None:
    """Declare that global ids of `type_name` are fetched by `load`."""
    _SOURCES[type_name] = NodeSource(load, parse_key)


async def resolve_node(info: Info[Context, Any], global_id: str) -> Any:
    """The object a global id names, with its selection prefetched; `NotFound` otherwise."""
    type_name, raw_key = from_global_id(global_id)
    source = _SOURCES.get(type_name)
    try:
        key = source.parse_key(raw_key) if source else None
    except ValueError:
        key = None
    obj = (
        None if key is None or source is None else await info.context.loader(source.load).load(key)
    )
    if obj is None:
        raise NotFound(f"No object has the id {global_id!r}")
    return await single(info, obj)
