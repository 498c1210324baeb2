"""GraphQL fields of the regions domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.lists import many
from hub.regions import queries
from hub.regions.types import Region, RegionLevel


@strawberry.type
class RegionQueries:
    @strawberry.field(
        description="Kota Bandung and its 30 kecamatan and 151 kelurahan (Kepmendagri 2025), "
        "by code. Filter by `level` and/or `parentCode`."
    )
    async def regions(
        self,
        info: Info[Context, Any],
        level: Annotated[
            RegionLevel | None, strawberry.argument(description="Only regions of this level.")
        ] = None,
        parent_code: Annotated[
            str | None,
            strawberry.argument(description="Only the regions directly under this code."),
        ] = None,
    ) -> list[Region]:
        async with info.context.db_lock:
            rows = await queries.get_all(
                info.context.session,
                level=level.name if level else None,
                parent_code=parent_code,
            )
        return await many(info, [Region.from_row(r) for r in rows])
