"""Queries of the needs domain: filtered, ordered statements for pages of needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select

from hub.graphql.relay import SortKey
from hub.needs.models import Need

_needs = Need.__table__

#: Named orders of the needs list; each ends with the id so that it is total.
NEED_ORDERS: dict[str, tuple[SortKey, ...]] = {
    "URGENT": (
        SortKey(_needs.c.severity, "severity", descending=True),
        SortKey(_needs.c.reported_at, "reported_at"),
        SortKey(_needs.c.id, "id"),
    ),
    "LONGEST_WAITING": (SortKey(_needs.c.reported_at, "reported_at"), SortKey(_needs.c.id, "id")),
    "NEWEST": (
        SortKey(_needs.c.reported_at, "reported_at", descending=True),
        SortKey(_needs.c.id, "id", descending=True),
    ),
}


def list_statement(
    *,
    kecamatan_codes: Sequence[str] | None = None,
    kelurahan_codes: Sequence[str] | None = None,
    category_codes: Sequence[str] | None = None,
    ppks_codes: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    min_severity: int | None = None,
    organization_id: int | None = None,
    citizen_id: int | None = None,
) -> Select[Any]:
    """A statement selecting the needs that match every given filter."""
    statement = select(_needs)
    if kecamatan_codes:
        statement = statement.where(_needs.c.kecamatan_code.in_(kecamatan_codes))
    if kelurahan_codes:
        statement = statement.where(_needs.c.kelurahan_code.in_(kelurahan_codes))
    if category_codes:
        statement = statement.where(_needs.c.category_code.in_(category_codes))
    if ppks_codes:
        statement = statement.where(_needs.c.ppks_code.in_(ppks_codes))
    if statuses:
        statement = statement.where(_needs.c.status.in_(statuses))
    if min_severity is not None:
        statement = statement.where(_needs.c.severity >= min_severity)
    if organization_id is not None:
        statement = statement.where(
            or_(
                _needs.c.reported_by_organization_id == organization_id,
                _needs.c.holder_organization_id == organization_id,
            )
        )
    if citizen_id is not None:
        statement = statement.where(_needs.c.citizen_id == citizen_id)
    return statement
