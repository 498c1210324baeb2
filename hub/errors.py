"""The one shape of an expected failure in a domain: a stable code and a message for people.

    DomainError                    code + message
     ├── NeedError                 NeedErrorCode (hub.needs.errors)
     ├── ContributionError         ContributionErrorCode (hub.contributions.errors)
     └── OrganizationError         OrganizationErrorCode (hub.organizations.errors)

Each domain has one error class and one code enum (a `StrEnum` whose values are its names).
The GraphQL layer registers that same enum as the payload's `code` (see
`hub.graphql.enums.described_enum`), so a code cannot exist in one place and not the other.

A message says what was wrong and what is allowed ("need 42 is FULFILLED; pledgeNeed needs
OPEN"), so a partner can act on it without reading the source. Anything else a service raises
is a bug or an outage, not an expected failure.
"""

from __future__ import annotations

from enum import StrEnum


class DomainError(Exception):
    """An expected failure of a domain service, with a stable `code`."""

    code: StrEnum

    def __init__(self, code: StrEnum, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}: {self.message})"
