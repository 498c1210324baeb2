"""The webhook worker: committed events to signed HTTP deliveries, at least once.

One worker per process, started with the app. Each round it

1. fans out: claims outbox events not yet dispatched (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL, so workers of several processes share them; on SQLite the write transaction
   is the claim), asks the row rules which ACTIVE endpoints of ACTIVE organisations may see
   each need (`visible_to`, as a query would, with the roles the registering client still
   holds), and writes one delivery per endpoint with its body fixed, in one transaction;
2. sends: claims due deliveries for a lease, POSTs them signed per Standard Webhooks
   (`webhook-id`, `webhook-timestamp`, `webhook-signature`, HMAC-SHA256 by the
   `standardwebhooks` package), records every attempt, and on failure schedules the next
   one with exponential backoff and jitter; after the last attempt the delivery fails and
   its endpoint is disabled with the reason.

A crash anywhere leaves either an undispatched event or a delivery whose lease runs out, so
it is sent again after a restart: receivers de-duplicate on `webhook-id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from hub.auth.resource import Principal
from hub.authz.policy import PolicyStore
from hub.db import transaction, utcnow
from hub.events.bus import BusMessage, EventBus
from hub.events.errors import WebhookError
from hub.events.fanout import Audience, visible_to
from hub.events.models import EventRecord, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hub.events.queries import filter_condition, webhook_id
from hub.events.service import check_url
from hub.graphql.relay import to_global_id
from hub.organizations.models import ClientRole, Organization
from hub.settings import EventSettings

log = logging.getLogger(__name__)

_events = EventRecord.__table__
_endpoints = WebhookEndpoint.__table__
_deliveries = WebhookDelivery.__table__
_organizations = Organization.__table__
_client_roles = ClientRole.__table__

BATCH = 100
USER_AGENT = "satu-pintu-hub-webhooks/1"


def body(event: Any) -> str:
    """The JSON body of an event (Standard Webhooks' `type`, `timestamp`, `data`): ids,
    codes and statuses only; the receiver reads the rest with its own token."""
    data: dict[str, Any] = dict(event.data)
    data["need"] = to_global_id("Need", event.need_id)
    if data.get("holder") is not None:
        data["holder"] = to_global_id("Organization", data["holder"])
    data["eventId"] = event.id
    return orjson.dumps(
        {"type": event.kind, "timestamp": event.occurred_at.isoformat(), "data": data}
    ).decode()


def signature_headers(
    delivery_id: int, payload: str, secrets: list[str], at: dt.datetime
) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery, signed with each of `secrets`."""
    message_id = webhook_id(delivery_id)
    signatures = " ".join(Webhook(secret).sign(message_id, at, payload) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def backoff(attempt: int, settings: EventSettings, rand: Callable[[], float]) -> float:
    """Seconds before retry `attempt` (1: the first retry): exponential, half of it jitter."""
    ceiling = min(
        settings.webhook_backoff_max_seconds, settings.webhook_backoff_seconds * 2 ** (attempt - 1)
    )
    return float(ceiling / 2 + rand() * ceiling / 2)


@dataclass(frozen=True, slots=True)
class _Due:
    id: int
    attempts: int
    payload: str
    endpoint_id: int
    url: str
    secrets: list[str]


@dataclass(frozen=True, slots=True)
class _Outcome:
    due: _Due
    at: dt.datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookWorker:
    """Fans out committed events and sends due deliveries until stopped."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policies: PolicyStore,
        settings: EventSettings,
        *,
        production: bool,
        postgres: bool,
        bus: EventBus | None = None,
        reads: async_sessionmaker[AsyncSession] | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.sessions = sessions
        self.policies = policies
        self.settings = settings
        self.production = production
        self.postgres = postgres
        self.bus = bus
        #: Sessions that only read: looking for work must not take SQLite's write lock.
        self.reads = reads or sessions
        self.client = client
        self.clock = clock
        self.rand = rand
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._own_client = client is None

    def start(self) -> None:
        """Begin working in the background (woken early by every bus message)."""
        if self._task is not None or self.settings.webhook_poll_seconds <= 0:
            return
        if self.client is None:
            # No redirects: a receiver must not bounce the hub onto another address.
            self.client = httpx.AsyncClient(follow_redirects=False)
        if self.bus is not None:
            self.bus.add_listener(self._heard)
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    def _heard(self, _: BusMessage) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop working; a delivery being sent is retried after its lease."""
        if self.bus is not None:
            self.bus.remove_listener(self._heard)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._own_client and self.client is not None:
            await self.client.aclose()
            self.client = None

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the next round retries; requests go on
                log.exception("webhook round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
            self._wake.clear()

    async def run_once(self) -> tuple[int, int]:
        """One round: (events fanned out, deliveries attempted)."""
        dispatched = 0
        if await self._exists(select(_events.c.id).where(_events.c.dispatched_at.is_(None))):
            while batch := await self.dispatch():
                dispatched += batch
        due = select(_deliveries.c.id).where(
            _deliveries.c.status == "PENDING", _deliveries.c.next_attempt_at <= self.clock()
        )
        return dispatched, await self.send_due() if await self._exists(due) else 0

    async def _exists(self, statement: Any) -> bool:
        async with self.reads() as session:
            return (await session.scalar(statement.limit(1))) is not None

    # --- fan-out -------------------------------------------------------------------------

    async def dispatch(self) -> int:
        """Turn up to BATCH undispatched events into deliveries; return how many events."""
        now = self.clock()
        async with transaction(self.sessions) as session:
            claim = (
                select(_events)
                .where(_events.c.dispatched_at.is_(None))
                .order_by(_events.c.id)
                .limit(BATCH)
            )
            if self.postgres:
                claim = claim.with_for_update(skip_locked=True)
            events = (await session.execute(claim)).all()
            if not events:
                return 0
            endpoints = await self._endpoints(session)
            policy = await self.policies.current()
            deliveries: list[dict[str, Any]] = []
            for event in events:
                candidates = [
                    e
                    for e in endpoints
                    if event.kind in e.events
                    and (
                        event.organization_id is None or event.organization_id == e.organization_id
                    )
                ]
                if not candidates:
                    continue
                audiences = [Audience(e.principal, filter_condition(e.filter)) for e in candidates]
                flags = await visible_to(session, policy, event.need_id, audiences)
                payload = body(event)
                deliveries.extend(
                    {
                        "endpoint_id": e.id,
                        "event_id": event.id,
                        "payload": payload,
                        "status": "PENDING",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for e, visible in zip(candidates, flags, strict=True)
                    if visible
                )
            if deliveries:
                await session.execute(insert(WebhookDelivery), deliveries)
            await session.execute(
                update(EventRecord)
                .where(EventRecord.id.in_([e.id for e in events]))
                .values(dispatched_at=now)
            )
        if deliveries:
            self._wake.set()
        return len(events)

    async def _endpoints(self, session: AsyncSession) -> list[_Endpoint]:
        rows = (
            await session.execute(
                select(_endpoints, _organizations.c.code, _organizations.c.kind)
                .join(_organizations, _organizations.c.id == _endpoints.c.organization_id)
                .where(_endpoints.c.status == "ACTIVE", _organizations.c.status == "ACTIVE")
                .order_by(_endpoints.c.id)
            )
        ).all()
        if not rows:
            return []
        held: dict[int, set[str]] = {}
        for client_id, role in await session.execute(
            select(_client_roles.c.client_id, _client_roles.c.role).where(
                _client_roles.c.client_id.in_({row.client_id for row in rows})
            )
        ):
            held.setdefault(client_id, set()).add(role)
        return [
            _Endpoint(
                id=row.id,
                organization_id=row.organization_id,
                events=frozenset(row.events),
                filter=row.filter or {},
                principal=Principal(
                    client_id="",
                    client_pk=row.client_id,
                    organization_id=row.organization_id,
                    organization_code=row.code,
                    organization_kind=row.kind,
                    # A role withdrawn from the registering client no longer widens it.
                    roles=tuple(r for r in row.roles if r in held.get(row.client_id, set())),
                    token_id="",
                ),
            )
            for row in rows
        ]

    # --- sending -------------------------------------------------------------------------

    async def send_due(self) -> int:
        """Attempt every due delivery once (concurrently); return how many."""
        due = await self._claim()
        if not due:
            return 0
        outcomes = await asyncio.gather(*(self._send(d) for d in due))
        async with transaction(self.sessions) as session:
            for outcome in outcomes:
                await self._settle(session, outcome)
        return len(due)

    async def _claim(self) -> list[_Due]:
        now = self.clock()
        lease = dt.timedelta(seconds=self.settings.webhook_timeout_seconds + 30)
        async with transaction(self.sessions) as session:
            claim = (
                select(
                    _deliveries.c.id,
                    _deliveries.c.attempts,
                    _deliveries.c.payload,
                    _endpoints.c.id.label("endpoint_id"),
                    _endpoints.c.url,
                    _endpoints.c.secret,
                    _endpoints.c.previous_secret,
                    _endpoints.c.previous_secret_until,
                )
                .join(_endpoints, _endpoints.c.id == _deliveries.c.endpoint_id)
                .where(
                    _deliveries.c.status == "PENDING",
                    _deliveries.c.next_attempt_at <= now,
                    or_(_deliveries.c.claimed_until.is_(None), _deliveries.c.claimed_until < now),
                    _endpoints.c.status == "ACTIVE",
                )
                .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
                .limit(BATCH)
            )
            if self.postgres:
                claim = claim.with_for_update(of=_deliveries, skip_locked=True)
            rows = (await session.execute(claim)).all()
            if not rows:
                return []
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_([r.id for r in rows]))
                .values(claimed_until=now + lease)
            )
        return [
            _Due(
                id=r.id,
                attempts=r.attempts,
                payload=r.payload,
                endpoint_id=r.endpoint_id,
                url=r.url,
                secrets=[r.secret]
                + (
                    [r.previous_secret]
                    if r.previous_secret
                    and r.previous_secret_until
                    and r.previous_secret_until > now
                    else []
                ),
            )
            for r in rows
        ]

    async def _send(self, due: _Due) -> _Outcome:
        at = self.clock()
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            # DNS may have changed since registration: check every address again.
            await check_url(due.url, production=self.production)
            assert self.client is not None
            response = await self.client.post(
                due.url,
                content=due.payload.encode(),
                headers=signature_headers(due.id, due.payload, due.secrets, at),
                timeout=self.settings.webhook_timeout_seconds,
            )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except WebhookError as refused:
            error = f"refused: {refused.message}"
        except httpx.HTTPError as failure:
            error = (
                f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
            )
        latency = int((time.perf_counter() - started) * 1000)
        return _Outcome(due, at, status_code, latency, error[:300] if error else None)

    async def _settle(self, session: AsyncSession, outcome: _Outcome) -> None:
        due = outcome.due
        number = due.attempts + 1
        await session.execute(
            insert(WebhookAttempt).values(
                delivery_id=due.id,
                number=number,
                attempted_at=outcome.at,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
            )
        )
        values: dict[str, Any] = {"attempts": number, "claimed_until": None}
        if outcome.ok:
            values.update(status="DELIVERED", delivered_at=outcome.at)
        elif number >= self.settings.webhook_max_attempts:
            values.update(status="FAILED")
            reason = (
                f"delivery {webhook_id(due.id)} failed {number} attempts; last: {outcome.error}"
            )
            await session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == due.endpoint_id, WebhookEndpoint.status == "ACTIVE")
                .values(status="DISABLED", disabled_reason=reason, disabled_at=outcome.at)
            )
            log.warning("webhook endpoint %s disabled: %s", due.endpoint_id, reason)
        else:
            delay = backoff(number, self.settings, self.rand)
            values.update(next_attempt_at=outcome.at + dt.timedelta(seconds=delay))
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == due.id).values(**values)
        )


@dataclass(frozen=True, slots=True)
class _Endpoint:
    id: int
    organization_id: int
    events: frozenset[str]
    filter: dict[str, Any]
    principal: Principal
