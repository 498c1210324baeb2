"""Aid by funding source and kecamatan: running programme enrolments and their benefits.

Every figure is a GROUP BY in the database. A running enrolment counts where the person's
household lives now; its benefit is the yearly amount recorded with it. Foundations' aid is
both their programmes' enrolments and what partners (LKS) contributed, which `stats` reports
beside the Rp1.5 trillion partner-funding potential.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.contributions.models import Contribution
from hub.organizations.models import Organization
from hub.programs.models import FUNDING_SOURCES, Enrolment, Program
from hub.registry.models import Citizen, Household


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
