"""Load a page's relations a level at a time, before the executor walks it.

A resolver that returns a page calls `prefetch(info, objects)`. It reads the selection set,
and for each relation the client asked for (a need's citizen, the citizen's household, the
household's kelurahan, …) loads it for the whole level through the request's dataloader in
one statement, and sets it as a plain attribute. The executor then reads attributes only:
no awaitable per object, and the statement count depends on the depth of the query, not on
the page size.

Each type declares its relations once, next to its mapping, with `relation(...)`. A to-one
relation may also say how to read it in its parent's own statement (`Join`): a page of
needs then brings each need's person in the same statement, one round trip instead of two
(each costs the process ~0.5 ms of CPU, in the driver and the kernel, whatever it returns).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from sqlalchemy import ColumnElement, Select
from sqlalchemy.engine import Row
from strawberry.types import Info

from hub.authz.masking import apply_field_access
from hub.graphql.context import BatchLoad, Context

Tree = dict[str, "Tree"]


@dataclass(frozen=True, slots=True)
class Join:
    """How to read a to-one relation in the parent's statement, as a LEFT JOIN.

    The same rows its batch load reads: `statement(context)` (the load's statement, the
    same object for the same caller), narrowed by the row rules of `rows`, joined on
    `key` = `parent_key` (a column of the parent's table), and mapped by `to_object`. A
    record the rules hide joins nothing: the relation is None, as its load would say.
    """

    parent_key: ColumnElement[Any]
    statement: Callable[[Context], Select[Any]]
    key: ColumnElement[Any]
    rows: str | None
    to_object: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Relation:
    """How to load one relation field of a type for many parents at once."""

    attr: str
    key: Callable[[Any], Hashable | None]
    load: BatchLoad
    many: bool
    join: Join | None = None


_RELATIONS: dict[tuple[type, str], Relation] = {}


def relation(
    owner: type,
    field: str,
    *,
    attr: str,
    key: Callable[[Any], Hashable | None],
    load: BatchLoad,
    many: bool = False,
    join: Join | None = None,
) -> None:
    """Declare that `owner.field` (GraphQL name) is loaded by `load` keyed by `key` (or
    read in the parent's statement, `join`, where the parent's list can)."""
    if join is not None and many:
        raise ValueError(f"{owner.__name__}.{field}: only a to-one relation is joined")
    _RELATIONS[(owner, field)] = Relation(attr=attr, key=key, load=load, many=many, join=join)


# --- to-one relations read in the parent's statement ---------------------------------------


@dataclass(frozen=True, slots=True)
class Joined:
    """One relation joined into a statement: where its columns are in the rows."""

    field: str
    relation: Relation
    #: Label in the rows of each of the child statement's columns, by the column's name.
    labels: tuple[tuple[str, str], ...]
    #: The label of the child's key (NULL: nothing joined).
    key_label: str


class _Columns:
    """The joined child's columns of one row, by their own names (what `from_row` reads)."""

    __slots__ = ("_labels", "_row")

    def __init__(self, row: Any, labels: dict[str, str]) -> None:
        self._row = row
        self._labels = labels

    @property
    def _mapping(self) -> _Columns:
        return self

    def __getitem__(self, name: str) -> Any:
        return self._row[self._labels[name]]

    def get(self, name: str, default: Any = None) -> Any:
        label = self._labels.get(name)
        return default if label is None else self._row[label]


#: What joining one relation takes: the field, its relation, the child's statement and the
#: child's row condition (both the same objects for the same caller).
JoinPlan = tuple[tuple[str, Relation, Select[Any], ColumnElement[bool] | None], ...]


def join_plan(context: Context, statement: Select[Any], owner: type, tree: Tree) -> JoinPlan:
    """The selected to-one relations of `owner` that `statement` can join: those that
    declare a `Join` whose parent key is a column of a table the statement selects."""
    froms: set[Any] | None = None
    plan = []
    for field in tree:
        rel = _RELATIONS.get((owner, field))
        join = rel.join if rel is not None else None
        if join is None:
            continue
        if froms is None:  # (not `get_final_froms()`: it compiles the statement)
            froms = set(statement.columns_clause_froms)
        if join.parent_key.table not in froms:
            continue
        assert rel is not None
        condition = None if join.rows is None else context.row_filter(join.rows)
        plan.append((field, rel, join.statement(context), condition))
    return tuple(plan)


def join_relations(
    statement: Select[Any], plan: JoinPlan
) -> tuple[Select[Any], tuple[Joined, ...]]:
    """`statement` with each relation of `plan` LEFT JOINed in, and where its columns are."""
    joined: list[Joined] = []
    for n, (field, rel, child, condition) in enumerate(plan):
        join = rel.join
        assert join is not None
        if condition is not None:
            child = child.where(condition)
        alias = child.subquery(f"joined_{n}")
        labels = tuple((c.key, f"joined_{n}_{c.key}") for c in alias.c)
        key = str(join.key.key)
        statement = statement.outerjoin(alias, alias.c[key] == join.parent_key)
        statement = statement.add_columns(*(alias.c[name].label(label) for name, label in labels))
        joined.append(Joined(field, rel, labels, dict(labels)[key]))
    return statement, tuple(joined)


def set_joined(
    objects: Sequence[Any], rows: Sequence[Row[Any]], joined: tuple[Joined, ...]
) -> None:
    """Set each joined relation on `objects` from their `rows` (the same order)."""
    for one in joined:
        labels = dict(one.labels)
        to_object = one.relation.join.to_object  # type: ignore[union-attr]
        attr, key_label = one.relation.attr, one.key_label
        for obj, row in zip(objects, rows, strict=False):
            mapping = row._mapping
            value = to_object(_Columns(mapping, labels)) if mapping[key_label] is not None else None
            setattr(obj, attr, value)


def _merge(
    into: Tree, selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> Tree:
    for node in selection_set.selections if selection_set is not None else ():
        if isinstance(node, FieldNode):
            _merge(into.setdefault(node.name.value, {}), node.selection_set, fragments)
        elif isinstance(node, InlineFragmentNode):
            # Type conditions are ignored: a field absent from a type is simply skipped.
            _merge(into, node.selection_set, fragments)
        elif isinstance(node, FragmentSpreadNode):
            # Validation has refused unknown and cyclic fragments.
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                _merge(into, fragment.selection_set, fragments)
    return into


#: Selection trees by the ids of the field's nodes in the parsed document. ParserCache hands
#: the same document for the same text, so a repeated document's fields find their trees
#: here (building one from strawberry's `selected_fields` was ~6 % of a feed page's
#: resolver, py-spy under load). Each entry keeps its nodes, so that their ids are not
#: reused while it lives; the oldest entries go first beyond `_TREES_KEPT`.
_TREES: dict[tuple[int, ...], tuple[Sequence[FieldNode], Tree]] = {}
_TREES_KEPT = 1024


def selection_tree(info: Info[Any, Any]) -> Tree:
    """The fields selected below the current field, fragments merged in (by field name:
    aliases and directives are not looked at). Shared between requests: read it, never
    change it."""
    raw = info._raw_info
    nodes = raw.field_nodes
    key = tuple(map(id, nodes))
    cached = _TREES.get(key)
    if cached is not None:
        return cached[1]
    tree: Tree = {}
    for node in nodes:
        _merge(tree, node.selection_set, raw.fragments)
    if len(_TREES) >= _TREES_KEPT:
        del _TREES[next(iter(_TREES))]
    _TREES[key] = (nodes, tree)
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
    context: Context,
    objects: Sequence[Any],
    tree: Tree,
    collected: list[Any],
    *,
    loaded_already: frozenset[str] = frozenset(),
) -> None:
    """Load every declared relation in `tree` for `objects`, level by level.

    Every object reached (the given ones and all loaded below them) is appended to
    `collected`, so that the field layer can mask the whole response in one pass.
    `loaded_already` names fields of `objects` set already (joined in their statement):
    what lies below them is loaded, they are not.
    """
    collected.extend(objects)
    if not objects or not tree:
        return
    owner = type(objects[0])
    for field, subtree in tree.items():
        rel = _RELATIONS.get((owner, field))
        if rel is None:
            continue
        if field not in loaded_already:
            parents = [o for o in objects if getattr(o, rel.attr, None) is None]
            keys = list(dict.fromkeys(k for o in parents if (k := rel.key(o)) is not None))
            loaded = dict(zip(keys, await _load_many(context, rel.load, keys), strict=True))
            for parent in parents:
                k = rel.key(parent)
                value = loaded.get(k, [] if rel.many else None) if k is not None else None
                if rel.many and value is None:
                    value = []
                setattr(parent, rel.attr, value)
        children: list[Any] = []
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
    tree: Tree | None = None,
    loaded_already: frozenset[str] = frozenset(),
) -> None:
    """Prefetch what the current field's selection asks for on `objects`, then apply the
    field layer of the policy to everything the response will contain.

    `tree`: the selection below the objects, when the caller has it already (`page_of`);
    `loaded_already`: the relations it joined in the objects' statement."""
    if tree is None:
        tree = selection_tree(info)
        if at is not None:  # the objects sit under a field of the result (a payload)
            tree = tree.get(at, {})
        if connection:
            tree = node_tree(tree)
    collected: list[Any] = []
    await prefetch_tree(info.context, objects, tree, collected, loaded_already=loaded_already)
    await apply_field_access(info.context, collected)
