"""The ASGI application: GraphQL, health checks, and the request path around them."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute

from hub.audit.head import read_head
from hub.audit.http import AuditHttpMiddleware
from hub.audit.runtime import AuditRecorder
from hub.auth.keys import KeyStore
from hub.auth.resource import ANONYMOUS, BearerAuthMiddleware
from hub.auth.routes import auth_routes
from hub.auth.state import AuthState
from hub.authz.policy import PolicyStore
from hub.body_limit import BodyLimitMiddleware
from hub.db import create_engine, ping, session_factory
from hub.edge import metrics
from hub.edge.apq import store_from_settings
from hub.edge.documents import load_catalogue
from hub.edge.headers import browser_middleware
from hub.edge.http import ClientLimitMiddleware, EdgeLimitMiddleware
from hub.edge.logs import AccessLogMiddleware
from hub.edge.ratelimit import RateLimiter
from hub.env import SettingsError
from hub.events.realtime import Realtime
from hub.graphql.documents import Documents
from hub.graphql.graphiql import STATIC_PATH, static_files
from hub.graphql.http import HubGraphQL
from hub.graphql.schema import build_schema, operations_of
from hub.needs.sweeper import PledgeSweeper
from hub.requests import RequestIdMiddleware
from hub.settings import Settings

logger = logging.getLogger("hub")


def create_served_app() -> Starlette:
    """The app `hub serve` and `hub demo` give uvicorn (in each worker), from the environment.

    Once started, its worker freezes the objects it holds into Python's permanent GC
    generation (`gc.freeze`): the schema, the policy, the modules — over 150,000 objects
    that every full collection would otherwise walk, a pause of 30-130 ms measured on the
    request that ran into it (bench/attack.py, a victim's slowest answers). Collections
    then walk only what requests allocate. Not in `create_app`: a test process builds
    hundreds of apps, and what a freeze holds is never collected.
    """
    return create_app(freeze_gc=True)


def create_app(
    settings: Settings | None = None,
    *,
    key_store: KeyStore | None = None,
    freeze_gc: bool = False,
) -> Starlette:
    """The hub as an ASGI app, configured by `settings` (default: from the environment).

    `key_store` replaces the signing keys the settings name (tests keep theirs in memory);
    `freeze_gc`: see `create_served_app`.
    """
    settings = settings or Settings.from_env()
    engine = create_engine(settings.database_url, echo=settings.echo_sql)
    sessions = session_factory(engine)
    auth = AuthState.from_settings(settings, sessions, key_store=key_store)
    # The audit writer has a pool of its own: requests waiting for their events to be
    # durable hold connections, and must never starve the writer they wait for.
    audit_engine = create_engine(settings.database_url, pool_size=2)
    recorder = (
        AuditRecorder.from_settings(
            settings.audit,
            # Appends write: on SQLite their transactions take the write lock up front.
            sessions=session_factory(audit_engine, write=True),
            var_dir=settings.var_dir,
            production=settings.is_production,
        )
        if settings.audit_enabled
        else None
    )
    limiter = RateLimiter(settings.edge) if settings.edge.rate_limits else None
    metrics.watch_pool(engine, "requests")
    metrics.watch_pool(audit_engine, "audit")
    if limiter is not None:
        limiter.on_refusal.append(
            lambda family: metrics.RATE_LIMIT_REFUSALS.labels(family=family).inc()
        )
    if recorder is not None:
        recorder.writer.on_queue.append(metrics.AUDIT_QUEUE.set)
        recorder.writer.on_commit.append(metrics.AUDIT_BATCH.observe)
        recorder.writer.on_head_race.append(metrics.AUDIT_HEAD_RACES.inc)
    # Trusted documents (schema/operations/) and the APQ store (memory, or Redis).
    document_store = store_from_settings(settings.edge) if settings.edge.apq else None
    catalogue = load_catalogue(settings.edge.trusted_documents_file)
    if settings.edge.trusted_documents_only and not len(catalogue):
        raise SettingsError(
            "HUB_TRUSTED_DOCUMENTS_ONLY names roles, but there is no manifest of trusted "
            "documents: set HUB_TRUSTED_DOCUMENTS_FILE (`hub documents export` writes one)"
        )
    documents = Documents(catalogue, document_store, settings.edge)
    schema = build_schema(settings, limiter=limiter, documents=documents)
    policies = PolicyStore(
        sessions, operations_of(schema), check_every=settings.policy_check_seconds
    )
    # Subscriptions' bus and fan-out, the webhook worker and the pledge warnings.
    realtime = Realtime.from_settings(settings, engine, sessions, policies)
    graphql = HubGraphQL(schema, settings, sessions, policies, auth, recorder, realtime.fanout)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            await ping(engine)
        except Exception as error:  # any failure means "not ready"; say which
            logger.warning("readiness check failed: %s", error)
            return JSONResponse(
                {"status": "unavailable", "database": type(error).__name__}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        if not metrics.metrics_allowed(settings.edge, settings.is_production, request):
            return metrics.refused()
        if recorder is not None:
            # A fact of the whole hub, read at each scrape by whichever worker answers.
            async with session_factory(engine)() as session:
                head = await read_head(session)
            sealed = head.last_checkpoint_at
            metrics.AUDIT_LAST_CHECKPOINT.set(sealed.timestamp() if sealed else 0)
        return metrics.metrics_response()

    sweeper = PledgeSweeper(
        realtime.attached(session_factory(engine, write=True)),
        interval=settings.pledge_sweep_seconds,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if recorder is not None:
            await recorder.start()
        await realtime.start()
        sweeper.start()
        if freeze_gc:
            gc.collect()  # what start-up left as garbage is not frozen with the rest
            gc.freeze()
        yield
        await sweeper.stop()
        await realtime.stop()
        if recorder is not None:
            await recorder.close()
        await audit_engine.dispose()
        await engine.dispose()
        if limiter is not None:
            await limiter.close()
        if document_store is not None:
            await document_store.close()
        if metrics.multiprocess_dir() is not None:
            # This worker's live gauges (pool, queue) stop counting in the sums.
            metrics.mark_process_dead()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *auth_routes(auth),
            # GraphiQL's own assets, offline and without a token; gone with GraphiQL.
            *([Mount(STATIC_PATH, static_files())] if settings.graphiql else []),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(AccessLogMiddleware),
            *browser_middleware(settings.edge),
            # The audit net sits outside the body cap, so a refused body is on the trail too.
            *([Middleware(AuditHttpMiddleware, record=recorder.record)] if recorder else []),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            *(
                [
                    Middleware(
                        EdgeLimitMiddleware,
                        limiter=limiter,
                        record=recorder.record if recorder else None,
                        refusal_delay=settings.edge.rate_limit_refusal_delay,
                    )
                ]
                if limiter
                else []
            ),
            # Without a token a request is `anonymous`, which the policy lets follow a
            # request by its tracking code and nothing else (401 for anything more).
            Middleware(BearerAuthMiddleware, authenticator=auth.authenticator, anonymous=ANONYMOUS),
            # Once the client is known: its slots, and its refusal before any GraphQL work.
            *(
                [Middleware(ClientLimitMiddleware, limiter=limiter, settings=settings.edge)]
                if limiter
                else []
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.auth = auth
    app.state.policies = policies
    app.state.recorder = recorder
    app.state.limiter = limiter
    app.state.documents = documents
    app.state.audit_engine = audit_engine
    app.state.realtime = realtime
    return app
