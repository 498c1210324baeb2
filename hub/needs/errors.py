"""Expected failures of a need's lifecycle and pledges (see `hub.errors` for the shape)."""

from __future__ import annotations

from enum import StrEnum

from hub.errors import DomainError


class NeedErrorCode(StrEnum):
    """Why a need operation was refused."""

    #: No need, citizen, category or organisation with the given id or code.
    NEED_NOT_FOUND = "NEED_NOT_FOUND"
    CITIZEN_NOT_FOUND = "CITIZEN_NOT_FOUND"
    CATEGORY_NOT_FOUND = "CATEGORY_NOT_FOUND"
    ORGANIZATION_NOT_FOUND = "ORGANIZATION_NOT_FOUND"
    #: A value out of range: severity, an empty description or reason, a pledge lifetime.
    INVALID_INPUT = "INVALID_INPUT"
    #: The need's status does not allow the operation (the message names both).
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    #: Another organisation pledged the need first (or holds an active pledge on it).
    NEED_ALREADY_PLEDGED = "NEED_ALREADY_PLEDGED"
    #: The acting organisation does not hold the need (release, close).
    NEED_NOT_HELD = "NEED_NOT_HELD"
    #: A referral must go to another active agency (OPD).
    INVALID_REFERRAL_TARGET = "INVALID_REFERRAL_TARGET"
    #: The need kept changing under this call; retrying is safe.
    CONCURRENT_CHANGE = "CONCURRENT_CHANGE"


class NeedError(DomainError):
    """A need operation was refused; `code` is a `NeedErrorCode`."""

    code: NeedErrorCode

    def __init__(self, code: NeedErrorCode, message: str) -> None:
        super().__init__(code, message)
