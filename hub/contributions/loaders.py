"""Batch loaders of the contributions domain, and the relations they serve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from hub.contributions.models import Contribution as ContributionRow
from hub.contributions.types import Contribution
from hub.graphql.context import Context
from hub.graphql.loaders import one_each
from hub.graphql.prefetch import relation
from hub.needs.loaders import categories_by_code, needs_by_id
from hub.organizations.loaders import organizations_by_id
from hub.regions.loaders import regions_by_code
from hub.registry.loaders import citizens_by_id

_contributions = ContributionRow.__table__


async def contributions_by_id(context: Context, ids: Sequence[Any]) -> list[Contribution | None]:
    """Contributions for the given ids, aligned with them."""
    return await one_each(
        context,
        select(_contributions),
        _contributions.c.id,
        ids,
        Contribution.from_row,
        rows="Contribution",
    )


relation(Contribution, "need", attr="need", key=lambda c: c.need_id, load=needs_by_id)
relation(Contribution, "citizen", attr="citizen", key=lambda c: c.citizen_id, load=citizens_by_id)
relation(
    Contribution,
    "organization",
    attr="organization",
    key=lambda c: c.organization_id,
    load=organizations_by_id,
)
relation(
    Contribution,
    "category",
    attr="category",
    key=lambda c: c.category_code,
    load=categories_by_code,
)
relation(
    Contribution,
    "kecamatan",
    attr="kecamatan",
    key=lambda c: c.kecamatan_code,
    load=regions_by_code,
)
