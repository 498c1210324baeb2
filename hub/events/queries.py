"""Read statements of the real-time domain: an organisation's endpoints and deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events.models import EventRecord, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hub.needs.queries import list_statement

_endpoints = WebhookEndpoint.__table__
_deliveries = WebhookDelivery.__table__
_events = EventRecord.__table__
_attempts = WebhookAttempt.__table__


def webhook_id(delivery_id: int) -> str:
    """The `webhook-id` of a delivery: the same on every retry, unique per delivery."""
    return f"msg_{delivery_id}"


def filter_condition(stored: dict[str, Any]) -> ColumnElement[bool] | None:
    """The WHERE clause `needs(filter)` would use for a stored filter (None: no filter)."""
    return list_statement(**stored).whereclause


def filter_key(stored: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A hashable stand-in for a stored filter: equal filters, equal keys."""
    return tuple(sorted((name, repr(value)) for name, value in stored.items()))


def endpoints_statement(organization_id: int) -> Select[Any]:
    """The organisation's endpoints (ordered by the caller)."""
    return select(_endpoints).where(_endpoints.c.organization_id == organization_id)


def deliveries_statement(organization_id: int, endpoint_id: int | None) -> Select[Any]:
    """The deliveries to the organisation's endpoints (one endpoint, or all), with the kind
    and need of their event."""
    statement = (
        select(
            _deliveries.c.id,
            _deliveries.c.status,
            _deliveries.c.attempts,
            _deliveries.c.created_at,
            _deliveries.c.next_attempt_at,
            _deliveries.c.delivered_at,
            _events.c.kind,
            _events.c.need_id,
        )
        .join(_events, _events.c.id == _deliveries.c.event_id)
        .join(_endpoints, _endpoints.c.id == _deliveries.c.endpoint_id)
        .where(_endpoints.c.organization_id == organization_id)
    )
    if endpoint_id is not None:
        statement = statement.where(_deliveries.c.endpoint_id == endpoint_id)
    return statement


async def attempts_of(session: AsyncSession, delivery_ids: Sequence[int]) -> list[Row[Any]]:
    """Every attempt of the given deliveries, oldest first, in one statement."""
    if not delivery_ids:
        return []
    return list(
        (
            await session.execute(
                select(_attempts)
                .where(_attempts.c.delivery_id.in_(list(delivery_ids)))
                .order_by(_attempts.c.delivery_id, _attempts.c.number)
            )
        ).all()
    )
