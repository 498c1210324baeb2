"""GraphQL types of the real-time domain, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.engine import Row

from hub.events.queries import webhook_id
from hub.graphql.relay import pk_of, to_global_id
from hub.needs.types import Need, NeedFilter, NeedStatus, Severity, severity_level
from hub.regions.types import RegionLevel, check_codes


@strawberry.enum(description="The kinds of events a webhook endpoint may receive.")
class WebhookEvent(Enum):
    NEED_OPENED = strawberry.enum_value(
        "need.opened",
        description="A need opened to foundations (verified, released, or its pledge lapsed).",
    )
    NEED_CHANGED = strawberry.enum_value(
        "need.changed", description="Any status change of a need the endpoint may see."
    )
    PLEDGE_EXPIRING = strawberry.enum_value(
        "pledge.expiring",
        description="One of the organisation's pledges lapses within a day.",
    )


@strawberry.enum(description="Whether an endpoint receives events.")
class WebhookStatus(Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Events are sent to it.")
    DISABLED = strawberry.enum_value(
        "DISABLED",
        description="A delivery failed every attempt, so nothing more is sent until "
        "`enableWebhook`; `disabledReason` says what failed.",
    )


@strawberry.enum(description="Where a delivery stands.")
class DeliveryStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Waiting for its next attempt.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="The receiver answered 2xx.")
    FAILED = strawberry.enum_value(
        "FAILED", description="Every attempt failed; the endpoint was disabled."
    )


@strawberry.type(description="One of the caller's pledges that lapses soon (`pledgeExpiring`).")
class ExpiringPledge:
    need: Need = strawberry.field(description="The pledged need, masked as in `needs`.")
    pledged_at: dt.datetime = strawberry.field(description="When the need was pledged.")
    expires_at: dt.datetime = strawberry.field(
        description="When the pledge lapses unless the need is closed or released before."
    )


@strawberry.type(description="Which needs an endpoint hears of, as registered.")
class WebhookFilter:
    kecamatan: list[str] | None = strawberry.field(description="Kecamatan codes; any of them.")
    kelurahan: list[str] | None = strawberry.field(description="Kelurahan codes; any of them.")
    category: list[str] | None = strawberry.field(description="Service-domain codes.")
    ppks_type: list[str] | None = strawberry.field(description="PPKS type codes.")
    status: list[NeedStatus] | None = strawberry.field(description="Need statuses.")
    min_severity: Severity | None = strawberry.field(description="The least severity, if any.")

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> WebhookFilter:
        """Map a filter as stored (`list_statement` arguments)."""
        level = stored.get("min_severity")
        statuses = stored.get("statuses")
        return cls(
            kecamatan=stored.get("kecamatan_codes"),
            kelurahan=stored.get("kelurahan_codes"),
            category=stored.get("category_codes"),
            ppks_type=stored.get("ppks_codes"),
            status=[NeedStatus(s) for s in statuses] if statuses else None,
            min_severity=list(Severity)[level - 1] if level else None,
        )


@strawberry.type(description="A URL of the caller's organisation that receives signed events.")
class WebhookEndpoint:
    id: strawberry.ID = strawberry.field(description="Global id of the endpoint.")
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[WebhookEvent] = strawberry.field(description="The kinds it receives.")
    filter: WebhookFilter = strawberry.field(description="Which needs it hears of.")
    status: WebhookStatus = strawberry.field(description="Whether events are sent to it.")
    disabled_reason: str | None = strawberry.field(
        description="Why it was disabled: the delivery and the last answer."
    )
    disabled_at: dt.datetime | None = strawberry.field(description="When it was disabled.")
    created_at: dt.datetime = strawberry.field(description="When it was registered.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> WebhookEndpoint:
        """Map a `webhook_endpoints` row (or ORM object)."""
        return cls(
            id=strawberry.ID(to_global_id("WebhookEndpoint", row.id)),
            url=row.url,
            events=[WebhookEvent(kind) for kind in row.events],
            filter=WebhookFilter.from_stored(row.filter or {}),
            status=WebhookStatus(row.status),
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            created_at=row.created_at,
            pk=row.id,
        )


@strawberry.type(description="One try to send a delivery.")
class WebhookAttempt:
    number: int = strawberry.field(description="1 for the first try, 2 for the first retry, …")
    attempted_at: dt.datetime = strawberry.field(description="When it was sent.")
    status_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when no answer came."
    )
    latency_ms: int = strawberry.field(description="Milliseconds until the answer (or failure).")
    error: str | None = strawberry.field(
        description="What went wrong, when the answer was not 2xx."
    )

    @classmethod
    def from_row(cls, row: Row[Any]) -> WebhookAttempt:
        """Map a `webhook_attempts` row."""
        return cls(
            number=row.number,
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            latency_ms=row.latency_ms,
            error=row.error,
        )


@strawberry.type(description="One event sent (or being sent) to one endpoint.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(
        description="The delivery's id; the `webhook-id` header carries it, the same on retries."
    )
    event: WebhookEvent = strawberry.field(description="What kind of event.")
    need_id: strawberry.ID = strawberry.field(description="Global id of the need it is about.")
    status: DeliveryStatus = strawberry.field(description="Where it stands.")
    attempt_count: int = strawberry.field(description="How many tries were made.")
    created_at: dt.datetime = strawberry.field(description="When the event was queued.")
    next_attempt_at: dt.datetime | None = strawberry.field(
        description="When the next try is due (PENDING only)."
    )
    delivered_at: dt.datetime | None = strawberry.field(description="When a try succeeded.")
    attempts: list[WebhookAttempt] = strawberry.field(description="Every try, oldest first.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row[Any]) -> WebhookDelivery:
        """Map a `webhook_deliveries` row joined with its event's kind and need."""
        return cls(
            id=strawberry.ID(webhook_id(row.id)),
            event=WebhookEvent(row.kind),
            need_id=strawberry.ID(to_global_id("Need", row.need_id)),
            status=DeliveryStatus(row.status),
            attempt_count=row.attempts,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if row.status == "PENDING" else None,
            delivered_at=row.delivered_at,
            attempts=[],
            pk=row.id,
        )


def stored_filter(f: NeedFilter | None) -> dict[str, Any]:
    """A needs filter as `list_statement` arguments (checked; `BadInput` when malformed)."""
    f = f or NeedFilter()
    stored: dict[str, Any] = {
        "kecamatan_codes": check_codes(f.kecamatan, RegionLevel.KECAMATAN),
        "kelurahan_codes": check_codes(f.kelurahan, RegionLevel.KELURAHAN),
        "category_codes": f.category,
        "ppks_codes": f.ppks_type,
        "statuses": [s.name for s in f.status] if f.status else None,
        "min_severity": severity_level(f.min_severity) if f.min_severity else None,
        "organization_id": pk_of(f.organization, "Organization") if f.organization else None,
    }
    return {name: value for name, value in stored.items() if value}
