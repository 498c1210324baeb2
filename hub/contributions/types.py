"""GraphQL types of the contributions domain, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.engine import Row

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
