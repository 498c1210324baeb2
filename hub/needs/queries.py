"""Read statements of the needs domain: the needs list, a foundation's feed, live pledges.

The conditions here are shared with the policy's row rules (`hub.authz.rows`) and the field
masking (`hub.authz.masking`), so that "what a foundation's feed holds" and "whose details a
pledge unlocks" are written once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.needs.models import NO_PPKS, Need, NeedCount, Pledge
from hub.organizations.models import OrganizationArea, OrganizationCategory
from hub.pagination import SortKey
from hub.registry.models import Citizen

_needs = Need.__table__
_pledges = Pledge.__table__
_counts = NeedCount.__table__
_citizens = Citizen.__table__
_areas = OrganizationArea.__table__
_categories = OrganizationCategory.__table__

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


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedFilters:
    """The needs list's filters; every given one must hold (None / empty: no condition)."""

    kecamatan_codes: Sequence[str] | None = None
    kelurahan_codes: Sequence[str] | None = None
    category_codes: Sequence[str] | None = None
    ppks_codes: Sequence[str] | None = None
    statuses: Sequence[str] | None = None
    min_severity: int | None = None
    organization_id: int | None = None
    citizen_id: int | None = None

    @property
    def on_cells_only(self) -> bool:
        """Whether every given filter is on a column of `need_counts` (a cell's key)."""
        return not (
            self.kelurahan_codes or self.organization_id is not None or self.citizen_id is not None
        )


def need_conditions(filters: NeedFilters, table: FromClause = _needs) -> list[ColumnElement[bool]]:
    """The filters as conditions on `needs`, or on `need_counts` (cell columns only)."""
    c = table.c
    conditions: list[ColumnElement[bool]] = []
    if filters.kecamatan_codes:
        conditions.append(c.kecamatan_code.in_(filters.kecamatan_codes))
    if filters.kelurahan_codes:
        conditions.append(c.kelurahan_code.in_(filters.kelurahan_codes))
    if filters.category_codes:
        conditions.append(c.category_code.in_(filters.category_codes))
    if filters.ppks_codes:
        conditions.append(_ppks_in(table, filters.ppks_codes))
    if filters.statuses:
        conditions.append(c.status.in_(filters.statuses))
    if filters.min_severity is not None:
        conditions.append(c.severity >= filters.min_severity)
    if filters.organization_id is not None:
        conditions.append(
            or_(
                c.reported_by_organization_id == filters.organization_id,
                c.holder_organization_id == filters.organization_id,
            )
        )
    if filters.citizen_id is not None:
        conditions.append(c.citizen_id == filters.citizen_id)
    return conditions


def _ppks_in(table: FromClause, codes: Sequence[str] | Select[Any]) -> ColumnElement[bool]:
    # A need without a PPKS type has NULL there, a cell `NO_PPKS`: neither is ever a code.
    condition: ColumnElement[bool] = table.c.ppks_code.in_(codes)
    if table is _counts:
        condition = and_(condition, table.c.ppks_code != NO_PPKS)
    return condition


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
    filters = NeedFilters(
        kecamatan_codes=kecamatan_codes,
        kelurahan_codes=kelurahan_codes,
        category_codes=category_codes,
        ppks_codes=ppks_codes,
        statuses=statuses,
        min_severity=min_severity,
        organization_id=organization_id,
        citizen_id=citizen_id,
    )
    return filtered_statement(filters)


def filtered_statement(filters: NeedFilters) -> Select[Any]:
    """A statement selecting the needs that match `filters` (the same object for the same
    filters: the lists built on it keep their statements per caller, `hub.graphql.lists`)."""
    key = tuple(
        tuple(value) if isinstance(value, list | tuple) else value
        for value in (getattr(filters, name) for name in NeedFilters.__slots__)
    )
    statement = _FILTERED.get(key)
    if statement is None:
        statement = select(_needs).where(*need_conditions(filters))
        if len(_FILTERED) >= 1024:
            _FILTERED.clear()  # filters are the client's: keep the cache bounded
        _FILTERED[key] = statement
    return statement


