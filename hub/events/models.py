"""The transactional outbox, webhook endpoints, their deliveries and attempts.

An `EventRecord` is written in the same transaction as the change it tells of, so a committed
change always has its event and a rolled-back one never does. The webhook worker fans each
event out into one `WebhookDelivery` per endpoint that may see it, then sends those with
retries; every try is a `WebhookAttempt`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow

EVENT_KINDS = ("need.opened", "need.changed", "pledge.expiring")
ENDPOINT_STATUSES = ("ACTIVE", "DISABLED")
DELIVERY_STATUSES = ("PENDING", "DELIVERED", "FAILED")


class EventRecord(Base):
    """One event of the outbox: what happened to which need, for whom when targeted."""

    __tablename__ = "event_outbox"
    __table_args__ = (
        CheckConstraint("kind IN ('need.opened', 'need.changed', 'pledge.expiring')", name="kind"),
        # The worker's claim: the oldest events not yet fanned out.
        Index(None, "dispatched_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    #: The only organisation told (a pledge's holder), or None for whoever may see the need.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))
    #: Ids and codes only (statuses, categories, kecamatan): never personal data.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the worker turned it into deliveries (None: not yet).
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PledgeWarning(Base):
    """A pledge whose `pledge.expiring` event was written (so it is written once)."""

    __tablename__ = "pledge_expiry_warnings"

    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    warned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEndpoint(Base):
    """An organisation's URL that receives signed events (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("status IN ('ACTIVE', 'DISABLED')", name="status"),
        Index(None, "organization_id", "id"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    #: The client that registered it; its roles decide what the endpoint may hear.
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    roles: Mapped[list[str]] = mapped_column(JSON)
    url: Mapped[str] = mapped_column(String(2000))
    #: Event kinds (`need.opened`, …) it wants.
    events: Mapped[list[str]] = mapped_column(JSON)
    #: The needs filter (kecamatan, category, …) as given, narrowing what it hears.
    filter: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: `whsec_…`; kept usable because HMAC signing needs the secret itself.
    secret: Mapped[str] = mapped_column(String(80))
    #: After a rotation the old secret also signs, until `previous_secret_until`.
    previous_secret: Mapped[str | None] = mapped_column(String(80))
    previous_secret_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="ACTIVE")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event to send to one endpoint, until it is delivered or fails for good."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'DELIVERED', 'FAILED')", name="status"),
        Index(None, "endpoint_id", "event_id", unique=True),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("event_outbox.id"))
    #: The signed body, fixed at fan-out so that every retry sends the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A worker sending it holds it until then; after a crash another takes it over.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookAttempt(Base):
    """One try to send a delivery: when, the answer's status code, how long it took."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index(None, "delivery_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"))
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: None when no answer came (refused connection, timeout).
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
