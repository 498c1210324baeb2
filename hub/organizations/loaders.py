"""Batch loaders of the organisations domain, and the relations they serve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from hub.graphql.context import Context
from hub.graphql.loaders import many_each, one_each
from hub.graphql.prefetch import relation
from hub.needs.models import NeedCategory
from hub.needs.types import NeedCategory as NeedCategoryType
from hub.organizations.models import Organization, OrganizationArea, OrganizationCategory
from hub.organizations.types import Organization as OrganizationType
from hub.organizations.types import Viewer
from hub.regions.models import Region
from hub.regions.types import Region as RegionType

_orgs = Organization.__table__
_org_categories = OrganizationCategory.__table__
_org_areas = OrganizationArea.__table__
_categories = NeedCategory.__table__
_regions = Region.__table__

# Built once: the batch loads key their final statements on it (`hub.graphql.loaders`).
_ORGANIZATIONS = select(_orgs)


async def organizations_by_id(
    context: Context, ids: Sequence[Any]
) -> list[OrganizationType | None]:
    """Organisations for the given ids, aligned with them."""
    return await one_each(
        context, _ORGANIZATIONS, _orgs.c.id, ids, OrganizationType.from_row, rows="Organization"
    )


async def organizations_by_code(
    context: Context, codes: Sequence[Any]
) -> list[OrganizationType | None]:
    """Organisations for the given codes, aligned with them."""
    return await one_each(
        context,
        _ORGANIZATIONS,
        _orgs.c.code,
        codes,
        OrganizationType.from_row,
        rows="Organization",
    )


async def categories_by_organization(
    context: Context, ids: Sequence[Any]
) -> list[list[NeedCategoryType]]:
    """For each organisation id, the need categories it serves."""
    statement = (
        select(_categories, _org_categories.c.organization_id)
        .join(_org_categories, _org_categories.c.category_code == _categories.c.code)
        .order_by(_categories.c.kind.desc(), _categories.c.position)
    )
    return await many_each(
        context,
        statement,
        _org_categories.c.organization_id,
        ids,
        NeedCategoryType.from_row,
        rows=None,
    )


async def areas_by_organization(context: Context, ids: Sequence[Any]) -> list[list[RegionType]]:
    """For each organisation id, the kecamatan it serves."""
    statement = (
        select(_regions, _org_areas.c.organization_id)
        .join(_org_areas, _org_areas.c.kecamatan_code == _regions.c.code)
        .order_by(_regions.c.code)
    )
    return await many_each(
        context, statement, _org_areas.c.organization_id, ids, RegionType.from_row, rows=None
    )


relation(
    OrganizationType,
    "categories",
    attr="categories",
    key=lambda o: o.pk,
    load=categories_by_organization,
    many=True,
)
relation(
    OrganizationType,
    "areas",
    attr="areas",
    key=lambda o: o.pk,
    load=areas_by_organization,
    many=True,
)
relation(
    Viewer,
    "organization",
    attr="organization",
    key=lambda v: v.organization_id,
    load=organizations_by_id,
)
