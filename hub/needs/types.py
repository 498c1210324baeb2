"""GraphQL types of the needs domain, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy.engine import Row

from hub.graphql.relay import Node, to_global_id
from hub.regions.types import Region

if TYPE_CHECKING:
    from hub.organizations.types import Organization
    from hub.registry.types import Citizen

CitizenRef = Annotated["Citizen", strawberry.lazy("hub.registry.types")]
OrganizationRef = Annotated["Organization", strawberry.lazy("hub.organizations.types")]


@strawberry.enum(description="The two parts of the need taxonomy.")
class CategoryKind(Enum):
    SERVICE_DOMAIN = strawberry.enum_value(
        "SERVICE_DOMAIN",
        description="A service domain: rehabilitation, protection, education, food, …",
    )
    PPKS = strawberry.enum_value(
        "PPKS", description="A PPKS type (Pemerlu Pelayanan Kesejahteraan Sosial)."
    )


@strawberry.enum(description="Where a need stands in its lifecycle.")
class NeedStatus(Enum):
    REPORTED = strawberry.enum_value("REPORTED", description="Reported, not yet checked.")
    VERIFIED = strawberry.enum_value("VERIFIED", description="Checked by Dinsos.")
    OPEN = strawberry.enum_value("OPEN", description="Open for foundations to pledge.")
    PLEDGED = strawberry.enum_value("PLEDGED", description="A foundation holds it.")
    FULFILLED = strawberry.enum_value("FULFILLED", description="Help was delivered.")
    REFERRED = strawberry.enum_value("REFERRED", description="Handed to another agency.")
    CLOSED = strawberry.enum_value("CLOSED", description="No longer needed.")


@strawberry.enum(description="How urgent a need is.")
class Severity(Enum):
    LOW = strawberry.enum_value(1, description="Can wait weeks.")
    MEDIUM = strawberry.enum_value(2, description="Should be met within weeks.")
    HIGH = strawberry.enum_value(3, description="Should be met within days.")
    CRITICAL = strawberry.enum_value(4, description="Life, health or safety at stake.")


def severity_level(severity: Severity) -> int:
    """The stored level of a severity: 1 (low) to 4 (critical)."""
    return list(Severity).index(severity) + 1


@strawberry.type(
    description="One entry of the fixed need taxonomy, with Indonesian and English labels."
)
class NeedCategory:
    code: str = strawberry.field(description="Stable code, e.g. `FOOD` or `PPKS_FAKIR_MISKIN`.")
    kind: CategoryKind = strawberry.field(description="Service domain or PPKS type.")
    label_id: str = strawberry.field(description="Label in Indonesian.")
    label_en: str = strawberry.field(description="Label in English.")

    @classmethod
    def from_row(cls, row: Row[Any]) -> NeedCategory:
        """Map a `need_categories` row."""
        return cls(
            code=row.code, kind=CategoryKind(row.kind), label_id=row.label_id, label_en=row.label_en
        )


@strawberry.type(description="One step of a need's timeline.")
class NeedStatusChange:
    from_status: NeedStatus | None = strawberry.field(
        description="Status before the change; null for the first report."
    )
    to_status: NeedStatus = strawberry.field(description="Status after the change.")
    changed_at: dt.datetime = strawberry.field(description="When it changed.")
    note: str | None = strawberry.field(description="Why, in the words of whoever changed it.")
    organization: OrganizationRef | None = strawberry.field(
        default=None, description="The organisation that made the change."
    )
    organization_id: strawberry.Private[int | None]
    need_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row[Any]) -> NeedStatusChange:
        """Map a `need_status_changes` row."""
        return cls(
            from_status=NeedStatus(row.from_status) if row.from_status else None,
            to_status=NeedStatus(row.to_status),
            changed_at=row.changed_at,
            note=row.note,
            organization_id=row.organization_id,
            need_id=row.need_id,
        )


@strawberry.type(description="One person's specific problem, its category and where it stands.")
class Need(Node):
    status: NeedStatus = strawberry.field(description="Where the need stands.")
    severity: Severity = strawberry.field(description="How urgent it is.")
    description: str = strawberry.field(description="What is needed, as reported.")
    reported_at: dt.datetime = strawberry.field(description="When it was reported.")
    verified_at: dt.datetime | None = strawberry.field(description="When Dinsos verified it.")
    opened_at: dt.datetime | None = strawberry.field(description="When it opened to foundations.")
    fulfilled_at: dt.datetime | None = strawberry.field(description="When help was delivered.")
    closed_at: dt.datetime | None = strawberry.field(description="When it was closed.")
    waiting_days: int = strawberry.field(
        description="Whole days since it opened (or was reported, if not yet open), until "
        "fulfilled or closed."
    )
    category: NeedCategory | None = strawberry.field(
        default=None, description="Service domain of the need."
    )
    ppks_type: NeedCategory | None = strawberry.field(
        default=None, description="PPKS type of the person, when known."
    )
    citizen: CitizenRef | None = strawberry.field(
        default=None, description="The person who needs help."
    )
    kelurahan: Region | None = strawberry.field(
        default=None, description="Kelurahan where help is needed."
    )
    kecamatan: Region | None = strawberry.field(
        default=None, description="Kecamatan where help is needed."
    )
    reported_by: OrganizationRef | None = strawberry.field(
        default=None, description="Organisation that reported it."
    )
    verified_by: OrganizationRef | None = strawberry.field(
        default=None, description="Organisation that verified it."
    )
    holder: OrganizationRef | None = strawberry.field(
        default=None,
        description="Who holds it now: the pledging foundation, or the agency it was referred to.",
    )
    history: list[NeedStatusChange] | None = strawberry.field(
        default=None, description="Status timeline, oldest first."
    )
    pk: strawberry.Private[int]
    citizen_id: strawberry.Private[int]
    category_code: strawberry.Private[str]
    ppks_code: strawberry.Private[str | None]
    kelurahan_code: strawberry.Private[str]
    kecamatan_code: strawberry.Private[str]
    reported_by_id: strawberry.Private[int]
    verified_by_id: strawberry.Private[int | None]
    holder_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Row[Any], now: dt.datetime | None = None) -> Need:
        """Map a `needs` row; `waiting_days` is counted up to `now` (default: the clock)."""
        start = row.opened_at or row.reported_at
        end = row.fulfilled_at or row.closed_at or now or dt.datetime.now(dt.UTC)
        return cls(
            id=strawberry.ID(to_global_id("Need", row.id)),
            status=NeedStatus(row.status),
            severity=list(Severity)[row.severity - 1],
            description=row.description,
            reported_at=row.reported_at,
            verified_at=row.verified_at,
            opened_at=row.opened_at,
            fulfilled_at=row.fulfilled_at,
            closed_at=row.closed_at,
            waiting_days=max(0, (end - start).days),
            pk=row.id,
            citizen_id=row.citizen_id,
            category_code=row.category_code,
            ppks_code=row.ppks_code,
            kelurahan_code=row.kelurahan_code,
            kecamatan_code=row.kecamatan_code,
            reported_by_id=row.reported_by_organization_id,
            verified_by_id=row.verified_by_organization_id,
            holder_id=row.holder_organization_id,
        )
