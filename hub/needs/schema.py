"""GraphQL fields of the needs domain."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, func, select
from strawberry.types import Info

from hub.authz.rows import need_count_statement, need_filter_as_sets
from hub.graphql.context import Context
from hub.graphql.errors import NotFound
from hub.graphql.lists import many, page_of
from hub.graphql.nodes import resolve_node
from hub.graphql.relay import After, Connection, First, pk_of
from hub.needs import queries
from hub.needs.models import NeedCategory as NeedCategoryRow
from hub.needs.types import CategoryKind, Need, NeedCategory, NeedFilter, severity_level
from hub.regions.types import RegionLevel, check_codes


def _count(context: Context, filters: queries.NeedFilters, statement: Select[Any]) -> Select[Any]:
    """`totalCount`: off the counters (a sum over a few cells) when they can answer, else
    the rows counted under the row rules compiled to index-driven sets."""
    counted = need_count_statement(context.principal, context.access, filters)
    if counted is not None:
        return counted
    reached = statement.where(need_filter_as_sets(context.principal, context.access))
    return select(func.count()).select_from(reached.subquery())


@strawberry.enum(description="Orders of the needs list.")
class NeedOrder(Enum):
    URGENT = strawberry.enum_value(
        "URGENT", description="Most severe first; within a severity, longest waiting first."
    )
    LONGEST_WAITING = strawberry.enum_value(
        "LONGEST_WAITING", description="Reported earliest first."
    )
    NEWEST = strawberry.enum_value("NEWEST", description="Reported most recently first.")


@strawberry.type
class NeedQueries:
    @strawberry.field(
        description="The fixed need taxonomy: service domains and the 26 PPKS types, in order."
    )
    async def need_categories(
        self,
        info: Info[Context, Any],
        kind: Annotated[
            CategoryKind | None, strawberry.argument(description="Only this part of the taxonomy.")
        ] = None,
    ) -> list[NeedCategory]:
        table = NeedCategoryRow.__table__
        statement = select(table).order_by(table.c.kind.desc(), table.c.position)
        if kind is not None:
            statement = statement.where(table.c.kind == kind.name)
        rows = await info.context.rows(statement)
        return await many(info, [NeedCategory.from_row(r) for r in rows])

    @strawberry.field(
        description="Needs, a page at a time (`first` up to the server's maximum, default 20; "
        "continue with `after: pageInfo.endCursor`)."
    )
    async def needs(
        self,
        info: Info[Context, Any],
        filter: Annotated[
            NeedFilter | None,
            strawberry.argument(description="Which needs; all reachable when omitted."),
        ] = None,
        order_by: Annotated[
            NeedOrder, strawberry.argument(description="The order of the list.")
        ] = NeedOrder.URGENT,
        first: First = None,
        after: After = None,
    ) -> Connection[Need]:
        f = filter or NeedFilter()
        organization_id = pk_of(f.organization, "Organization") if f.organization else None
        filters = queries.NeedFilters(
            kecamatan_codes=check_codes(f.kecamatan, RegionLevel.KECAMATAN),
            kelurahan_codes=check_codes(f.kelurahan, RegionLevel.KELURAHAN),
            category_codes=f.category,
            ppks_codes=f.ppks_type,
            statuses=[s.name for s in f.status] if f.status else None,
            min_severity=severity_level(f.min_severity) if f.min_severity else None,
            organization_id=organization_id,
        )
        statement = queries.filtered_statement(filters)
        context = info.context
        return await page_of(
            info,
            "Need",
            statement,
            queries.NEED_ORDERS[order_by.name],
            Need.from_row,
            first=first,
            after=after,
            count=lambda: _count(context, filters, statement),
        )

    @strawberry.field(description="One need by its global id.")
    async def need(
        self,
        info: Info[Context, Any],
        id: Annotated[strawberry.ID, strawberry.argument(description="The need's global id.")],
    ) -> Need:
        need = await resolve_node(info, id)
        if not isinstance(need, Need):
            raise NotFound(f"No need has the id {id!r}")
        return need
