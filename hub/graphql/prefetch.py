"""Load a page's relations a level at a time, before the executor walks it.

A resolver that returns a page calls `prefetch(info, objects)`. It reads the selection set,
and for each relation the client asked for (a need's citizen, the citizen's household, the
household's kelurahan, …) loads it for the whole level through the request's dataloader in
one statement, and sets it as a plain attribute. The executor then reads attributes only:
no awaitable per object, and the statement count depends on the depth of the query, not on
the page size.

Each type declares its relations once, next to its mapping, with `relation(...)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from hub.authz.masking import apply_field_access
from hub.graphql.context import BatchLoad, Context

Tree = dict[str, "Tree"]


@dataclass(frozen=True, slots=True)
class Relation:
    """How to load one relation field of a type for many parents at once."""

    attr: str
    key: Callable[[Any], Hashable | None]
    load: BatchLoad
    many: bool


_RELATIONS: dict[tuple[type, str], Relation] = {}


def relation(
    owner: type,
    field: str,
    *,
    attr: str,
    key: Callable[[Any], Hashable | None],
    load: BatchLoad,
    many: bool = False,
) -> None:
    """Declare that `owner.field` (GraphQL name) is loaded by `load` keyed by `key`."""
    _RELATIONS[(owner, field)] = Relation(attr=attr, key=key, load=load, many=many)


def _merge(into: Tree, selections: Iterable[Selection]) -> Tree:
    for selection in selections:
        if isinstance(selection, SelectedField):
            _merge(into.setdefault(selection.name, {}), selection.selections)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            # Type conditions are ignored: a field absent from a type is simply skipped.
            _merge(into, selection.selections)
    return into


def selection_tree(info: Info[Any, Any]) -> Tree:
    """The fields selected below the current field, fragments merged in."""
    tree: Tree = {}
    for field in info.selected_fields:
        _merge(tree, field.selections)
    return tree


def node_tree(connection_tree: Tree) -> Tree:
    """The selection below `edges.node` and `nodes` of a connection."""
    tree: Tree = {}
    for part in (
        connection_tree.get("edges", {}).get("node", {}),
        connection_tree.get("nodes", {}),
    ):
        _deep_merge(tree, part)
    return tree


def _deep_merge(into: Tree, other: Tree) -> None:
    for name, sub in other.items():
        _deep_merge(into.setdefault(name, {}), sub)


async def prefetch_tree(
    context: Context, objects: Sequence[Any], tree: Tree, collected: list[Any]
) -> None:
    """Load every declared relation in `tree` for `objects`, level by level.

    Every object reached (the given ones and all loaded below them) is appended to
    `collected`, so that the field layer can mask the whole response in one pass.
    """
    collected.extend(objects)
    if not objects or not tree:
        return
    owner = type(objects[0])
    for field, subtree in tree.items():
        rel = _RELATIONS.get((owner, field))
        if rel is None:
            continue
        parents = [o for o in objects if getattr(o, rel.attr, None) is None]
        keys = list(dict.fromkeys(k for o in parents if (k := rel.key(o)) is not None))
        loaded = dict(zip(keys, await _load_many(context, rel.load, keys), strict=True))
        children: list[Any] = []
        for parent in parents:
            k = rel.key(parent)
            value = loaded.get(k, [] if rel.many else None) if k is not None else None
            if rel.many and value is None:
                value = []
            setattr(parent, rel.attr, value)
        for parent in objects:
            value = getattr(parent, rel.attr)
            if rel.many:
                children.extend(value)
            elif value is not None:
                children.append(value)
        # Children of one relation may mix types only through interfaces; group them.
        by_type: dict[type, list[Any]] = {}
        for child in _unique(children):
            by_type.setdefault(type(child), []).append(child)
        for group in by_type.values():
            await prefetch_tree(context, group, subtree, collected)


async def _load_many(context: Context, load: BatchLoad, keys: list[Any]) -> list[Any]:
    """`context.loader(load).load_many(keys)`, without a future and a task per key.

    The keys the request's loader has not seen are loaded in one call of its batch
    function (the same function, under the same session lock) and kept in its cache, so a
    later `load` of one of them is answered from there; a key some other resolver already
    asked for is answered by that resolver's future, awaited.
    """
    if not keys:
        return []
    loader = context.loader(load)
    cache = loader.cache_map
    missing = [k for k in keys if (f := cache.get(k)) is None or f.cancelled()]
    if missing:
        values = await loader.load_fn(missing)
        loop = asyncio.get_running_loop()
        for key, value in zip(missing, values, strict=True):
            future: asyncio.Future[Any] = loop.create_future()
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)
            cache.set(key, future)
    found = []
    for key in keys:
        known = cache.get(key)
        assert known is not None
        found.append(known.result() if known.done() else await known)
    return found


def _unique(objects: list[Any]) -> list[Any]:
    seen: set[int] = set()
    out = []
    for o in objects:
        if id(o) not in seen:
            seen.add(id(o))
            out.append(o)
    return out


async def prefetch(
    info: Info[Context, Any],
    objects: Sequence[Any],
    *,
    connection: bool = False,
    at: str | None = None,
) -> None:
    """Prefetch what the current field's selection asks for on `objects`, then apply the
    field layer of the policy to everything the response will contain."""
    tree = selection_tree(info)
    if at is not None:  # the objects sit under a field of the result (a mutation payload)
        tree = tree.get(at, {})
    collected: list[Any] = []
    await prefetch_tree(info.context, objects, node_tree(tree) if connection else tree, collected)
    await apply_field_access(info.context, collected)
