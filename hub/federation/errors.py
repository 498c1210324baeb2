"""Errors of the federation domain.

ConnectorError            a registration was refused (`code`: ConnectorErrorCode)
ConnectorUnavailable      a connector did not answer in time, failed, or its circuit is
                          open: its fields are null, with this error on their path
"""

from __future__ import annotations

from enum import StrEnum

from hub.graphql.errors import HubError


class ConnectorErrorCode(StrEnum):
    """Why a connector could not be registered."""

    BAD_NAME = "BAD_NAME"
    BAD_URL = "BAD_URL"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    FIELD_TAKEN = "FIELD_TAKEN"
    BAD_TIMEOUT = "BAD_TIMEOUT"
    BAD_CREDENTIALS = "BAD_CREDENTIALS"
    UNKNOWN_ORGANIZATION = "UNKNOWN_ORGANIZATION"


class ConnectorError(Exception):
    """A connector registration the hub refuses, with a code and what is accepted."""

    def __init__(self, code: ConnectorErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ConnectorUnavailable(HubError):
    """The connector gave no usable answer: its fields are null on this path."""

    code = "CONNECTOR_UNAVAILABLE"

    def __init__(self, connector: str, reason: str) -> None:
        super().__init__(
            f"The {connector} connector did not answer ({reason}); its fields are null.",
            connector=connector,
            reason=reason,
        )
