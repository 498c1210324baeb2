"""Expected failures of organisation and client operations (see `hub.errors` for the shape)."""

from __future__ import annotations

from enum import StrEnum

from hub.errors import DomainError


class OrganizationErrorCode(StrEnum):
    """Why an organisation or client operation was refused."""

    #: No such organisation or client.
    NOT_FOUND = "NOT_FOUND"
    #: The code or registration number is already taken.
    ALREADY_EXISTS = "ALREADY_EXISTS"
    #: A value the hub cannot accept.
    INVALID_INPUT = "INVALID_INPUT"
    #: The operation is not allowed in the current status.
    INVALID_STATE = "INVALID_STATE"


class OrganizationError(DomainError):
    """An organisation or client operation was refused; `code` is an `OrganizationErrorCode`."""

    code: OrganizationErrorCode

    def __init__(self, code: OrganizationErrorCode, message: str) -> None:
        super().__init__(code, message)
