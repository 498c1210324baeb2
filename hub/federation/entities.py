"""The hub's entities for a federation gateway, resolved exactly as `node(id)` resolves them.

`entity(Citizen, keys=("id", "nik"))` marks a type `@key(fields: "id") @key(fields: "nik")`
and gives it the `resolve_reference` strawberry's `_entities` calls for each representation.
The references of one `_entities` field are collected by a per-request dataloader and handed
to `hub.graphql.nodes.load_nodes` a type at a time: one statement per type and key, the row
rules of the caller's roles, one prefetch, one pass of the field layer (masking, the record
of what was shown for the audit). A reference the caller may not see resolves to
`NOT_FOUND`, exactly like `node(id)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.federation.schema_directives import Key
from strawberry.types import Info
from strawberry.types.base import get_object_definition

from hub.graphql.context import Context
from hub.graphql.errors import BadInput, NotFound
from hub.graphql.nodes import load_nodes, parse_node_key
from hub.graphql.relay import from_global_id
from hub.graphql.scalars import validate_nik

#: (type name, key field, key value) of one representation.
Reference = tuple[str, str, Any]

#: Key fields other than `id`, per type: the column each names and how its value is checked.
_OTHER_KEYS = {("Citizen", "nik"): ("nik", validate_nik)}


def entity(cls: type, *, keys: Iterable[str] = ("id",)) -> None:
    """Declare `cls` an entity keyed by each of `keys`, resolved through `node(id)`'s path."""
    definition = get_object_definition(cls, strict=True)
    type_name = definition.name
    definition.directives = [
        *(definition.directives or ()),
        *(Key(fields=key) for key in keys),  # type: ignore[arg-type]
    ]

    async def resolve_reference(info: Info[Context, Any], **representation: Any) -> Any:
        reference = _reference(type_name, representation)
        found = await _batch(info).load(reference)
        if found is None:
            raise NotFound(f"No {type_name} matches the reference {representation!r}")
        return found

    cls.resolve_reference = staticmethod(resolve_reference)  # type: ignore[attr-defined]


def _reference(type_name: str, representation: dict[str, Any]) -> Reference:
    """The key a representation names: its global `id`, or another declared key field."""
    if "id" in representation:
        global_id = str(representation["id"])
        actual, raw_key = from_global_id(global_id)
        key = parse_node_key(global_id, type_name, raw_key) if actual == type_name else None
        if key is None:
            raise BadInput(f"{global_id!r} is not the id of a {type_name}", code="INVALID_ID")
        return (type_name, "id", key)
    for (owner, field), (_column, check) in _OTHER_KEYS.items():
        if owner == type_name and field in representation:
            return (type_name, field, check(representation[field]))
    accepted = ["id", *(f for (owner, f) in _OTHER_KEYS if owner == type_name)]
    raise BadInput(
        f"A {type_name} reference needs one of the key fields {', '.join(accepted)}",
        code="INVALID_REFERENCE",
    )


def _batch(info: Info[Context, Any]) -> DataLoader[Reference, Any]:
    """The request's loader of references for this `_entities` field (one per alias)."""
    # Not `Context.loader`: that holds the session's lock for the whole batch, and this
    # batch runs whole queries (prefetch, masking) that take the lock statement by statement.
    slot = ("federation.entities", info.path.key)
    memo = info.context.memo
    loader = memo.get(slot)
    if loader is None:

        async def load(references: list[Reference]) -> Sequence[Any]:
            return await _load(info, references)

        loader = memo[slot] = DataLoader(load_fn=load)
    return loader


async def _load(info: Info[Context, Any], references: Sequence[Reference]) -> list[Any]:
    """The objects the references name (None where none the caller may see), in order."""
    by_lookup: dict[tuple[str, str], list[Any]] = {}
    for type_name, field, key in references:
        by_lookup.setdefault((type_name, field), []).append(key)
    found: dict[tuple[str, str], dict[Any, Any]] = {}
    for (type_name, field), keys in by_lookup.items():
        column = None if field == "id" else _OTHER_KEYS[(type_name, field)][0]
        found[(type_name, field)] = await load_nodes(info, type_name, keys, key_column=column)
    return [found[(t, f)].get(k) for t, f, k in references]
