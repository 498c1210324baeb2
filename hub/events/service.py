"""Commands of the real-time domain: the events of need changes, pledge warnings, webhooks.

Services never commit: an event is written with the change it tells of, in the same
transaction (`hub.events.outbox`).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import in_chunks
from hub.events import outbox
from hub.events.errors import WebhookError, WebhookErrorCode
from hub.events.models import EVENT_KINDS, PledgeWarning, WebhookEndpoint
from hub.needs.models import Need, Pledge

_needs = Need.__table__
_pledges = Pledge.__table__
_warnings = PledgeWarning.__table__

#: A (from status, to status, note) step of a need's timeline.
Step = tuple[str | None, str, str | None]

#: How long a rotated-out secret keeps signing next to the new one.
SECRET_OVERLAP = dt.timedelta(hours=24)
MAX_ENDPOINTS_PER_ORGANIZATION = 10
MAX_URL = 2000


async def needs_changed(
    session: AsyncSession, changes: Sequence[tuple[int, Sequence[Step]]], *, at: dt.datetime
) -> None:
    """Write `need.changed` for each (need, steps), and `need.opened` when a step opened it."""
    if not changes:
        return
    ids = sorted({need_id for need_id, _ in changes})
    columns = (
        _needs.c.id,
        _needs.c.status,
        _needs.c.severity,
        _needs.c.category_code,
        _needs.c.ppks_code,
        _needs.c.kecamatan_code,
        _needs.c.kelurahan_code,
        _needs.c.holder_organization_id,
    )
    rows = {}
    # A sweep may reopen tens of thousands of needs at once.
    for chunk in in_chunks(ids):
        for row in await session.execute(select(*columns).where(_needs.c.id.in_(chunk))):
            rows[row.id] = row
    events: list[dict[str, Any]] = []
    for need_id, steps in changes:
        row = rows[need_id]
        data = {
            "status": row.status,
            "previousStatus": steps[0][0],
            "severity": row.severity,
            "category": row.category_code,
            "ppksType": row.ppks_code,
            "kecamatan": row.kecamatan_code,
            "kelurahan": row.kelurahan_code,
            "holder": row.holder_organization_id,
        }
        events.append(outbox.event_row("need.changed", need_id, data, at=at))
        if any(to_status == "OPEN" for _, to_status, _ in steps):
            events.append(outbox.event_row("need.opened", need_id, data, at=at))
    await outbox.write(session, rows=events)


async def warn_expiring_pledges(
    session: AsyncSession, *, now: dt.datetime, ahead: dt.timedelta
) -> int:
    """Write `pledge.expiring` (to its holder) for each active pledge lapsing within `ahead`
    that has not been warned of yet; return how many."""
    due = (
        await session.execute(
            select(
                _pledges.c.id,
                _pledges.c.need_id,
                _pledges.c.organization_id,
                _pledges.c.pledged_at,
                _pledges.c.expires_at,
            )
            .where(
                _pledges.c.status == "ACTIVE",
                _pledges.c.expires_at > now,
                _pledges.c.expires_at <= now + ahead,
                ~select(_warnings.c.pledge_id)
                .where(_warnings.c.pledge_id == _pledges.c.id)
                .exists(),
            )
            .order_by(_pledges.c.id)
            .limit(1000)
        )
    ).all()
    if not due:
        return 0
    await session.execute(
        insert(PledgeWarning), [{"pledge_id": row.id, "warned_at": now} for row in due]
    )
    await outbox.write(
        session,
        rows=[
            outbox.event_row(
                "pledge.expiring",
                row.need_id,
                {
                    "pledgedAt": row.pledged_at.isoformat(),
                    "expiresAt": row.expires_at.isoformat(),
                },
                at=now,
                organization_id=row.organization_id,
                pledge_id=row.id,
            )
            for row in due
        ],
    )
    return len(due)


# --- webhook endpoints ---------------------------------------------------------------


def new_secret() -> str:
    """A fresh endpoint secret in the Standard Webhooks form: `whsec_` + base64 of 32 bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def check_url(url: str, *, production: bool) -> None:
    """Raise INVALID_URL unless `url` is an http(s) URL; in production, HTTPS whose host
    resolves only to public addresses (no loopback, private, link-local: SSRF)."""
    if len(url) > MAX_URL:
        raise WebhookError(
            WebhookErrorCode.INVALID_URL, f"the URL has {len(url)} characters; at most {MAX_URL}"
        )
    parts = urlsplit(url)
    schemes = ("https",) if production else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname:
        raise WebhookError(
            WebhookErrorCode.INVALID_URL,
            f"{url!r} is not an absolute {' or '.join(schemes)} URL",
        )
    if parts.username or parts.password:
        raise WebhookError(
            WebhookErrorCode.INVALID_URL, "the URL must not carry a user name or password"
        )
    if not production:
        return  # development and tests post to receivers on loopback
    try:
        port = parts.port or 443
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port)
    except (OSError, ValueError) as error:
        raise WebhookError(
            WebhookErrorCode.INVALID_URL, f"the host {parts.hostname!r} does not resolve ({error})"
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise WebhookError(
                WebhookErrorCode.INVALID_URL,
                f"the host {parts.hostname!r} resolves to {address}, which is not a public "
                "address; webhooks are sent to the internet only",
            )


def _check_events(events: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(events))
    if not wanted:
        raise WebhookError(WebhookErrorCode.INVALID_INPUT, "name at least one event kind")
    unknown = [e for e in wanted if e not in EVENT_KINDS]
    if unknown:
        raise WebhookError(
            WebhookErrorCode.INVALID_INPUT,
            f"unknown event kinds {unknown}; accepted: {', '.join(EVENT_KINDS)}",
        )
    return wanted


async def register_webhook(
    session: AsyncSession,
    *,
    organization_id: int,
    client_id: int,
    roles: Sequence[str],
    url: str,
    events: Sequence[str],
    filter: dict[str, Any],
    production: bool,
    now: dt.datetime,
) -> tuple[WebhookEndpoint, str]:
    """A new ACTIVE endpoint of the organisation and its secret (shown once); raise
    WebhookError when the URL, the events or the count of endpoints is refused."""
    kinds = _check_events(events)
    await check_url(url, production=production)
    count = len(
        (
            await session.scalars(
                select(WebhookEndpoint.id).where(WebhookEndpoint.organization_id == organization_id)
            )
        ).all()
    )
    if count >= MAX_ENDPOINTS_PER_ORGANIZATION:
        raise WebhookError(
            WebhookErrorCode.TOO_MANY_ENDPOINTS,
            f"your organisation has {count} endpoints; at most "
            f"{MAX_ENDPOINTS_PER_ORGANIZATION} are allowed",
        )
    secret = new_secret()
    endpoint = (
        await session.scalars(
            insert(WebhookEndpoint)
            .values(
                organization_id=organization_id,
                client_id=client_id,
                roles=list(roles),
                url=url,
                events=kinds,
                filter=filter,
                secret=secret,
                status="ACTIVE",
                created_at=now,
            )
            .returning(WebhookEndpoint)
        )
    ).one()
    return endpoint, secret


async def _own_endpoint(
    session: AsyncSession, *, endpoint_id: int, organization_id: int
) -> WebhookEndpoint:
    endpoint = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.organization_id == organization_id
        )
    )
    if endpoint is None:
        raise WebhookError(
            WebhookErrorCode.WEBHOOK_NOT_FOUND,
            f"your organisation has no webhook endpoint {endpoint_id}",
        )
    return endpoint


async def rotate_secret(
    session: AsyncSession, *, endpoint_id: int, organization_id: int, now: dt.datetime
) -> tuple[WebhookEndpoint, str]:
    """Give the endpoint a new secret (returned once); the old one also signs for a day."""
    endpoint = await _own_endpoint(
        session, endpoint_id=endpoint_id, organization_id=organization_id
    )
    secret = new_secret()
    updated = (
        await session.scalars(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id)
            .values(
                secret=secret,
                previous_secret=endpoint.secret,
                previous_secret_until=now + SECRET_OVERLAP,
            )
            .returning(WebhookEndpoint)
            .execution_options(populate_existing=True)
        )
    ).one()
    return updated, secret


async def enable_webhook(
    session: AsyncSession, *, endpoint_id: int, organization_id: int
) -> WebhookEndpoint:
    """Make a disabled endpoint ACTIVE again (after its receiver is fixed); return it."""
    endpoint = await _own_endpoint(
        session, endpoint_id=endpoint_id, organization_id=organization_id
    )
    return (
        await session.scalars(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id)
            .values(status="ACTIVE", disabled_reason=None, disabled_at=None)
            .returning(WebhookEndpoint)
            .execution_options(populate_existing=True)
        )
    ).one()
