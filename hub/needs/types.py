"""GraphQL types of the needs domain, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy.engine import Row

from hub.duplicate_aid.types import DuplicateAidWarning
from hub.graphql.enums import described_enum
from hub.graphql.relay import Node, to_global_id
from hub.graphql.rows import columns
from hub.needs import errors
from hub.needs.errors import NeedErrorCode
from hub.needs.service import CloseOutcome
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


#: Severities by stored level - 1, and statuses by stored value: `from_row` maps every
#: row of a page, and iterating an enum class per row was measurable.
_SEVERITIES = tuple(Severity)
_STATUSES = {status.value: status for status in NeedStatus}


def severity_level(severity: Severity) -> int:
    """The stored level of a severity: 1 (low) to 4 (critical)."""
    return _SEVERITIES.index(severity) + 1


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
        c = columns(row)
        start = c["opened_at"] or c["reported_at"]
        end = c["fulfilled_at"] or c["closed_at"] or now or dt.datetime.now(dt.UTC)
        return cls(
            id=strawberry.ID(to_global_id("Need", c["id"])),
            status=_STATUSES[c["status"]],
            severity=_SEVERITIES[c["severity"] - 1],
            description=c["description"],
            reported_at=c["reported_at"],
            verified_at=c["verified_at"],
            opened_at=c["opened_at"],
            fulfilled_at=c["fulfilled_at"],
            closed_at=c["closed_at"],
            waiting_days=max(0, (end - start).days),
            pk=c["id"],
            citizen_id=c["citizen_id"],
            category_code=c["category_code"],
            ppks_code=c["ppks_code"],
            kelurahan_code=c["kelurahan_code"],
            kecamatan_code=c["kecamatan_code"],
            reported_by_id=c["reported_by_organization_id"],
            verified_by_id=c["verified_by_organization_id"],
            holder_id=c["holder_organization_id"],
        )


# --- mutation payloads and inputs ------------------------------------------------------

described_enum(
    NeedErrorCode,
    description="Why a need operation was refused.",
    values={
        "NEED_NOT_FOUND": "No need has this id, or none that you may see.",
        "CITIZEN_NOT_FOUND": "No person has this id, or none that you may see.",
        "CATEGORY_NOT_FOUND": "The category code is not in `needCategories`.",
        "ORGANIZATION_NOT_FOUND": "No organisation has this code.",
        "INVALID_INPUT": (
            "A value out of range: an empty description or reason, a text too long, a "
            "category of the wrong kind, a pledge length. The message says which."
        ),
        "ILLEGAL_TRANSITION": (
            "The need's status does not allow this operation. The message names the status "
            "and the statuses the operation needs, e.g. `need 42 is FULFILLED; pledgeNeed "
            "needs OPEN`."
        ),
        "NEED_ALREADY_PLEDGED": (
            "Another pledge holds the need (another foundation's, or already yours); it can "
            "be pledged again only after that pledge is released or expires."
        ),
        "NEED_NOT_HELD": (
            "Your organisation does not hold the need: only the holder (or, when none, the "
            "reporter) or an agency may release or close it."
        ),
        "INVALID_REFERRAL_TARGET": (
            "A need can be referred only to an ACTIVE agency (OPD) that does not already hold it."
        ),
        "CONCURRENT_CHANGE": (
            "The need kept changing while the operation ran; read it again and retry."
        ),
    },
)


@strawberry.type(description="An expected failure of a need operation.")
class NeedError:
    code: NeedErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(
        description="What was wrong and what is allowed, in words a person can act on."
    )

    @classmethod
    def of(cls, error: errors.NeedError) -> NeedError:
        """Map a service error."""
        return cls(code=error.code, message=error.message)


described_enum(
    CloseOutcome,
    description="How a need ends.",
    values={
        "FULFILLED": (
            "Help was delivered. The need must be PLEDGED (by your organisation) or REFERRED "
            "(to your agency); its pledge ends as fulfilled."
        ),
        "NO_LONGER_NEEDED": (
            "The need ends without delivery (moved away, solved otherwise, …); its status "
            "becomes CLOSED. A reason is required."
        ),
    },
)


@strawberry.type(description="A foundation's claim on a need, so that no one else duplicates it.")
class Pledge:
    pledged_at: dt.datetime = strawberry.field(description="When the need was pledged.")
    expires_at: dt.datetime = strawberry.field(
        description="When the pledge lapses unless released or fulfilled before; the need then "
        "opens to other foundations again."
    )


@strawberry.type(description="The result of a need operation.")
class NeedPayload:
    need: Need | None = strawberry.field(
        default=None, description="The need after the change; null when it was refused."
    )
    errors: list[NeedError] = strawberry.field(
        default_factory=list, description="Why the change was refused; empty on success."
    )


@strawberry.type(description="The result of reporting a need.")
class ReportNeedPayload(NeedPayload):
    tracking_code: str | None = strawberry.field(
        default=None,
        description="The code (`YJ-7KQ4-92MX`) to give the citizen, who follows the need with "
        "`trackRequest` without an account. Shown only here, to the reporter, and only once: "
        "the hub keeps a digest of it (Dinsos can `reissueTrackingCode`). Null when refused.",
    )


@strawberry.type(description="The result of pledging a need.")
class PledgeNeedPayload(NeedPayload):
    pledge: Pledge | None = strawberry.field(
        default=None, description="The new pledge; null when it was refused."
    )
    warnings: list[DuplicateAidWarning] = strawberry.field(
        default_factory=list,
        description="Earlier help the person received in the need's category (programme "
        "enrolments, other organisations' contributions); empty when none was found.",
    )


@strawberry.input(description="A person's specific need, reported for Dinsos to verify.")
class ReportNeedInput:
    citizen: strawberry.ID = strawberry.field(description="Global id of the person in need.")
    category: str = strawberry.field(
        description="Service-domain code (`FOOD`, `HEALTH`, …; see `needCategories`)."
    )
    ppks_type: str | None = strawberry.field(
        default=None,
        description="PPKS type code of the person (`PPKS_FAKIR_MISKIN`, …), when known.",
    )
    description: str = strawberry.field(
        description="What is needed, in a few sentences (at most 4000 characters). Foundations "
        "read it, so name no one: the person is linked by `citizen`."
    )
    severity: Severity = strawberry.field(description="How urgent it is.")


# The needs filter is shared: `needs(filter)`, `needOpened(filter)`, webhook endpoints.
@strawberry.input(description="Which needs to list. Every given condition must hold.")
class NeedFilter:
    kecamatan: list[str] | None = strawberry.field(
        default=None, description="Kecamatan codes (`32.73.02`); any of them."
    )
    kelurahan: list[str] | None = strawberry.field(
        default=None, description="Kelurahan codes (`32.73.02.1006`); any of them."
    )
    category: list[str] | None = strawberry.field(
        default=None, description="Service-domain codes (see `needCategories`); any of them."
    )
    ppks_type: list[str] | None = strawberry.field(
        default=None, description="PPKS type codes; any of them."
    )
    status: list[NeedStatus] | None = strawberry.field(
        default=None, description="Statuses; any of them."
    )
    min_severity: Severity | None = strawberry.field(
        default=None, description="Only needs at least this severe."
    )
    organization: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of an organisation that reported or holds the need."
    )
