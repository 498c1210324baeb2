"""Expected failures of the partner workflow: each carries a code and a message for people.

    WorkflowError                 code + message; the GraphQL layer maps the code to its union
     ├── NeedError                NeedErrorCode: reportNeed … closeNeed, pledges
     └── ContributionError        ContributionErrorCode (hub.contributions.errors)

A message says what was wrong and what is allowed ("need 42 is FULFILLED; pledgeNeed needs
OPEN"), so a partner can act on it without reading the source. Anything else a service raises
is a bug or an outage, not an expected failure.
"""

from __future__ import annotations

from enum import StrEnum


class WorkflowError(Exception):
    """An expected failure of a workflow service, with a stable `code`."""

    code: StrEnum

    def __init__(self, code: StrEnum, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}: {self.message})"


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


class NeedError(WorkflowError):
    """A need operation was refused; `code` is a `NeedErrorCode`."""

    code: NeedErrorCode

    def __init__(self, code: NeedErrorCode, message: str) -> None:
        super().__init__(code, message)
