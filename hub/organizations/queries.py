"""Read queries of the organisations domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from hub.organizations.models import Organization, OrganizationArea, OrganizationCategory
from hub.pagination import SortKey

_orgs = Organization.__table__
_org_categories = OrganizationCategory.__table__
_org_areas = OrganizationArea.__table__

ORGANIZATION_ORDER = (SortKey(_orgs.c.id, "id"),)


def list_statement(
    *,
    kind: str | None = None,
    status: str | None = None,
    category_code: str | None = None,
    kecamatan_code: str | None = None,
) -> Select[Any]:
    """A statement selecting the organisations that match every given filter."""
    statement = select(_orgs)
    if kind is not None:
        statement = statement.where(_orgs.c.kind == kind)
    if status is not None:
        statement = statement.where(_orgs.c.status == status)
    if category_code is not None:
        statement = statement.where(
            select(_org_categories.c.organization_id)
            .where(
                _org_categories.c.organization_id == _orgs.c.id,
                _org_categories.c.category_code == category_code,
            )
            .exists()
        )
    if kecamatan_code is not None:
        statement = statement.where(
            select(_org_areas.c.organization_id)
            .where(
                _org_areas.c.organization_id == _orgs.c.id,
                _org_areas.c.kecamatan_code == kecamatan_code,
            )
            .exists()
        )
    return statement


def by_code_statement(code: str) -> Select[Any]:
    """A statement selecting the organisation with this code."""
    return select(_orgs).where(_orgs.c.code == code)