_FILTERED: dict[tuple[Any, ...], Select[Any]] = {}


# --- a foundation's feed ---------------------------------------------------------------


def open_in_service_area(organization_id: int, table: FromClause = _needs) -> ColumnElement[bool]:
    """OPEN needs in the organisation's kecamatan and categories (service domain or PPKS).

    The row rule `open_in_service_area` of `hub.authz.rows` is this condition; on
    `need_counts` it selects the cells of those needs.
    """
    served = select(_categories.c.category_code).where(
        _categories.c.organization_id == organization_id
    )
    return and_(
        table.c.status == "OPEN",
        table.c.kecamatan_code.in_(
            select(_areas.c.kecamatan_code).where(_areas.c.organization_id == organization_id)
        ),
        or_(table.c.category_code.in_(served), _ppks_in(table, served)),
    )


@dataclass(frozen=True, slots=True)
class LksFeed:
    """The statement of a foundation's feed and its order (the last key is unique)."""

    statement: Select[Any]
    order: tuple[SortKey, ...]


#: Since when an OPEN need has waited for a partner (opened; reported if never stamped).
WAITING_SINCE = func.coalesce(_needs.c.opened_at, _needs.c.reported_at).label("waiting_since")
LKS_FEED_ORDER = (
    SortKey(_needs.c.severity, "severity", descending=True),
    SortKey(WAITING_SINCE, "waiting_since"),
    SortKey(_needs.c.id, "id"),
)


def lks_feed_statement(
    *,
    organization_id: int,
    kecamatan_codes: Sequence[str] | None = None,
    category_codes: Sequence[str] | None = None,
    min_severity: int | None = None,
) -> LksFeed:
    """OPEN needs in the foundation's categories and kecamatan, most urgent first."""
    statement = select(_needs, WAITING_SINCE).where(open_in_service_area(organization_id))
    if kecamatan_codes:
        statement = statement.where(_needs.c.kecamatan_code.in_(list(kecamatan_codes)))
    if category_codes:
        statement = statement.where(
            or_(
                _needs.c.category_code.in_(list(category_codes)),
                _needs.c.ppks_code.in_(list(category_codes)),
            )
        )
    if min_severity is not None:
        statement = statement.where(_needs.c.severity >= min_severity)
    return LksFeed(statement=statement, order=LKS_FEED_ORDER)


# --- live pledges ----------------------------------------------------------------------


def pledged_people_statement(
    *,
    organization_id: int,
    now: dt.datetime,
    citizen_ids: Collection[int] = (),
    household_ids: Collection[int] = (),
) -> Select[Any]:
    """`(id, household_id)` of the given citizens, or of citizens in the given households,
    with a need the organisation holds a live (ACTIVE, unexpired) pledge on."""
    people = []
    if citizen_ids:
        people.append(_citizens.c.id.in_(list(citizen_ids)))
    if household_ids:
        people.append(_citizens.c.household_id.in_(list(household_ids)))
    return (
        select(_citizens.c.id, _citizens.c.household_id)
        .distinct()
        .join(_needs, _needs.c.citizen_id == _citizens.c.id)
        .join(_pledges, _pledges.c.need_id == _needs.c.id)
        .where(
            _pledges.c.organization_id == organization_id,
            _pledges.c.status == "ACTIVE",
            _pledges.c.expires_at > now,
            _needs.c.status == "PLEDGED",
            or_(*people) if people else false(),
        )
    )


async def holds_active_pledge(
    session: AsyncSession, *, organization_id: int, citizen_ids: Sequence[int], now: dt.datetime
) -> set[int]:
    """The citizens among `citizen_ids` whose need the organisation holds a live pledge on."""
    if not citizen_ids:
        return set()
    rows = await session.execute(
        pledged_people_statement(organization_id=organization_id, now=now, citizen_ids=citizen_ids)
    )
    return {row.id for row in rows}
