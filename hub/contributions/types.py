"""GraphQL types of the contributions domain, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.engine import Row

from hub.contributions import errors
from hub.contributions.errors import ContributionErrorCode
from hub.contributions.service import MAX_KEY_LENGTH
from hub.duplicate_aid.types import DuplicateAidWarning
from hub.graphql.enums import described_enum
from hub.graphql.relay import Node, to_global_id
from hub.graphql.scalars import Rupiah
from hub.needs.types import Need, NeedCategory
from hub.organizations.types import Organization
from hub.regions.types import Region
from hub.registry.types import Citizen


@strawberry.enum(description="What was delivered.")
class ContributionKind(Enum):
    CASH = strawberry.enum_value("CASH", description="Money (tunai).")
    IN_KIND = strawberry.enum_value("IN_KIND", description="Goods (barang), valued in rupiah.")
    SERVICE = strawberry.enum_value("SERVICE", description="A service (jasa), valued in rupiah.")


@strawberry.type(description="Help an organisation delivered to a person.")
class Contribution(Node):
    kind: ContributionKind = strawberry.field(description="Cash, goods or a service.")
    amount: Rupiah = strawberry.field(description="Value in whole rupiah.")
    quantity: int | None = strawberry.field(description="How many units, for goods.")
    unit: str | None = strawberry.field(description="Unit of `quantity`, e.g. `kg`.")
    delivered_on: dt.date = strawberry.field(description="Day of delivery.")
    evidence_sha256: str | None = strawberry.field(
        description="SHA-256 (hex) of the delivery evidence kept by the organisation."
    )
    created_at: dt.datetime = strawberry.field(description="When it was recorded.")
    need: Need | None = strawberry.field(default=None, description="The need it answered, if any.")
    citizen: Citizen | None = strawberry.field(default=None, description="Who received it.")
    organization: Organization | None = strawberry.field(
        default=None, description="Who delivered it."
    )
    category: NeedCategory | None = strawberry.field(default=None, description="Service domain.")
    kecamatan: Region | None = strawberry.field(default=None, description="Where it was delivered.")
    pk: strawberry.Private[int]
    need_id: strawberry.Private[int | None]
    citizen_id: strawberry.Private[int]
    organization_id: strawberry.Private[int]
    category_code: strawberry.Private[str]
    kecamatan_code: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row[Any]) -> Contribution:
        """Map a `contributions` row."""
        return cls(
            id=strawberry.ID(to_global_id("Contribution", row.id)),
            kind=ContributionKind(row.kind),
            amount=row.amount_rupiah,
            quantity=row.quantity,
            unit=row.unit,
            delivered_on=row.delivered_on,
            evidence_sha256=row.evidence_sha256,
            created_at=row.created_at,
            pk=row.id,
            need_id=row.need_id,
            citizen_id=row.citizen_id,
            organization_id=row.organization_id,
            category_code=row.category_code,
            kecamatan_code=row.kecamatan_code,
        )


# --- mutation payloads and inputs ------------------------------------------------------


described_enum(
    ContributionErrorCode,
    description="Why a contribution was refused.",
    values={
        "INVALID_INPUT": (
            "A value the hub cannot accept: a CASH amount of Rp0, a quantity without a unit, "
            "an evidence digest that is not 64 hexadecimal characters, a delivery date in the"
            " future, an empty key. The message says which."
        ),
        "CITIZEN_NOT_FOUND": "No person has this id, or none that you may see.",
        "CATEGORY_NOT_FOUND": "The category code is not in `needCategories`.",
        "NEED_NOT_FOUND": "No need has this id, or none that you may see.",
        "NEED_MISMATCH": "The need belongs to another person, or is in another category.",
        "NEED_NOT_HELD": (
            "Your organisation holds no active pledge on the need: pledge it first "
            "(`pledgeNeed`), or record the contribution without a need."
        ),
        "IDEMPOTENCY_KEY_REUSED": (
            "Your organisation already used this key for a different contribution (the "
            "message names the fields that differ). Use a new key for a new contribution."
        ),
    },
)


@strawberry.type(description="An expected failure of recording a contribution.")
class ContributionError:
    code: ContributionErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(
        description="What was wrong and what is allowed, in words a person can act on."
    )

    @classmethod
    def of(cls, error: errors.ContributionError) -> ContributionError:
        """Map a service error."""
        return cls(code=error.code, message=error.message)


@strawberry.input(description="Help delivered to a person, to record once.")
class RecordContributionInput:
    citizen: strawberry.ID = strawberry.field(description="Global id of the person helped.")
    need: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of the need it answers, which your organisation must hold a "
        "live pledge on; null for help given outside a need.",
    )
    category: str = strawberry.field(
        description="Service-domain code (`FOOD`, …; see `needCategories`); the need's own "
        "category when a need is given."
    )
    kind: ContributionKind = strawberry.field(description="Cash, goods or a service.")
    amount: Rupiah = strawberry.field(
        description="Value in whole rupiah: the money given, or what the goods or service are "
        "worth. Above 0 for CASH."
    )
    quantity: int | None = strawberry.field(
        default=None, description="How many units (goods), with `unit`; null with it."
    )
    unit: str | None = strawberry.field(
        default=None, description="Unit of `quantity`, e.g. `paket` or `kg` (20 characters)."
    )
    delivered_on: dt.date = strawberry.field(
        description="Day of delivery in Bandung (WIB); today or earlier."
    )
    evidence_sha256: str | None = strawberry.field(
        default=None,
        description="SHA-256 of the evidence your organisation keeps (a receipt, a signed "
        "delivery note, a photo), as 64 hexadecimal characters. The file stays with you.",
    )
    idempotency_key: str = strawberry.field(
        description=f"Your key for this contribution (1-{MAX_KEY_LENGTH} characters; a fresh "
        "UUID is best). Sending the same input with the same key again (a retry after a "
        "timeout) returns the first record and writes nothing new."
    )


@strawberry.type(description="The result of recording a contribution.")
class RecordContributionPayload:
    contribution: Contribution | None = strawberry.field(
        default=None, description="The contribution as recorded; null when it was refused."
    )
    created: bool | None = strawberry.field(
        default=None,
        description="True when this request recorded it, false when an earlier request with "
        "the same idempotency key had; null when refused.",
    )
    warnings: list[DuplicateAidWarning] = strawberry.field(
        default_factory=list,
        description="Earlier help the person received in the same category (programme "
        "enrolments, other organisations' contributions), as found when it was first "
        "recorded; empty when none was found.",
    )
    errors: list[ContributionError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )
