"""GraphQL types of the organisations domain, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.engine import Row

from hub.graphql.relay import Node, to_global_id
from hub.needs.types import NeedCategory
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
