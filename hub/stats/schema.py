"""GraphQL field of the city's public totals (`stats`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.prefetch import prefetch_tree, selection_tree
from hub.stats import queries
from hub.stats.types import CityStats


@strawberry.type
class StatsQueries:
    @strawberry.field(
        description="Kota Bandung's public totals: open, pledged and fulfilled needs by "
        "kecamatan and category; contributions in rupiah by organisation, category and month; "
        "the median days from OPEN to FULFILLED; foundations' running total against the "
        "Rp1.5 trillion partner-funding potential. Aggregates only, for every authenticated "
        "client; no purpose needed."
    )
    async def stats(self, info: Info[Context, Any]) -> CityStats:
        context = info.context
        async with context.db_lock:
            totals = await queries.city_stats(context.session, now=dt.datetime.now(dt.UTC))
        stats = CityStats.of(totals)
        # The cells are plain lists, not relations: load their names a list at a time.
        tree = selection_tree(info)
        reached: list[Any] = []
        await prefetch_tree(context, stats.needs, tree.get("needs", {}), reached)
        await prefetch_tree(context, stats.contributions, tree.get("contributions", {}), reached)
        return stats
