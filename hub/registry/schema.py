"""GraphQL fields of the registry domain: households and citizens."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.errors import BadInput
from hub.graphql.lists import lookup, page_of
from hub.graphql.relay import After, Connection, First
from hub.graphql.scalars import NIK
from hub.regions.types import RegionLevel, check_codes
from hub.registry import queries
from hub.registry.models import Citizen as CitizenRow
from hub.registry.types import Citizen, Household


@strawberry.input(
    description="Which households (or their members) to list. Every condition must hold."
)
class HouseholdFilter:
    kecamatan: list[str] | None = strawberry.field(
        default=None, description="Kecamatan codes (`32.73.02`); any of them."
    )
    kelurahan: list[str] | None = strawberry.field(
        default=None, description="Kelurahan codes (`32.73.02.1006`); any of them."
    )
    min_welfare_decile: int | None = strawberry.field(
        default=None, description="Lowest DTKS welfare decile to include (1-10)."
    )
    max_welfare_decile: int | None = strawberry.field(
        default=None, description="Highest DTKS welfare decile to include (1-10)."
    )


@strawberry.input(description="Which citizens to list. Every condition must hold.")
class CitizenFilter(HouseholdFilter):
    has_disability: bool | None = strawberry.field(
        default=None,
        description="Only people recorded with (true) or without (false) a disability.",
    )
    has_chronic_illness: bool | None = strawberry.field(
        default=None,
        description="Only people recorded with (true) or without (false) a chronic illness.",
    )


def _household_args(f: HouseholdFilter) -> dict[str, Any]:
    for value, name in (
        (f.min_welfare_decile, "minWelfareDecile"),
        (f.max_welfare_decile, "maxWelfareDecile"),
    ):
        if value is not None and not 1 <= value <= 10:
            raise BadInput(f"`{name}` must be between 1 and 10; got {value}", code="BAD_DECILE")
    return {
        "kecamatan_codes": check_codes(f.kecamatan, RegionLevel.KECAMATAN),
        "kelurahan_codes": check_codes(f.kelurahan, RegionLevel.KELURAHAN),
        "min_decile": f.min_welfare_decile,
        "max_decile": f.max_welfare_decile,
    }


@strawberry.type
class RegistryQueries:
    @strawberry.field(
        description="Households, a page at a time, in the order they were registered."
    )
    async def households(
        self,
        info: Info[Context, Any],
        filter: Annotated[
            HouseholdFilter | None,
            strawberry.argument(description="Which households; all reachable when omitted."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Household]:
        statement = queries.households_statement(**_household_args(filter or HouseholdFilter()))
        return await page_of(
            info,
            "Household",
            statement,
            queries.HOUSEHOLD_ORDER,
            Household.from_row,
            first=first,
            after=after,
        )

    @strawberry.field(description="Citizens, a page at a time, in the order they were registered.")
    async def citizens(
        self,
        info: Info[Context, Any],
        filter: Annotated[
            CitizenFilter | None,
            strawberry.argument(description="Which citizens; all reachable when omitted."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Citizen]:
        f = filter or CitizenFilter()
        statement = queries.citizens_statement(
            **_household_args(f),
            has_disability=f.has_disability,
            has_chronic_illness=f.has_chronic_illness,
        )
        return await page_of(
            info,
            "Citizen",
            statement,
            queries.CITIZEN_ORDER,
            Citizen.from_row,
            first=first,
            after=after,
        )

    @strawberry.field(description="One citizen by NIK; null when the hub has no such person.")
    async def citizen(
        self,
        info: Info[Context, Any],
        nik: Annotated[NIK, strawberry.argument(description="The person's NIK (16 digits).")],
    ) -> Citizen | None:
        context = info.context
        found = await lookup(info, "Citizen", queries.BY_NIK, {"nik": nik}, Citizen.from_row)
        if found is None:
            await context.note_if_hidden(
                "Citizen", select(CitizenRow.id).where(CitizenRow.nik == nik)
            )
        return found
