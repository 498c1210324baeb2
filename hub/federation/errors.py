"""Expected failures of connector registration (see `hub.errors` for the shape).

A connector that fails when called is not a domain error: the GraphQL layer reports it on
the fields it provides (`hub.federation.loaders.ConnectorUnavailable`).
"""

from __future__ import annotations

from enum import StrEnum

from hub.errors import DomainError


class ConnectorErrorCode(StrEnum):
    """Why a connector could not be registered."""

    BAD_NAME = "BAD_NAME"
    BAD_URL = "BAD_URL"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    FIELD_TAKEN = "FIELD_TAKEN"
    BAD_TIMEOUT = "BAD_TIMEOUT"
    BAD_CREDENTIALS = "BAD_CREDENTIALS"
    UNKNOWN_ORGANIZATION = "UNKNOWN_ORGANIZATION"


class ConnectorError(DomainError):
    """A connector registration was refused; `code` is a `ConnectorErrorCode`."""

    code: ConnectorErrorCode

    def __init__(self, code: ConnectorErrorCode, message: str) -> None:
        super().__init__(code, message)
