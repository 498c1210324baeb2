"""Global ids as clients know them, for messages written below the GraphQL layer.

A service that names a record in an error names it the way the client sent it: `Need:…`'s
opaque global id, never the row id (which no client ever sees).
"""

from __future__ import annotations

import base64


def global_id(type_name: str, key: object) -> str:
    """The opaque global id of one object: base64 of `Type:key` (as `node(id)` takes it)."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def need_ref(key: object) -> str:
    """A need as the client knows it."""
    return global_id("Need", key)


def citizen_ref(key: object) -> str:
    """A citizen as the client knows it."""
    return global_id("Citizen", key)


def contribution_ref(key: object) -> str:
    """A contribution as the client knows it."""
    return global_id("Contribution", key)
