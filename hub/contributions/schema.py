"""GraphQL fields of the contributions domain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.contributions import queries
from hub.contributions.types import Contribution, ContributionKind
from hub.graphql.context import Context
from hub.graphql.lists import page_of
from hub.graphql.relay import After, Connection, First, pk_of
from hub.regions.types import RegionLevel, check_codes


@strawberry.input(description="Which contributions to list. Every given condition must hold.")
class ContributionFilter:
    organization: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the organisation that delivered."
    )
    kecamatan: list[str] | None = strawberry.field(
        default=None, description="Kecamatan codes; any of them."
    )
    category: list[str] | None = strawberry.field(
        default=None, description="Service-domain codes; any of them."
    )
    kind: list[ContributionKind] | None = strawberry.field(
        default=None, description="Kinds; any of them."
    )
    delivered_from: dt.date | None = strawberry.field(
        default=None, description="Delivered on or after this day."
    )
    delivered_to: dt.date | None = strawberry.field(
        default=None, description="Delivered on or before this day."
    )


@strawberry.type
class ContributionQueries:
    @strawberry.field(description="Contributions, a page at a time, most recently delivered first.")
    async def contributions(
        self,
        info: Info[Context, Any],
        filter: Annotated[
            ContributionFilter | None,
            strawberry.argument(description="Which contributions; all reachable when omitted."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Contribution]:
        f = filter or ContributionFilter()
        statement = queries.list_statement(
            organization_id=pk_of(f.organization, "Organization") if f.organization else None,
            kecamatan_codes=check_codes(f.kecamatan, RegionLevel.KECAMATAN),
            category_codes=f.category,
            kinds=[k.name for k in f.kind] if f.kind else None,
            delivered_from=f.delivered_from,
            delivered_to=f.delivered_to,
        )
        return await page_of(
            info,
            "Contribution",
            statement,
            queries.CONTRIBUTION_ORDER,
            Contribution.from_row,
            first=first,
            after=after,
        )
