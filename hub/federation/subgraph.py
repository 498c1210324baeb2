"""The schema class that makes the hub an Apollo Federation 2 subgraph."""

from __future__ import annotations

from typing import Any

import strawberry.federation
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from hub.graphql.errors import BadInput

#: The newest Federation version the composition the gateway folder pins understands
#: (@theguild/federation-composition 0.27: v2.0-v2.9); strawberry's default is newer.
FEDERATION_VERSION = "2.9"


class Subgraph(strawberry.federation.Schema):
    """Strawberry's federation schema at `FEDERATION_VERSION`, with `_entities` leaving the
    request's variables alone.

    Strawberry pops `__typename` from each representation (and adds `info` to it) in place,
    and those dicts are the client's variables, which the audit trail records afterwards.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("federation_version", FEDERATION_VERSION)
        super().__init__(*args, **kwargs)

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # `_Any` takes any JSON: a representation that is not an object naming one of our
        # entities is the caller's mistake, answered at its index, not an internal error.
        entity_types = {t.name for t in info.schema._schema.type_map["_Entity"].types}  # type: ignore[attr-defined]
        results: list[Any] = []
        valid: list[tuple[int, dict[str, Any]]] = []
        for index, representation in enumerate(representations):
            typename = (
                representation.get("__typename") if isinstance(representation, dict) else None
            )
            if typename in entity_types:
                valid.append((index, dict(representation)))  # type: ignore[call-overload]
                results.append(None)
            else:
                results.append(
                    BadInput(
                        f"representations[{index}] must be an object whose __typename is one of "
                        f"{', '.join(sorted(entity_types))}",
                        code="INVALID_REFERENCE",
                    )
                )
        resolved = super().entities_resolver(info, [r for _, r in valid])  # type: ignore[misc]
        for (index, _), result in zip(valid, resolved, strict=True):
            results[index] = result
        return results
