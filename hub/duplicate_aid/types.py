"""GraphQL types of duplicate aid: the warnings returned with a pledge or a contribution."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from hub.duplicate_aid import queries
from hub.graphql.relay import to_global_id


@strawberry.enum(description="What kind of earlier help a duplicate-aid warning found.")
class DuplicateAidKind(Enum):
    ENROLMENT = strawberry.enum_value(
        "ENROLMENT", description="The person is enrolled in a programme of the same category."
    )
    CONTRIBUTION = strawberry.enum_value(
        "CONTRIBUTION",
        description="Another organisation delivered help in the same category recently.",
    )


@strawberry.type(
    description="Earlier help in the same category, found when a need was pledged or a "
    "contribution recorded. Not a refusal: the change was made, and Dinsos reviews the flag."
)
class DuplicateAidWarning:
    kind: DuplicateAidKind = strawberry.field(description="Programme enrolment or contribution.")
    category_code: str = strawberry.field(description="The service domain both helps are in.")
    program_code: str | None = strawberry.field(
        description="The programme the person is enrolled in (`PKH`, `BPNT`, …); null for a "
        "contribution."
    )
    contribution_id: strawberry.ID | None = strawberry.field(
        description="Global id of the earlier contribution; null for an enrolment."
    )
    organization_code: str = strawberry.field(
        description="Who gave the earlier help: the programme's agency or the contributing "
        "organisation."
    )
    on: dt.date = strawberry.field(
        description="When the enrolment started or the earlier contribution was delivered."
    )
    message: str = strawberry.field(description="One sentence saying what was found.")

    @classmethod
    def of(cls, warning: queries.DuplicateAidWarning) -> DuplicateAidWarning:
        """Map a service warning."""
        return cls(
            kind=DuplicateAidKind[warning.kind],
            category_code=warning.category_code,
            program_code=warning.program_code,
            contribution_id=(
                strawberry.ID(to_global_id("Contribution", warning.contribution_id))
                if warning.contribution_id is not None
                else None
            ),
            organization_code=warning.organization_code,
            on=warning.on,
            message=warning.message,
        )
