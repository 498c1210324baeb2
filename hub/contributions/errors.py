"""Expected failures of recording a contribution (see `hub.errors` for the shape)."""

from __future__ import annotations

from enum import StrEnum

from hub.errors import DomainError


class ContributionErrorCode(StrEnum):
    """Why a contribution was refused."""

    #: Amount, quantity, unit, evidence digest, kind, delivery date or key out of range.
    INVALID_INPUT = "INVALID_INPUT"
    CITIZEN_NOT_FOUND = "CITIZEN_NOT_FOUND"
    CATEGORY_NOT_FOUND = "CATEGORY_NOT_FOUND"
    NEED_NOT_FOUND = "NEED_NOT_FOUND"
    #: The need belongs to another citizen, or is in another category.
    NEED_MISMATCH = "NEED_MISMATCH"
    #: The organisation holds no active pledge on the need (or the need is not PLEDGED).
    NEED_NOT_HELD = "NEED_NOT_HELD"
    #: The idempotency key was used before by this organisation for a different contribution.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


class ContributionError(DomainError):
    """A contribution was refused; `code` is a `ContributionErrorCode`."""

    code: ContributionErrorCode

    def __init__(self, code: ContributionErrorCode, message: str) -> None:
        super().__init__(code, message)
