"""The city's public totals: needs by place and category, what partners gave, how fast.

Every figure is a GROUP BY in the database; Python only shapes the grouped rows. Needs are
counted off `need_counts` and past months' giving off `contribution_months`, counters that
triggers keep exact in the same statement as every write (migration 0011), so the totals do
not read every need and contribution of the city. Nothing here names or counts a single
person: the smallest cell is a kecamatan and a category.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.contributions.models import Contribution
from hub.localtime import local_date
from hub.needs.models import Need, NeedCount
from hub.organizations.models import Organization
from hub.programs.models import FUNDING_SOURCES, Enrolment, Program
from hub.registry.models import Citizen, Household
from hub.stats.models import ContributionMonth

#: What Kota Bandung's partners could fund (Rp1.5 trillion), against which giving is tracked.
PARTNER_FUNDING_POTENTIAL = 1_500_000_000_000

_needs = Need.__table__
_contributions = Contribution.__table__
_organizations = Organization.__table__
_counts = NeedCount.__table__
_months = ContributionMonth.__table__


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


async def city_stats(
    session: AsyncSession, *, now: dt.datetime, contributions: bool = True
) -> CityStats:
    """The city's needs, contributions, fulfilment time and partner funding as of `now`.

    `contributions=False` leaves the per-organisation table empty: thousands of rows at
    city scale, read only when a client selects them.
    """
    return CityStats(
        as_of=now,
        needs=await needs_by_area(session),
        contributions=await contributions_by_month(session, now=now) if contributions else [],
        fulfilment=await fulfilment_time(session),
        partner_funding=await partner_funding(session, now=now),
    )


async def needs_by_area(session: AsyncSession) -> list[NeedCounts]:
    """Open, pledged and fulfilled needs per (kecamatan, category), off `need_counts`."""
    n = _counts.c

    def count(status: str) -> ColumnElement[int]:
        return func.sum(case((n.status == status, n.n), else_=0))

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
        .having(func.sum(n.n) > 0)
        .order_by(n.kecamatan_code, n.category_code)
    )
    return [NeedCounts(k, c, int(o), int(p), int(f)) for k, c, o, p, f in rows]


def _delivered_by_month(dialect: str, today: dt.date) -> Subquery:
    """(organization_id, category_code, month, amount, contributions) delivered up to
    `today`: past months off `contribution_months`, this month from the contributions
    themselves (a short range of the delivered_on index), as only days up to today count."""
    m = _months.c
    c = _contributions.c
    this_month = today.replace(day=1)
    past = select(
        m.organization_id,
        m.category_code,
        m.month,
        m.amount_rupiah.label("amount"),
        m.contributions.label("contributions"),
    ).where(m.month < this_month.strftime("%Y-%m"), m.contributions > 0)
    month = _month(c.delivered_on, dialect)
    current = (
        select(
            c.organization_id,
            c.category_code,
            month.label("month"),
            func.sum(c.amount_rupiah).label("amount"),
            func.count().label("contributions"),
        )
        .where(c.delivered_on >= this_month, c.delivered_on <= today)
        .group_by(c.organization_id, c.category_code, month)
    )
    return union_all(past, current).subquery("delivered")


async def contributions_by_month(
    session: AsyncSession, *, now: dt.datetime
) -> list[ContributionTotal]:
    """Rupiah and count per (organisation, category, month) delivered up to `now`."""
    d = _delivered_by_month(_dialect(session), local_date(now))
    rows = await session.execute(
        select(
            d.c.organization_id,
            _organizations.c.code,
            d.c.category_code,
            d.c.month,
            d.c.amount,
            d.c.contributions,
        )
        .join_from(d, _organizations, _organizations.c.id == d.c.organization_id)
        .order_by(d.c.organization_id, d.c.category_code, d.c.month)
    )
    return [
        ContributionTotal(org_id, code, category, month_, int(amount), int(count))
        for org_id, code, category, month_, amount, count in rows
    ]


async def fulfilment_time(session: AsyncSession, *, portable: bool = False) -> FulfilmentTime:
    """Median days OPEN -> FULFILLED: on PostgreSQL the middle of an index, else a window query."""
    dialect = _dialect(session)
    # `portable` forces the window query on PostgreSQL too, so both can be compared there.
    if dialect == "postgresql" and not portable:
        return await _fulfilment_off_the_index(session)
    days = _days_open(dialect).label("days")
    done = (
        _needs.c.status == "FULFILLED",
        _needs.c.opened_at.is_not(None),
        _needs.c.fulfilled_at.is_not(None),
    )
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


async def _fulfilment_off_the_index(session: AsyncSession) -> FulfilmentTime:
    """The median of `ix_needs_fulfilment_seconds`: count its entries, then read the one or
    two in the middle (an index-only range of half the entries, no sort). The status is a
    literal so that every plan, generic ones too, may use the partial index; the seconds
    are NULL exactly when either moment is missing."""
    n = _needs.c
    seconds = func.extract("epoch", n.fulfilled_at - n.opened_at)
    done = (n.status == literal_column("'FULFILLED'"), seconds.is_not(None))
    total = int(await session.scalar(select(func.count()).where(*done)) or 0)
    if total == 0:
        return FulfilmentTime(median_days=None, fulfilled_needs=0)
    middle = (
        select(seconds.label("seconds"))
        .where(*done)
        .order_by(seconds)
        .offset((total - 1) // 2)
        .limit(2 - total % 2)
        .subquery()
    )
    median = await session.scalar(select(func.avg(middle.c.seconds)))
    return FulfilmentTime(median_days=float(median or 0) / 86400.0, fulfilled_needs=total)


async def partner_funding(session: AsyncSession, *, now: dt.datetime) -> PartnerFunding:
    """Foundations' (LKS) giving per month with its running total, against the potential."""
    d = _delivered_by_month(_dialect(session), local_date(now))
    monthly = (
        select(d.c.month, func.sum(d.c.amount).label("amount"))
        .join_from(d, _organizations, _organizations.c.id == d.c.organization_id)
        .where(_organizations.c.kind == "LKS")
        .group_by(d.c.month)
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


# Aid by funding source and kecamatan: running programme enrolments and their benefits. A
# running enrolment counts where the person's household lives now; its benefit is the yearly
# amount recorded with it. Foundations' aid is also what partners (LKS) contributed.


@dataclass(frozen=True, slots=True)
class AidCell:
    """Running enrolments of one funding source in one kecamatan, and their yearly benefit."""

    funding_source: str
    kecamatan_code: str
    enrolments: int
    benefit_rupiah: int


@dataclass(frozen=True, slots=True)
class SourceTotal:
    """One funding source city-wide: budgets, running enrolments, benefits, partner giving."""

    funding_source: str
    budget_rupiah: int
    enrolments: int
    benefit_rupiah: int
    #: FOUNDATIONS only: what partner foundations (LKS) contributed so far.
    contributions_rupiah: int


def _running(today: dt.date) -> ColumnElement[bool]:
    e = Enrolment
    return and_(e.started_on <= today, or_(e.ended_on.is_(None), e.ended_on >= today))


async def aid_by_kecamatan(session: AsyncSession, *, today: dt.date) -> list[AidCell]:
    """Running enrolments and yearly benefit per (funding source, kecamatan), in code order."""
    rows = await session.execute(
        select(
            Program.funding_source,
            Household.kecamatan_code,
            func.count(),
            func.coalesce(func.sum(Enrolment.benefit_rupiah), 0),
        )
        .join_from(Enrolment, Program, Program.code == Enrolment.program_code)
        .join(Citizen, Citizen.id == Enrolment.citizen_id)
        .join(Household, Household.id == Citizen.household_id)
        .where(_running(today))
        .group_by(Program.funding_source, Household.kecamatan_code)
        .order_by(Program.funding_source, Household.kecamatan_code)
    )
    return [AidCell(s, k, int(n), int(b or 0)) for s, k, n, b in rows]


async def aid_by_source(
    session: AsyncSession, *, today: dt.date, cells: list[AidCell]
) -> list[SourceTotal]:
    """Each funding source's budgets and, from `cells`, its enrolments and benefits."""
    budgets = dict(
        (
            await session.execute(
                select(
                    Program.funding_source, func.coalesce(func.sum(Program.budget_rupiah), 0)
                ).group_by(Program.funding_source)
            )
        ).all()
    )
    given = await session.scalar(
        select(func.coalesce(func.sum(Contribution.amount_rupiah), 0))
        .join(Organization, Organization.id == Contribution.organization_id)
        .where(Organization.kind == "LKS", Contribution.delivered_on <= today)
    )
    totals = []
    for source in FUNDING_SOURCES:
        mine = [c for c in cells if c.funding_source == source]
        totals.append(
            SourceTotal(
                funding_source=source,
                budget_rupiah=int(budgets.get(source) or 0),
                enrolments=sum(c.enrolments for c in mine),
                benefit_rupiah=sum(c.benefit_rupiah for c in mine),
                contributions_rupiah=int(given or 0) if source == "FOUNDATIONS" else 0,
            )
        )
    return totals
