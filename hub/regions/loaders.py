"""Batch loaders of the regions domain, and the relations they serve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.graphql.context import Context
from hub.graphql.loaders import reference_each
from hub.graphql.prefetch import relation
from hub.regions.models import Region
from hub.regions.types import Region as RegionType

_regions = Region.__table__


async def regions_by_code(context: Context, codes: Sequence[Any]) -> list[RegionType | None]:
    """Regions for the given codes, aligned with them (reference data: the process's copy)."""
    return await reference_each(context, _regions, _regions.c.code, codes, RegionType.from_row)


relation(RegionType, "parent", attr="parent", key=lambda r: r.parent_code, load=regions_by_code)
