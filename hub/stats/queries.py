"""The city's public totals: needs by place and category, what partners gave, how fast.

Every figure is a GROUP BY in the database; Python only shapes the grouped rows. Nothing here
names or counts a single person: the smallest cell is a kecamatan and a category.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.contributions.models import Contribution
from hub.localtime import local_date
from hub.needs.models import Need
from hub.organizations.models import Organization

#: What Kota Bandung's partners could fund (Rp1.5 trillion), against which giving is tracked.
PARTNER_FUNDING_POTENTIAL = 1_500_000_000_000

_needs = Need.__table__
_contributions = Contribution.__table__
_organizations = Organization.__table__


@dataclass(frozen=True, slots=True)
class NeedCounts:
    """Open, pledged and fulfilled needs of one category in one kecamatan."""

    kecamatan_code: str
    category_code: str
    open: int
    pledged: int
    fulfilled: int


@dataclass(frozen=True, slots=True)
class ContributionTotal:
    """What one organisation delivered in one category in one month (`YYYY-MM`)."""

    organization_id: int
    organization_code: str
    category_code: str
    month: str
    amount_rupiah: int
    contributions: int


@dataclass(frozen=True, slots=True)
class FundingMonth:
    """Partners' (LKS) giving in one month, and the running total up to it."""

    month: str
    amount_rupiah: int
    running_total_rupiah: int


@dataclass(frozen=True, slots=True)
class PartnerFunding:
    """Partners' giving so far against the city's partner-funding potential."""

    total_rupiah: int
    potential_rupiah: int
    #: total / potential, 0.0 to 1.0 (and beyond, were partners to give more).
    share: float
    by_month: list[FundingMonth]


@dataclass(frozen=True, slots=True)
class FulfilmentTime:
    """How long fulfilled needs waited from OPEN to FULFILLED, in days."""

    median_days: float | None
    fulfilled_needs: int


@dataclass(frozen=True, slots=True)
class CityStats:
    """The city's public totals as of one moment."""

    as_of: dt.datetime
    needs: list[NeedCounts]
    contributions: list[ContributionTotal]
    fulfilment: FulfilmentTime
    partner_funding: PartnerFunding


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _month(column: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """`YYYY-MM` of a date column."""
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _days_open(dialect: str) -> ColumnElement[Any]:
    """Days (fractional) from a need's opening to its fulfilment."""
    if dialect == "postgresql":
        return func.extract("epoch", _needs.c.fulfilled_at - _needs.c.opened_at) / 86400.0
    return func.julianday(_needs.c.fulfilled_at) - func.julianday(_needs.c.opened_at)


async def city_stats(session: AsyncSession, *, now: dt.datetime) -> CityStats:
    """The city's needs, contributions, fulfilment time and partner funding as of `now`."""
    return CityStats(
        as_of=now,
        needs=await needs_by_area(session),
        contributions=await contributions_by_month(session, now=now),
        fulfilment=await fulfilment_time(session),
        partner_funding=await partner_funding(session, now=now),
    )


async def needs_by_area(session: AsyncSession) -> list[NeedCounts]:
    """Open, pledged and fulfilled needs per (kecamatan, category)."""
    n = _needs.c

    def count(status: str) -> ColumnElement[int]:
        return func.sum(case((n.status == status, 1), else_=0))

    rows = await session.execute(
        select(
            n.kecamatan_code,
            n.category_code,
            count("OPEN"),
            count("PLEDGED"),
            count("FULFILLED"),
        )
        .where(n.status.in_(("OPEN", "PLEDGED", "FULFILLED")))
        .group_by(n.kecamatan_code, n.category_code)
        .order_by(n.kecamatan_code, n.category_code)
    )
    return [NeedCounts(k, c, int(o), int(p), int(f)) for k, c, o, p, f in rows]


async def contributions_by_month(
    session: AsyncSession, *, now: dt.datetime
) -> list[ContributionTotal]:
    """Rupiah and count per (organisation, category, month) delivered up to `now`."""
    c = _contributions.c
    month = _month(c.delivered_on, _dialect(session)).label("month")
    rows = await session.execute(
        select(
            c.organization_id,
            _organizations.c.code,
            c.category_code,
            month,
            func.sum(c.amount_rupiah),
            func.count(),
        )
        .join_from(_contributions, _organizations, _organizations.c.id == c.organization_id)
        .where(c.delivered_on <= local_date(now))
        .group_by(c.organization_id, _organizations.c.code, c.category_code, month)
        .order_by(c.organization_id, c.category_code, month)
    )
    return [
        ContributionTotal(org_id, code, category, month_, int(amount), int(count))
        for org_id, code, category, month_, amount, count in rows
    ]


async def fulfilment_time(session: AsyncSession, *, portable: bool = False) -> FulfilmentTime:
    """Median days OPEN -> FULFILLED: `percentile_cont` on PostgreSQL, else a window query."""
    dialect = _dialect(session)
    days = _days_open(dialect).label("days")
    done = (
        _needs.c.status == "FULFILLED",
        _needs.c.opened_at.is_not(None),
        _needs.c.fulfilled_at.is_not(None),
    )
    # `portable` forces the window query on PostgreSQL too, so both can be compared there.
    if dialect == "postgresql" and not portable:
        row = (
            await session.execute(
                select(func.percentile_cont(0.5).within_group(days), func.count()).where(*done)
            )
        ).one()
    else:
        ranked = (
            select(
                days,
                func.row_number().over(order_by=days).label("rank"),
                func.count().over().label("total"),
            )
            .where(*done)
            .subquery()
        )
        # The middle row (odd count) or the mean of the two middle rows (even count).
        row = (
            await session.execute(
                select(func.avg(ranked.c.days), func.max(ranked.c.total)).where(
                    ranked.c.rank.in_(((ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2))
                )
            )
        ).one()
    median, total = row
    return FulfilmentTime(
        median_days=None if median is None else float(median), fulfilled_needs=int(total or 0)
    )


async def partner_funding(session: AsyncSession, *, now: dt.datetime) -> PartnerFunding:
    """Foundations' (LKS) giving per month with its running total, against the potential."""
    c = _contributions.c
    month = _month(c.delivered_on, _dialect(session)).label("month")
    monthly = (
        select(month, func.sum(c.amount_rupiah).label("amount"))
        .join_from(_contributions, _organizations, _organizations.c.id == c.organization_id)
        .where(_organizations.c.kind == "LKS", c.delivered_on <= local_date(now))
        .group_by(month)
        .subquery()
    )
    rows = await session.execute(
        select(
            monthly.c.month,
            monthly.c.amount,
            func.sum(monthly.c.amount).over(order_by=monthly.c.month),
        ).order_by(monthly.c.month)
    )
    by_month = [FundingMonth(m, int(amount), int(running)) for m, amount, running in rows]
    total = by_month[-1].running_total_rupiah if by_month else 0
    return PartnerFunding(
        total_rupiah=total,
        potential_rupiah=PARTNER_FUNDING_POTENTIAL,
        share=total / PARTNER_FUNDING_POTENTIAL,
        by_month=by_month,
    )
