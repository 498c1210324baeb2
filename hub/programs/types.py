"""GraphQL types of the programmes domain, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.engine import Row

from hub.graphql.scalars import Rupiah
from hub.needs.types import NeedCategory
from hub.organizations.types import Organization


@strawberry.enum(description="Who pays for a programme.")
class FundingSource(Enum):
    APBD_KOTA = strawberry.enum_value("APBD_KOTA", description="Kota Bandung's budget.")
    APBD_JABAR = strawberry.enum_value("APBD_JABAR", description="West Java's budget.")
    APBN = strawberry.enum_value("APBN", description="The national budget.")
    FOUNDATIONS = strawberry.enum_value(
        "FOUNDATIONS", description="Partner foundations (LKS), through their contributions."
    )


@strawberry.type(description="A social programme run by an agency (PKH, BPNT, PBI-JK, …).")
class Program:
    code: str = strawberry.field(description="Stable code, e.g. `PKH`.")
    name: str = strawberry.field(description="Official name.")
    description: str = strawberry.field(description="What the programme gives, and to whom.")
    agency: Organization | None = strawberry.field(
        default=None, description="The agency running it."
    )
    category: NeedCategory | None = strawberry.field(
        default=None, description="Service domain it belongs to."
    )
    funding_source: FundingSource = strawberry.field(
        default=FundingSource.APBN, description="Who pays for it."
    )
    budget: Rupiah | None = strawberry.field(
        default=None,
        description="Yearly allocation for Kota Bandung in whole rupiah; null when it has no "
        "budget of its own (a foundations' programme).",
    )
    agency_code: strawberry.Private[str]
    category_code: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row[Any]) -> Program:
        """Map a `programs` row."""
        return cls(
            code=row.code,
            name=row.name,
            description=row.description,
            funding_source=FundingSource(row.funding_source),
            budget=Rupiah(row.budget_rupiah) if row.budget_rupiah is not None else None,
            agency_code=row.agency_code,
            category_code=row.category_code,
        )


@strawberry.type(description="A person's enrolment in a programme.")
class Enrolment:
    started_on: dt.date = strawberry.field(description="First day of the enrolment.")
    ended_on: dt.date | None = strawberry.field(description="Last day; null while it runs.")
    active: bool = strawberry.field(description="True while the enrolment runs today.")
    benefit: Rupiah | None = strawberry.field(
        default=None,
        description="What the person receives a year, in whole rupiah; null when not recorded.",
    )
    program: Program | None = strawberry.field(default=None, description="The programme.")
    program_code: strawberry.Private[str]
    citizen_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row[Any], today: dt.date | None = None) -> Enrolment:
        """Map an `enrolments` row."""
        today = today or dt.date.today()
        return cls(
            started_on=row.started_on,
            ended_on=row.ended_on,
            active=row.started_on <= today and (row.ended_on is None or row.ended_on >= today),
            benefit=Rupiah(row.benefit_rupiah) if row.benefit_rupiah is not None else None,
            program_code=row.program_code,
            citizen_id=row.citizen_id,
        )
