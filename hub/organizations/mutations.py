"""GraphQL mutations of organisations and their clients (Dinsos administration)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.lists import single
from hub.graphql.mutations import attempt
from hub.organizations import service
from hub.organizations.models import Client as ClientRow
from hub.organizations.models import Organization as OrganizationRow
from hub.organizations.types import Organization, OrganizationKind, Role, role_name


@strawberry.enum(description="Why an organisation or client change was refused.")
class OrganizationErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="No such organisation or client.")
    ALREADY_EXISTS = strawberry.enum_value(
        "ALREADY_EXISTS", description="The code or registration number is taken."
    )
    INVALID_INPUT = strawberry.enum_value(
        "INVALID_INPUT", description="A value the hub cannot accept; the message says which."
    )
    INVALID_STATE = strawberry.enum_value(
        "INVALID_STATE", description="Not allowed in the current status (e.g. suspended)."
    )


@strawberry.type(description="An expected failure of an organisation or client change.")
class OrganizationError:
    code: OrganizationErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(description="What was wrong and what is accepted.")

    @classmethod
    def of(cls, error: service.OrganizationError) -> OrganizationError:
        """Map a service error."""
        return cls(code=OrganizationErrorCode[error.code], message=str(error))


@strawberry.type(description="An OAuth2 client of an organisation. Its secret is never shown here.")
class Client:
    client_id: str = strawberry.field(description="The OAuth2 client id.")
    name: str = strawberry.field(description="What the client is for.")
    roles: list[Role] = strawberry.field(description="Roles its tokens may carry.")
    organization_code: str = strawberry.field(description="Code of its organisation.")
    created_at: dt.datetime = strawberry.field(description="When it was created.")
    rotated_at: dt.datetime | None = strawberry.field(description="When its secret last changed.")
    revoked_at: dt.datetime | None = strawberry.field(
        description="When it was revoked; its tokens stop working within a minute."
    )

    @classmethod
    def of(cls, client: ClientRow, organization_code: str, roles: tuple[str, ...]) -> Client:
        """Map a client row with its organisation's code and roles."""
        return cls(
            client_id=client.client_id,
            name=client.name,
            roles=[Role(r) for r in roles],
            organization_code=organization_code,
            created_at=client.created_at,
            rotated_at=client.rotated_at,
            revoked_at=client.revoked_at,
        )


@strawberry.type(description="The result of an organisation change.")
class OrganizationPayload:
    organization: Organization | None = strawberry.field(
        default=None, description="The organisation after the change; null on failure."
    )
    errors: list[OrganizationError] = strawberry.field(
        default_factory=list, description="Why the change was refused; empty on success."
    )


@strawberry.type(description="The result of a client change.")
class ClientPayload:
    client: Client | None = strawberry.field(
        default=None, description="The client after the change; null on failure."
    )
    errors: list[OrganizationError] = strawberry.field(
        default_factory=list, description="Why the change was refused; empty on success."
    )


@strawberry.type(description="A client with its new secret, which is shown only this once.")
class ClientSecretPayload(ClientPayload):
    secret: str | None = strawberry.field(
        default=None,
        description="The client secret in clear. Store it now: the hub keeps only a hash and "
        "cannot show it again.",
    )


@strawberry.input(description="A new organisation, registered as PENDING until approved.")
class RegisterOrganizationInput:
    code: str = strawberry.field(description="Short handle: 2-24 capitals, digits or dashes.")
    kind: OrganizationKind = strawberry.field(description="Agency, foundation or auditor.")
    name: str = strawberry.field(description="Official name.")
    registration_number: str | None = strawberry.field(
        default=None, description="Registration number with the social affairs office."
    )
    categories: list[str] = strawberry.field(
        default_factory=list, description="Need-category codes it serves (see needCategories)."
    )
    kecamatan: list[str] = strawberry.field(
        default_factory=list, description="Kecamatan codes it serves (`32.73.02`)."
    )


@strawberry.input(description="A new OAuth2 client for an organisation.")
class CreateClientInput:
    organization: str = strawberry.field(description="Code of the organisation.")
    roles: list[Role] = strawberry.field(description="Roles its tokens may carry.")
    name: str | None = strawberry.field(default=None, description="What the client is for.")


async def _organization_payload(
    info: Info[Context, Any], outcome: OrganizationRow | service.OrganizationError
) -> OrganizationPayload:
    if isinstance(outcome, service.OrganizationError):
        return OrganizationPayload(errors=[OrganizationError.of(outcome)])
    organization = await single(
        info,
        Organization.from_row(outcome),  # type: ignore[arg-type]
        at="organization",
    )
    return OrganizationPayload(organization=organization)


async def _client_view(session: AsyncSession, client_id: str) -> Client:
    view = await service.get_client_view(session, client_id=client_id)
    return Client.of(view.client, view.organization_code, view.roles)


def _secret_payload(
    outcome: service.IssuedClient | service.OrganizationError,
) -> ClientSecretPayload:
    """The payload of a change that issues a secret: the client and the secret, once."""
    if isinstance(outcome, service.OrganizationError):
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
    outcome = await attempt(info.context, work, service.OrganizationError)
    if isinstance(outcome, service.OrganizationError):
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

        outcome = await attempt(info.context, work, service.OrganizationError)
        return await _organization_payload(info, outcome)

    @strawberry.mutation(description="Approve a registered organisation. Dinsos administrators.")
    async def approve_organization(
        self, info: Info[Context, Any], code: OrganizationCodeArg
    ) -> OrganizationPayload:
        outcome = await attempt(
            info.context,
            lambda session: service.approve_organization(session, code=code),
            service.OrganizationError,
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
            service.OrganizationError,
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

        outcome = await attempt(context, work, service.OrganizationError)
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

        outcome = await attempt(context, work, service.OrganizationError)
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
