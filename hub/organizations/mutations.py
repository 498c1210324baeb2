"""GraphQL mutations of organisations and their clients (Dinsos administration)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.lists import single
from hub.graphql.mutations import attempt
from hub.organizations import errors, queries, service
from hub.organizations.errors import OrganizationErrorCode
from hub.organizations.models import Organization as OrganizationRow
from hub.organizations.types import (
    Client,
    ClientPayload,
    ClientSecretPayload,
    CreateClientInput,
    Organization,
    OrganizationError,
    OrganizationPayload,
    RegisterOrganizationInput,
    Role,
    role_name,
)


async def _organization_payload(
    info: Info[Context, Any], outcome: OrganizationRow | errors.OrganizationError
) -> OrganizationPayload:
    if isinstance(outcome, errors.OrganizationError):
        return OrganizationPayload(errors=[OrganizationError.of(outcome)])
    organization = await single(
        info,
        Organization.from_row(outcome),  # type: ignore[arg-type]
        at="organization",
    )
    return OrganizationPayload(organization=organization)


async def _client_view(session: AsyncSession, client_id: str) -> Client:
    view = await queries.get_client_view(session, client_id=client_id)
    return Client.of(view.client, view.organization_code, view.roles)


def _secret_payload(
    outcome: service.IssuedClient | errors.OrganizationError,
) -> ClientSecretPayload:
    """The payload of a change that issues a secret: the client and the secret, once."""
    if isinstance(outcome, errors.OrganizationError):
        return ClientSecretPayload(errors=[OrganizationError.of(outcome)])
    return ClientSecretPayload(
        client=Client.of(outcome.client, outcome.organization_code, outcome.roles),
        secret=outcome.secret,
    )


async def _change_client(
    info: Info[Context, Any],
    client_id: str,
    change: Callable[[AsyncSession], Awaitable[object]],
) -> ClientPayload:
    """Apply `change` to a client; the payload shows the client after it. Live tokens feel
    the change once this process re-reads client standing, which it does after commit."""

    async def work(session: AsyncSession) -> Client:
        await change(session)
        return await _client_view(session, client_id)

    info.context.after_commit.append(info.context.invalidate_client_statuses)
    outcome = await attempt(info.context, work, errors.OrganizationError)
    if isinstance(outcome, errors.OrganizationError):
        return ClientPayload(errors=[OrganizationError.of(outcome)])
    return ClientPayload(client=outcome)


ClientIdArg = Annotated[str, strawberry.argument(description="The OAuth2 client id.")]
OrganizationCodeArg = Annotated[
    str, strawberry.argument(description="The organisation's code, e.g. `LKS-0042`.")
]
RoleArg = Annotated[Role, strawberry.argument(description="The role.")]


@strawberry.type
class OrganizationMutations:
    @strawberry.mutation(
        description="Register an organisation (PENDING until approveOrganization), with the "
        "need categories and kecamatan it serves. Dinsos administrators."
    )
    async def register_organization(
        self,
        info: Info[Context, Any],
        input: Annotated[
            RegisterOrganizationInput,
            strawberry.argument(description="The organisation to register."),
        ],
    ) -> OrganizationPayload:
        async def work(session: AsyncSession) -> OrganizationRow:
            org = await service.create_organization(
                session,
                code=input.code,
                kind=input.kind.name,
                name=input.name,
                registration_number=input.registration_number,
            )
            return await service.set_service_scope(
                session,
                code=org.code,
                category_codes=input.categories,
                kecamatan_codes=input.kecamatan,
            )

        outcome = await attempt(info.context, work, errors.OrganizationError)
        return await _organization_payload(info, outcome)

    @strawberry.mutation(description="Approve a registered organisation. Dinsos administrators.")
    async def approve_organization(
        self, info: Info[Context, Any], code: OrganizationCodeArg
    ) -> OrganizationPayload:
        outcome = await attempt(
            info.context,
            lambda session: service.approve_organization(session, code=code),
            errors.OrganizationError,
        )
        return await _organization_payload(info, outcome)

    @strawberry.mutation(
        description="Suspend an organisation: its clients get no new tokens and their live "
        "tokens stop working within a minute. Dinsos administrators."
    )
    async def suspend_organization(
        self, info: Info[Context, Any], code: OrganizationCodeArg
    ) -> OrganizationPayload:
        outcome = await attempt(
            info.context,
            lambda session: service.suspend_organization(session, code=code),
            errors.OrganizationError,
        )
        info.context.after_commit.append(info.context.invalidate_client_statuses)
        return await _organization_payload(info, outcome)

    @strawberry.mutation(
        description="Create a client with a secret, shown once in the payload. Dinsos "
        "administrators."
    )
    async def create_client(
        self,
        info: Info[Context, Any],
        input: Annotated[
            CreateClientInput, strawberry.argument(description="The client to create.")
        ],
    ) -> ClientSecretPayload:
        context = info.context

        async def work(session: AsyncSession) -> service.IssuedClient:
            return await service.create_client(
                session,
                organization_code=input.organization,
                roles=[role_name(r) for r in input.roles],
                name=input.name,
                hasher=context.secret_hasher,
            )

        outcome = await attempt(context, work, errors.OrganizationError)
        return _secret_payload(outcome)

    @strawberry.mutation(
        description="Give a client a new secret (shown once). The old one keeps working for "
        "`overlapSeconds` (default one day; 0 when it leaked). Dinsos administrators."
    )
    async def rotate_client_secret(
        self,
        info: Info[Context, Any],
        client_id: ClientIdArg,
        overlap_seconds: Annotated[
            int,
            strawberry.argument(
                description="Seconds the old secret keeps working (0 when it leaked)."
            ),
        ] = 86400,
    ) -> ClientSecretPayload:
        context = info.context
        if not 0 <= overlap_seconds <= 30 * 86400:
            return ClientSecretPayload(
                errors=[
                    OrganizationError(
                        code=OrganizationErrorCode.INVALID_INPUT,
                        message="overlapSeconds must be between 0 and 2592000 (30 days)",
                    )
                ]
            )

        async def work(session: AsyncSession) -> service.IssuedClient:
            return await service.rotate_client_secret(
                session,
                client_id=client_id,
                overlap=dt.timedelta(seconds=overlap_seconds),
                hasher=context.secret_hasher,
            )

        outcome = await attempt(context, work, errors.OrganizationError)
        return _secret_payload(outcome)

    @strawberry.mutation(
        description="Revoke a client: no new tokens, and its live tokens stop working within "
        "a minute. Dinsos administrators."
    )
    async def revoke_client(
        self, info: Info[Context, Any], client_id: ClientIdArg
    ) -> ClientPayload:
        return await _change_client(
            info, client_id, lambda session: service.revoke_client(session, client_id=client_id)
        )

    @strawberry.mutation(
        description="Let a client's tokens carry one more role (tokens already issued gain it "
        "on renewal). Dinsos administrators."
    )
    async def grant_role(
        self, info: Info[Context, Any], client_id: ClientIdArg, role: RoleArg
    ) -> ClientPayload:
        return await _change_client(
            info,
            client_id,
            lambda session: service.grant_role(session, client_id=client_id, role=role_name(role)),
        )

    @strawberry.mutation(
        description="Withdraw a role from a client; its live tokens lose it within a minute. "
        "Dinsos administrators."
    )
    async def revoke_role(
        self, info: Info[Context, Any], client_id: ClientIdArg, role: RoleArg
    ) -> ClientPayload:
        return await _change_client(
            info,
            client_id,
            lambda session: service.revoke_role(session, client_id=client_id, role=role_name(role)),
        )
