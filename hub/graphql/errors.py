"""Expected errors carry a code in `extensions`; everything else is masked.

    GraphQLError (graphql-core)
     └── HubError            expected, shown to the client with `extensions.code`
          ├── BadInput        BAD_USER_INPUT: an argument was wrong; says what is accepted
          └── NotFound        NOT_FOUND: no such record (or none the caller may see)

Any other exception raised in a resolver is replaced by "Unexpected error." with the
request id, and logged with its traceback under that id.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

logger = logging.getLogger("hub.graphql")


class HubError(GraphQLError):
    """An expected failure the client can act on."""

    code = "HUB_ERROR"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        extensions = {"code": code or self.code, **details}
        super().__init__(message, extensions=extensions)


class BadInput(HubError):
    """An argument was malformed or out of range."""

    code = "BAD_USER_INPUT"


class NotFound(HubError):
    """The record does not exist, or the caller may not know that it exists."""

    code = "NOT_FOUND"


def is_expected(error: GraphQLError) -> bool:
    """True for errors a client should see as they are (validation, parsing, HubError)."""
    original = error.original_error
    if original is None:
        return True  # syntax and validation errors from graphql-core
    # Scalar parsing and argument coercion raise these with a message meant for the client.
    return isinstance(original, GraphQLError | HubError)
