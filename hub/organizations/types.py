"""GraphQL types of the organisations domain, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.engine import Row

from hub.graphql.enums import described_enum
from hub.graphql.relay import Node, to_global_id
from hub.needs.types import NeedCategory
from hub.organizations import errors
from hub.organizations.errors import OrganizationErrorCode
from hub.organizations.models import Client as ClientRow
from hub.regions.types import Region


@strawberry.enum(description="What kind of organisation uses the hub.")
class OrganizationKind(Enum):
    OPD = strawberry.enum_value("OPD", description="A city agency (Organisasi Perangkat Daerah).")
    LKS = strawberry.enum_value(
        "LKS", description="A social-welfare foundation (Lembaga Kesejahteraan Sosial)."
    )
    AUDITOR = strawberry.enum_value("AUDITOR", description="Ombudsman or Inspektorat.")


@strawberry.enum(description="Whether an organisation may use the hub.")
class OrganizationStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Registered, awaiting Dinsos approval.")
    ACTIVE = strawberry.enum_value("ACTIVE", description="Approved and working.")
    SUSPENDED = strawberry.enum_value("SUSPENDED", description="Suspended by Dinsos.")


@strawberry.type(description="An agency, foundation or auditor, with what and where it serves.")
class Organization(Node):
    code: str = strawberry.field(description="Short stable handle, e.g. `DINSOS` or `LKS-0042`.")
    kind: OrganizationKind = strawberry.field(description="Agency, foundation or auditor.")
    name: str = strawberry.field(description="Official name.")
    registration_number: str | None = strawberry.field(
        description="Registration number with the social affairs office (foundations)."
    )
    status: OrganizationStatus = strawberry.field(description="Whether it may use the hub.")
    created_at: dt.datetime = strawberry.field(description="When it was registered.")
    categories: list[NeedCategory] | None = strawberry.field(
        default=None, description="Need categories it serves."
    )
    areas: list[Region] | None = strawberry.field(default=None, description="Kecamatan it serves.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row[Any]) -> Organization:
        """Map an `organizations` row."""
        return cls(
            id=strawberry.ID(to_global_id("Organization", row.id)),
            code=row.code,
            kind=OrganizationKind(row.kind),
            name=row.name,
            registration_number=row.registration_number,
            status=OrganizationStatus(row.status),
            created_at=row.created_at,
            pk=row.id,
        )


@strawberry.enum(description="What a client may do; granted by Dinsos, carried in its tokens.")
class Role(Enum):
    DINSOS_ADMIN = strawberry.enum_value(
        "dinsos_admin", description="Dinsos administrator: onboarding, verification, roles."
    )
    OPD_OFFICER = strawberry.enum_value(
        "opd_officer", description="Agency integrator: registry data and referrals."
    )
    LKS_PARTNER = strawberry.enum_value(
        "lks_partner", description="Foundation: open needs, pledges, contributions."
    )
    AUDITOR = strawberry.enum_value("auditor", description="Ombudsman or Inspektorat reviewer.")


def role_name(role: Role) -> str:
    """The policy's name of a role: `Role.LKS_PARTNER` → `lks_partner`."""
    return role.name.lower()


@strawberry.type(description="The caller: the OAuth2 client of this request's token.")
class Viewer:
    client_id: str = strawberry.field(description="The OAuth2 client id.")
    roles: list[Role] = strawberry.field(
        description="Roles the token carries and the client holds."
    )
    organization: Organization | None = strawberry.field(
        default=None, description="The organisation the client belongs to."
    )
    organization_id: strawberry.Private[int]


described_enum(
    OrganizationErrorCode,
    description="Why an organisation or client change was refused.",
    values={
        "NOT_FOUND": "No such organisation or client.",
        "ALREADY_EXISTS": "The code or registration number is taken.",
        "INVALID_INPUT": "A value the hub cannot accept; the message says which.",
        "INVALID_STATE": "Not allowed in the current status (e.g. suspended).",
    },
)


@strawberry.type(description="An expected failure of an organisation or client change.")
class OrganizationError:
    code: OrganizationErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(description="What was wrong and what is accepted.")

    @classmethod
    def of(cls, error: errors.OrganizationError) -> OrganizationError:
        """Map a service error."""
        return cls(code=error.code, message=error.message)


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
