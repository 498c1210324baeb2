"""Prometheus metrics (prometheus-client), across uvicorn's workers in multiprocess mode.

With `PROMETHEUS_MULTIPROC_DIR` set (`hub serve` sets it for several workers), every worker
writes its samples to files there and `/metrics`, answered by any worker, sums them
(`MultiProcessCollector`). Gauges say how they combine: `livesum` for what each living
worker holds (pool connections, queued audit events), `mostrecent` for facts of the whole
hub (the last checkpoint's time, read from the database at each scrape).

Labels are bounded by the schema, never by what clients send: `operation` is the root
fields a request selected (`needs`, `me,needs`), not its client-chosen operation name.
See docs/metrics.md for the dashboard queries.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from hub.edge.settings import EdgeSettings

#: prometheus-client's own variable: it decides at import whether samples go to files.
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

GRAPHQL_REQUESTS = Counter(
    "hub_graphql_requests",
    "GraphQL operations answered, by root fields, role and outcome.",
    ["operation", "role", "outcome"],
)
GRAPHQL_LATENCY = Histogram(
    "hub_graphql_request_duration_seconds",
    "Time to answer a GraphQL operation (parse to audit), by root fields.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_COST = Histogram(
    "hub_graphql_request_cost",
    "Static cost of admitted GraphQL operations.",
    buckets=(1, 10, 50, 100, 500, 1000, 5000, 10_000, 50_000),
)
HTTP_REQUESTS = Counter(
    "hub_http_requests", "HTTP requests answered, by route and status.", ["route", "status"]
)
HTTP_LATENCY = Histogram(
    "hub_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
)
RATE_LIMIT_REFUSALS = Counter(
    "hub_rate_limit_refusals",
    "Requests refused by a rate limit, by family (graphql, token-client, token-address, "
    "anonymous).",
    ["family"],
)
PERSISTED_DOCUMENTS = Counter(
    "hub_graphql_documents",
    "How GraphQL requests named their document (text, a trusted document's id, an APQ hash "
    "served from the manifest or the store, hash with text) or why it was refused "
    "(persisted_query_not_found: an APQ miss; document_not_trusted; ...).",
    ["outcome"],
)
CONNECTOR_CALLS = Counter(
    "hub_connector_calls",
    "Calls of agencies' connectors, by connector and outcome (ok, timeout, unreachable, "
    "bad_answer: an HTTP error or an answer outside the contract, circuit_open: not called).",
    ["connector", "outcome"],
)
CONNECTOR_LATENCY = Histogram(
    "hub_connector_call_duration_seconds",
    "Time a connector took to answer (calls made, whatever their outcome).",
    ["connector"],
    buckets=_LATENCY_BUCKETS,
)
CONNECTOR_CIRCUIT_OPEN = Gauge(
    "hub_connector_circuit_open",
    "1 while a connector's circuit breaker is open or half-open in some worker, else 0.",
    ["connector"],
    multiprocess_mode="livemax",
)
POOL_IN_USE = Gauge(
    "hub_db_pool_connections_in_use",
    "Database connections checked out of each pool (requests, audit).",
    ["pool"],
    multiprocess_mode="livesum",
)
AUDIT_QUEUE = Gauge(
    "hub_audit_queue_depth",
    "Audit events waiting for the group commit.",
    multiprocess_mode="livesum",
)
AUDIT_BATCH = Histogram(
    "hub_audit_group_commit_batch_size",
    "Events carried by one audit group commit.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
AUDIT_HEAD_RACES = Counter(
    "hub_audit_head_races_total",
    "Audit batches another worker's append overtook at the chain head, so they were chained "
    "again from the new head and retried (PostgreSQL; a steady rise means workers contend).",
)
AUDIT_LAST_CHECKPOINT = Gauge(
    "hub_audit_last_checkpoint_timestamp_seconds",
    "When the audit trail was last sealed by a signed checkpoint (Unix time; 0: never).",
    multiprocess_mode="mostrecent",
)

#: Routes named in the labels; anything else is `other`.
ROUTES = frozenset(
    {
        "/graphql",
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/introspect",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/healthz",
        "/readyz",
        "/metrics",
    }
)


def route_of(path: str) -> str:
    return path if path in ROUTES else "other"


def watch_pool(engine: AsyncEngine, name: str) -> None:
    """Keep `hub_db_pool_connections_in_use{pool=name}` current for this engine."""
    gauge = POOL_IN_USE.labels(pool=name)
    pool = engine.sync_engine.pool

    def checked_out(*_: Any) -> None:
        gauge.inc()

    def checked_in(*_: Any) -> None:
        gauge.dec()

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)


def multiprocess_dir() -> str | None:
    """The directory of the workers' samples, when prometheus-client writes them to files."""
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


def exposition() -> bytes:
    """Every series, summed over the workers in multiprocess mode."""
    if multiprocess_dir() is None:
        return generate_latest(DEFAULT_REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def metrics_allowed(settings: EdgeSettings, production: bool, request: Request) -> bool:
    """With HUB_METRICS_TOKEN, only a request bearing it; without, development only."""
    token = settings.metrics_token
    if token is None:
        return not production
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.get_secret_value().encode()
    )


def mark_process_dead() -> None:
    """Drop this process's live gauges from the multiprocess sums (on shutdown)."""
    multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def metrics_response() -> Response:
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def refused() -> Response:
    return PlainTextResponse("Not Found", status_code=404)
