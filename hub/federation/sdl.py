"""The two committed forms of the schema: the subgraph a gateway composes, and the API.

`schema/hub.subgraph.graphql` is the SDL exactly as `_service { sdl }` serves it, with the
`@link` to Federation 2 and the `@key`s. `schema/hub.graphql`, the contract clients read, is
the same schema without federation's plumbing: no `_service`, `_entities`, `_Any`,
`_Entity`, `_Service`, no `@key`, `@shareable` or `@link`.
"""

from __future__ import annotations

import re

_PLUMBING = (
    # The schema block exists only to carry @link (the root types have their usual names).
    re.compile(
        r'^schema @link\(url: "https://specs\.apollo\.dev/federation/[^\n]*\{\n(  .*\n)*\}\n\n',
        re.M,
    ),
    re.compile(r' @key\(fields: "[^"]*"(, resolvable: true)?\)'),
    re.compile(r" @shareable\b"),
    re.compile(r"^  _entities\(representations: \[_Any!\]!\): \[_Entity\]!\n", re.M),
    re.compile(r"^  _service: _Service!\n\n?", re.M),
    re.compile(r"^scalar _Any\n\n", re.M),
    re.compile(r"^union _Entity = [^\n]*\n\n", re.M),
    re.compile(r"^type _Service \{\n  sdl: String!\n\}\n\n?", re.M),
)


def api_sdl(subgraph: str) -> str:
    """The API's SDL: `subgraph` (the federation SDL) without federation's plumbing."""
    for pattern in _PLUMBING:
        subgraph = pattern.sub("", subgraph)
    return subgraph.rstrip("\n") + "\n"
