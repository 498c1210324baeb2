"""GraphQL fields of the authorization layer: the live permission matrix."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.authz import matrix, service
from hub.authz.catalog import Level
from hub.graphql.context import Context
from hub.graphql.mutations import attempt
from hub.organizations.types import Role, role_name


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


@strawberry.enum(description="How much of a personal field a role sees.")
class FieldLevel(Enum):
    FULL = strawberry.enum_value("full", description="As recorded (needs a stated purpose).")
    PLEDGED = strawberry.enum_value(
        "pledged", description="Full while the organisation holds a pledge on the person's need."
    )
    MASKED = strawberry.enum_value(
        "masked", description="NIK/KK and names masked, other personal fields null."
    )
    NONE = strawberry.enum_value("none", description="Always null.")


@strawberry.type(description="Why a policy change was refused.")
class PolicyChangeError:
    code: str = strawberry.field(description="`INVALID_INPUT`.")
    message: str = strawberry.field(description="What was wrong and what is accepted.")


@strawberry.type(description="The result of a policy change.")
class PolicyChangePayload:
    version: int | None = strawberry.field(
        default=None,
        description="The policy version now in force; every worker applies it within seconds.",
    )
    errors: list[PolicyChangeError] = strawberry.field(
        default_factory=list, description="Why the change was refused; empty on success."
    )


@strawberry.type
class AuthorizationMutations:
    @strawberry.mutation(
        description="Set the level at which a role sees one personal field (`Citizen.phone`, "
        "…), overriding policies/policy.csv for every worker within seconds. Dinsos "
        "administrators."
    )
    async def set_field_access(
        self,
        info: Info[Context, Any],
        role: Annotated[Role, strawberry.argument(description="The role whose access changes.")],
        field: Annotated[
            str,
            strawberry.argument(
                description="The personal field, as `Type.field` (e.g. `Citizen.phone`)."
            ),
        ],
        level: Annotated[
            FieldLevel,
            strawberry.argument(description="The level the role sees it at from now on."),
        ],
    ) -> PolicyChangePayload:
        context = info.context
        outcome = await attempt(
            context,
            lambda session: service.set_field_access(
                session,
                role=role_name(role),
                field=field,
                level=Level[level.name],
                changed_by=context.principal.client_id,
            ),
            service.PolicyChangeError,
        )
        if isinstance(outcome, service.PolicyChangeError):
            return PolicyChangePayload(
                errors=[PolicyChangeError(code=outcome.code, message=str(outcome))]
            )
        context.after_commit.append(context.reload_policy)
        return PolicyChangePayload(version=outcome)
