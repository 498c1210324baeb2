"""GraphQL fields of the authorization layer: the live permission matrix."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from hub.authz import matrix
from hub.graphql.context import Context


@strawberry.type(description="One decision of the permission matrix.")
class PermissionCell:
    layer: str = strawberry.field(
        description="`operation`, `rows`, `field` or `purpose`: which layer of the policy."
    )
    subject: str = strawberry.field(
        description="What is decided: `Query.needs`, `Need`, `Citizen.nik`, `SERVICE_DELIVERY`."
    )
    role: str = strawberry.field(description="The role it is decided for.")
    decision: str = strawberry.field(
        description="`allowed` / `denied` (operations, purposes), the row rules or `none` "
        "(rows), `full` / `pledged` / `masked` / `none` (fields)."
    )


@strawberry.type(description="Who may read or do what, at which level, generated from the policy.")
class PermissionMatrix:
    version: int = strawberry.field(
        description="Policy version: grows with every change made at run time."
    )
    markdown: str = strawberry.field(description="The matrix as a readable Markdown document.")
    cells: list[PermissionCell] = strawberry.field(description="Every decision, one per cell.")


@strawberry.type
class AuthorizationQueries:
    @strawberry.field(
        description="The permission matrix in force now, including field-access changes made "
        "at run time. Open to every role, so that anyone can see the rules they are under."
    )
    def permission_matrix(self, info: Info[Context, Any]) -> PermissionMatrix:
        policy = info.context.policy
        return PermissionMatrix(
            version=policy.version,
            markdown=matrix.markdown(policy),
            cells=[
                PermissionCell(layer=c.layer, subject=c.subject, role=c.role, decision=c.decision)
                for c in matrix.cells(policy)
            ],
        )
