"""Calling a connector: its `_entities`, with its credential, a deadline and a circuit breaker.

A call that takes longer than the connector's timeout is abandoned (the whole call, not
each read of the socket); a connector that failed `BREAKER_THRESHOLD` times in a row is not
called for `BREAKER_OPEN_SECONDS`, then tried again once. The breakers are purgatory's, one
per connector and URL in each hub process: the state is in memory, like a cache (purgatory
can keep it in Redis to share it between processes).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.messages.base import Event
from purgatory.domain.messages.events import ContextChanged
from purgatory.domain.model import OpenedState

from hub.edge.metrics import CONNECTOR_CALLS, CONNECTOR_CIRCUIT_OPEN, CONNECTOR_LATENCY
from hub.federation.models import Connector

logger = logging.getLogger("hub.federation")

BREAKER_THRESHOLD = 5
BREAKER_OPEN_SECONDS = 30

_breakers = AsyncCircuitBreakerFactory(
    default_threshold=BREAKER_THRESHOLD, default_ttl=BREAKER_OPEN_SECONDS
)


def _breaker_changed(circuit: str, kind: str, event: Event) -> None:
    """Keep `hub_connector_circuit_open` as the breaker's state (`<connector>@<url>`)."""
    if kind == "state_changed" and isinstance(event, ContextChanged):
        connector = circuit.rsplit("@", 1)[0]
        CONNECTOR_CIRCUIT_OPEN.labels(connector=connector).set(event.state != "closed")


_breakers.add_listener(_breaker_changed)
#: (token URL, client id) -> (access token, monotonic expiry), for CLIENT_CREDENTIALS.
_tokens: dict[tuple[str, str], tuple[str, float]] = {}


@dataclass(frozen=True, slots=True)
class Target:
    """What the hub needs to call one connector (a snapshot of its row)."""

    name: str
    url: str
    fields: tuple[str, ...]
    key_field: str
    timeout_ms: int
    auth: str
    secret_ref: str | None
    token_url: str | None
    client_id: str | None

    @classmethod
    def of(cls, row: Connector) -> Target:
        """The call target of a `connectors` row."""
        return cls(
            name=row.name,
            url=row.url,
            fields=tuple(row.fields),
            key_field=row.key_field,
            timeout_ms=row.timeout_ms,
            auth=row.auth,
            secret_ref=row.secret_ref,
            token_url=row.token_url,
            client_id=row.client_id,
        )


@functools.cache
def _tls() -> ssl.SSLContext:
    """The process's TLS context (the system's trust store), made once.

    Building one loads every CA certificate: measured here ~90 ms, which a fresh client per
    call would otherwise pay on every connected request.
    """
    return ssl.create_default_context()


class ConnectorFailure(Exception):
    """A connector gave no usable answer: which one, and why (said to clients)."""

    def __init__(self, connector: str, reason: str) -> None:
        super().__init__(f"{connector}: {reason}")
        self.connector = connector
        self.reason = reason


class _BadAnswer(Exception):
    """The connector answered, but not with what `_entities` returns."""


def read_secret(reference: str) -> str:
    """The credential a secret reference names (`env:NAME`, `file:/path`)."""
    kind, _, where = reference.partition(":")
    value = os.environ.get(where) if kind == "env" else None
    if kind == "file":
        value = Path(where).read_text().strip()
    if not value:
        raise _BadAnswer(f"the credential {reference} is not set on this hub")
    return value


async def _authorization(target: Target, client: httpx.AsyncClient) -> dict[str, str]:
    if target.auth == "NONE" or target.secret_ref is None:
        return {}
    secret = read_secret(target.secret_ref)
    if target.auth == "BEARER":
        return {"authorization": f"Bearer {secret}"}
    assert target.token_url is not None and target.client_id is not None
    cached = _tokens.get((target.token_url, target.client_id))
    if cached is None or cached[1] < time.monotonic():
        response = await client.post(
            target.token_url,
            data={"grant_type": "client_credentials"},
            auth=(target.client_id, secret),
        )
        if response.status_code != 200:
            raise _BadAnswer(f"token endpoint answered HTTP {response.status_code}")
        body = response.json()
        lifetime = float(body.get("expires_in", 300))
        cached = (str(body["access_token"]), time.monotonic() + lifetime * 0.9)
        _tokens[(target.token_url, target.client_id)] = cached
    return {"authorization": f"Bearer {cached[0]}"}


async def fetch_entities(
    target: Target, representations: list[dict[str, Any]], selection: str
) -> list[dict[str, Any] | None]:
    """The connector's `_entities` for `representations` (aligned), or `ConnectorFailure`."""
    document = (
        "query HubConnector($r: [_Any!]!) { _entities(representations: $r) "
        f"{{ ... on Citizen {{ {selection} }} }} }}"
    )
    seconds = target.timeout_ms / 1000
    started = time.perf_counter()
    called = False
    try:
        breaker = await _breakers.get_breaker(f"{target.name}@{target.url}")
        async with breaker:
            called = True
            async with asyncio.timeout(seconds):
                # One client per call (cheap with the shared TLS context): a process-wide
                # pool would have to be closed by every app's lifespan.
                async with httpx.AsyncClient(timeout=seconds, verify=_tls()) as client:
                    headers = await _authorization(target, client)
                    response = await client.post(
                        target.url,
                        json={"query": document, "variables": {"r": representations}},
                        headers=headers,
                    )
            entities = _entities_of(response, len(representations))
        _measured(target, "ok", started)
        return entities
    except OpenedState:
        outcome, reason = (
            "circuit_open",
            f"not called for {BREAKER_OPEN_SECONDS} s after repeated failures",
        )
    except TimeoutError:
        outcome, reason = "timeout", f"no answer within {target.timeout_ms} ms"
    except httpx.HTTPError as error:
        outcome, reason = "unreachable", f"{type(error).__name__}"
    except _BadAnswer as error:
        outcome, reason = "bad_answer", str(error)
    _measured(target, outcome, started if called else None)
    logger.warning("connector %s unavailable: %s", target.name, reason)
    raise ConnectorFailure(target.name, reason)


def _measured(target: Target, outcome: str, started: float | None) -> None:
    """Count the call; time it when the connector was called (not when the circuit was open)."""
    CONNECTOR_CALLS.labels(connector=target.name, outcome=outcome).inc()
    if started is not None:
        CONNECTOR_LATENCY.labels(connector=target.name).observe(time.perf_counter() - started)


def _entities_of(response: httpx.Response, expected: int) -> list[dict[str, Any] | None]:
    if response.status_code != 200:
        raise _BadAnswer(f"HTTP {response.status_code}")
    try:
        body = response.json()
        entities = body["data"]["_entities"]
    except (ValueError, KeyError, TypeError):
        raise _BadAnswer("not a GraphQL _entities answer") from None
    if not isinstance(entities, list) or len(entities) != expected:
        raise _BadAnswer(f"{expected} references sent, a different answer came back")
    return [e if isinstance(e, dict) else None for e in entities]
