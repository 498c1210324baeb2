"""Fixtures of the identity tests: a database with the auth tables, a fake clock, an app.

The app is a tiny Starlette application with the auth routes, a protected endpoint
behind `BearerAuthMiddleware`, and an open health check, driven through real HTTP (ASGI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.auth.keys import MemoryKeyStore
from hub.auth.resource import BearerAuthMiddleware, Principal
from hub.auth.routes import auth_routes
from hub.auth.state import AuthState
from hub.db import transaction
from hub.organizations import service
from hub.organizations.hashing import SecretHasher
from hub.settings import AuthSettings
from tests.support.clock import FakeClock

T = TypeVar("T")
ISSUER = "http://127.0.0.1:8000"


@pytest.fixture
async def auth_database_url(empty_database_url: str) -> str:
    """A fresh migrated database (the auth tables come with migration 0002)."""
    return empty_database_url


@pytest.fixture
def clock() -> FakeClock:
    """The injectable clock of the auth state."""
    return FakeClock()


@pytest.fixture
def key_store() -> MemoryKeyStore:
    """Signing keys held in memory."""
    return MemoryKeyStore()


@pytest.fixture
def auth_settings() -> AuthSettings:
    """Defaults, with the test issuer."""
    return AuthSettings(issuer=ISSUER)


@pytest.fixture
def hasher(clock: FakeClock) -> SecretHasher:
    """Argon2id with cheap parameters, so that the suite stays fast."""
    return SecretHasher(
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        verified_cache_seconds=60,
        clock=clock.time,
    )


@pytest.fixture
def auth(
    auth_settings: AuthSettings,
    sessions: async_sessionmaker[AsyncSession],
    key_store: MemoryKeyStore,
    hasher: SecretHasher,
    clock: FakeClock,
) -> AuthState:
    """The identity layer under test."""
    return AuthState.build(
        settings=auth_settings,
        sessions=sessions,
        key_store=key_store,
        hasher=hasher,
        clock=clock.time,
    )


def build_app(auth: AuthState) -> Starlette:
    """Auth routes, a protected `/graphql` stand-in and an open `/healthz`."""

    async def whoami(request: Request) -> Response:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:  # the GraphiQL page, let through without a token
            return JSONResponse({"page": "graphiql"})
        return JSONResponse(
            {
                "client_id": principal.client_id,
                "client_pk": principal.client_pk,
                "organization_id": principal.organization_id,
                "organization_code": principal.organization_code,
                "organization_kind": principal.organization_kind,
                "roles": list(principal.roles),
                "token_id": principal.token_id,
            }
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            *auth_routes(auth),
            Route("/graphql", whoami, methods=["GET", "POST"]),
            Route("/healthz", healthz),
        ],
        middleware=[Middleware(BearerAuthMiddleware, authenticator=auth.authenticator)],
    )


@pytest.fixture
async def http(auth: AuthState) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the test app."""
    transport = httpx.ASGITransport(app=build_app(auth))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


Work = Callable[[AsyncSession], Awaitable[T]]


@pytest.fixture
def db(sessions: async_sessionmaker[AsyncSession]) -> Callable[[Work[Any]], Awaitable[Any]]:
    """Run a function in one committed transaction, as a request or the CLI would."""

    async def run(work: Work[T]) -> T:
        async with transaction(sessions) as session:
            return await work(session)

    return run


@pytest.fixture
def make_client(
    db: Callable[[Work[Any]], Awaitable[Any]], hasher: SecretHasher
) -> Callable[..., Awaitable[service.IssuedClient]]:
    """Create a client (committed) for an organisation with roles."""

    async def make(org: str, *roles: str, **options: Any) -> service.IssuedClient:
        async def work(session: AsyncSession) -> service.IssuedClient:
            return await service.create_client(
                session, organization_code=org, roles=roles, hasher=hasher, **options
            )

        issued: service.IssuedClient = await db(work)
        return issued

    return make


async def fetch_token(
    http: httpx.AsyncClient, client_id: str, secret: str, **form: str
) -> httpx.Response:
    """POST /oauth/token with client_secret_basic."""
    return await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **form},
        auth=(client_id, secret),
    )


async def token_for(http: httpx.AsyncClient, issued: service.IssuedClient) -> str:
    """A fresh access token for `issued`."""
    assert issued.secret is not None
    response = await fetch_token(http, issued.client.client_id, issued.secret)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
