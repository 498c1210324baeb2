"""GraphQL fields of the regions domain."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.errors import BadInput
from hub.graphql.lists import many
from hub.regions import queries
from hub.regions.types import Region, RegionLevel

_KECAMATAN = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
_KELURAHAN = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def check_codes(codes: Sequence[str] | None, level: RegionLevel) -> list[str] | None:
    """`codes` if each is a well-formed code of `level`; `BadInput` naming the first bad one."""
    if codes is None:
        return None
    pattern, example = (
        (_KECAMATAN, "32.73.02")
        if level is RegionLevel.KECAMATAN
        else (_KELURAHAN, "32.73.02.1006")
    )
    for code in codes:
        if not pattern.match(code):
            raise BadInput(
                f"{code!r} is not a {level.name.lower()} code; expected the Kemendagri form "
                f"{example}",
                code="INVALID_REGION_CODE",
            )
    return list(codes)


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
