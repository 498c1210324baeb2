"""GraphQL field of the city's public totals (`stats`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.prefetch import prefetch_tree, selection_tree
from hub.localtime import local_date
from hub.stats import queries
from hub.stats.types import AidTotal, CityStats, FundingSourceTotal


@strawberry.type
class StatsQueries:
    @strawberry.field(
        description="Kota Bandung's public totals: open, pledged and fulfilled needs by "
        "kecamatan and category; contributions in rupiah by organisation, category and month; "
        "the median days from OPEN to FULFILLED; foundations' running total against the "
        "Rp1.5 trillion partner-funding potential; programme aid by funding source and "
        "kecamatan. Aggregates only, for every authenticated "
        "client; no purpose needed."
    )
    async def stats(self, info: Info[Context, Any]) -> CityStats:
        context = info.context
        now = dt.datetime.now(dt.UTC)
        tree = selection_tree(info)
        async with context.db_lock:
            totals = await queries.city_stats(
                context.session, now=now, contributions="contributions" in tree
            )
            stats = CityStats.of(totals)
            # Aid is computed only when asked for: it walks every running enrolment.
            if "aidByKecamatan" in tree or "aidByFundingSource" in tree:
                today = local_date(now)
                cells = await queries.aid_by_kecamatan(context.session, today=today)
                sources = await queries.aid_by_source(context.session, today=today, cells=cells)
                stats.aid_by_kecamatan = [AidTotal.of(c) for c in cells]
                stats.aid_by_funding_source = [FundingSourceTotal.of(t) for t in sources]
        # The cells are plain lists, not relations: load their names a list at a time.
        reached: list[Any] = []
        await prefetch_tree(context, stats.needs, tree.get("needs", {}), reached)
        await prefetch_tree(context, stats.contributions, tree.get("contributions", {}), reached)
        await prefetch_tree(
            context, stats.aid_by_kecamatan, tree.get("aidByKecamatan", {}), reached
        )
        return stats
