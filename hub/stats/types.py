"""GraphQL types of the city's public totals, mapped from `hub.stats.queries` in one place.

Nothing here names or counts a single person: the smallest cell is a kecamatan and a
category, or an organisation, a category and a month.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.graphql.prefetch import relation
from hub.graphql.scalars import Rupiah
from hub.needs.loaders import categories_by_code
from hub.needs.types import NeedCategory
from hub.organizations.loaders import organizations_by_id
from hub.organizations.types import Organization
from hub.regions.loaders import regions_by_code
from hub.regions.types import Region
from hub.stats import queries


@strawberry.type(description="Open, pledged and fulfilled needs of one category in one kecamatan.")
class NeedCounts:
    kecamatan_code: str = strawberry.field(description="Kecamatan code, e.g. `32.73.02`.")
    category_code: str = strawberry.field(description="Service-domain code, e.g. `FOOD`.")
    open: int = strawberry.field(description="Needs OPEN now, waiting for a foundation.")
    pledged: int = strawberry.field(description="Needs PLEDGED now, held by a foundation.")
    fulfilled: int = strawberry.field(description="Needs FULFILLED so far.")
    kecamatan: Region | None = strawberry.field(
        default=None, description="The kecamatan, with its name."
    )
    category: NeedCategory | None = strawberry.field(
        default=None, description="The service domain, with its labels."
    )

    @classmethod
    def of(cls, counts: queries.NeedCounts) -> NeedCounts:
        """Map one cell of the queries' counts."""
        return cls(
            kecamatan_code=counts.kecamatan_code,
            category_code=counts.category_code,
            open=counts.open,
            pledged=counts.pledged,
            fulfilled=counts.fulfilled,
        )


@strawberry.type(description="What one organisation delivered in one category in one month.")
class ContributionTotal:
    organization_code: str = strawberry.field(description="Code of the organisation.")
    category_code: str = strawberry.field(description="Service-domain code.")
    month: str = strawberry.field(description="Month of delivery, `YYYY-MM` (WIB).")
    amount_rupiah: Rupiah = strawberry.field(description="Value delivered, in whole rupiah.")
    contributions: int = strawberry.field(description="How many contributions were recorded.")
    organization: Organization | None = strawberry.field(
        default=None, description="The organisation, with its name and kind."
    )
    category: NeedCategory | None = strawberry.field(
        default=None, description="The service domain, with its labels."
    )
    organization_id: strawberry.Private[int]

    @classmethod
    def of(cls, total: queries.ContributionTotal) -> ContributionTotal:
        """Map one cell of the queries' totals."""
        return cls(
            organization_code=total.organization_code,
            category_code=total.category_code,
            month=total.month,
            amount_rupiah=Rupiah(total.amount_rupiah),
            contributions=total.contributions,
            organization_id=total.organization_id,
        )


@strawberry.type(description="How long fulfilled needs waited from OPEN to FULFILLED.")
class FulfilmentTime:
    median_days: float | None = strawberry.field(
        description="Median days (fractional) from opening to fulfilment; null before the "
        "first need is fulfilled."
    )
    fulfilled_needs: int = strawberry.field(description="How many fulfilled needs it is over.")


@strawberry.type(description="Foundations' giving in one month, and the running total up to it.")
class FundingMonth:
    month: str = strawberry.field(description="Month of delivery, `YYYY-MM` (WIB).")
    amount_rupiah: Rupiah = strawberry.field(description="Given by foundations in the month.")
    running_total_rupiah: Rupiah = strawberry.field(
        description="Given by foundations up to and including the month."
    )


@strawberry.type(
    description="What foundations (LKS) gave so far against what Kota Bandung's partners could "
    "fund (Rp1.5 trillion)."
)
class PartnerFunding:
    total_rupiah: Rupiah = strawberry.field(description="Given by foundations so far.")
    potential_rupiah: Rupiah = strawberry.field(
        description="The partner-funding potential the total is tracked against."
    )
    share: float = strawberry.field(
        description="`totalRupiah / potentialRupiah`: 0.0 to 1.0 (beyond, if partners give more)."
    )
    by_month: list[FundingMonth] = strawberry.field(
        description="Month by month, oldest first, with the running total."
    )


@strawberry.type(
    description="Kota Bandung's public totals of needs and help. Aggregates only: no person is "
    "named or counted alone, so every authenticated client may read them."
)
class CityStats:
    as_of: dt.datetime = strawberry.field(description="When the totals were computed.")
    needs: list[NeedCounts] = strawberry.field(
        description="Open, pledged and fulfilled needs by kecamatan and category, in code order."
    )
    contributions: list[ContributionTotal] = strawberry.field(
        description="Contributions delivered up to today (foundations and agencies), in rupiah "
        "by organisation, category and month."
    )
    fulfilment: FulfilmentTime = strawberry.field(description="Median time from OPEN to FULFILLED.")
    partner_funding: PartnerFunding = strawberry.field(
        description="Foundations' running total against the Rp1.5 trillion potential."
    )

    @classmethod
    def of(cls, stats: queries.CityStats) -> CityStats:
        """Map the queries' totals."""
        funding = stats.partner_funding
        return cls(
            as_of=stats.as_of,
            needs=[NeedCounts.of(c) for c in stats.needs],
            contributions=[ContributionTotal.of(t) for t in stats.contributions],
            fulfilment=FulfilmentTime(
                median_days=stats.fulfilment.median_days,
                fulfilled_needs=stats.fulfilment.fulfilled_needs,
            ),
            partner_funding=PartnerFunding(
                total_rupiah=Rupiah(funding.total_rupiah),
                potential_rupiah=Rupiah(funding.potential_rupiah),
                share=funding.share,
                by_month=[
                    FundingMonth(
                        month=m.month,
                        amount_rupiah=Rupiah(m.amount_rupiah),
                        running_total_rupiah=Rupiah(m.running_total_rupiah),
                    )
                    for m in funding.by_month
                ],
            ),
        )


relation(
    NeedCounts, "kecamatan", attr="kecamatan", key=lambda c: c.kecamatan_code, load=regions_by_code
)
relation(
    NeedCounts, "category", attr="category", key=lambda c: c.category_code, load=categories_by_code
)
relation(
    ContributionTotal,
    "organization",
    attr="organization",
    key=lambda t: t.organization_id,
    load=organizations_by_id,
)
relation(
    ContributionTotal,
    "category",
    attr="category",
    key=lambda t: t.category_code,
    load=categories_by_code,
)
