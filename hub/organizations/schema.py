"""GraphQL fields of the organisations domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.lists import page_of, single
from hub.graphql.relay import After, Connection, First
from hub.organizations import queries
from hub.organizations.types import (
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Role,
    Viewer,
)


@strawberry.input(description="Which organisations to list. Every given condition must hold.")
class OrganizationFilter:
    kind: OrganizationKind | None = strawberry.field(default=None, description="Only this kind.")
    status: OrganizationStatus | None = strawberry.field(
        default=None, description="Only this status."
    )
    category: str | None = strawberry.field(
        default=None, description="Only those serving this need-category code."
    )
    kecamatan: str | None = strawberry.field(
        default=None, description="Only those serving this kecamatan code."
    )


@strawberry.type
class OrganizationQueries:
    @strawberry.field(description="Who you are: your client, its roles and its organisation.")
    async def me(self, info: Info[Context, Any]) -> Viewer:
        principal = info.context.principal
        viewer = Viewer(
            client_id=principal.client_id,
            roles=[Role(r) for r in principal.roles],
            organization_id=principal.organization_id,
        )
        return await single(info, viewer)  # type: ignore[return-value]

    @strawberry.field(description="Agencies, foundations and auditors, a page at a time.")
    async def organizations(
        self,
        info: Info[Context, Any],
        filter: Annotated[
            OrganizationFilter | None,
            strawberry.argument(description="Which organisations; all when omitted."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Organization]:
        f = filter or OrganizationFilter()
        statement = queries.list_statement(
            kind=f.kind.name if f.kind else None,
            status=f.status.name if f.status else None,
            category_code=f.category,
            kecamatan_code=f.kecamatan,
        )
        return await page_of(
            info,
            "Organization",
            statement,
            queries.ORGANIZATION_ORDER,
            Organization.from_row,
            first=first,
            after=after,
        )
