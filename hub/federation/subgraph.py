"""The schema class that makes the hub an Apollo Federation 2 subgraph."""

from __future__ import annotations

from typing import Any

import strawberry.federation
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

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
        copies: list[Any] = [dict(r) for r in representations]  # type: ignore[call-overload]
        return super().entities_resolver(info, copies)
