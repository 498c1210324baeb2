"""Helpers of the workflow tests: partners with real tokens, SQL peeks, a live hub on a port."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette

from hub.app import create_app
from hub.auth.keys import MemoryKeyStore, generate_key
from hub.db import create_engine, session_factory, transaction
from hub.organizations import service
from hub.settings import Settings
from tests.support.api import Api, GraphQLCaller

REGISTER = """mutation($input: RegisterOrganizationInput!) {
  registerOrganization(input: $input) { organization { code } errors { code message } }
}"""
APPROVE = """mutation($code: String!) {
  approveOrganization(code: $code) { organization { status } errors { code message } }
}"""
CREATE_CLIENT = """mutation($org: String!) {
  createClient(input: {organization: $org, roles: [LKS_PARTNER], name: "workflow test"}) {
    client { clientId } secret errors { code message }
  }
}"""


@dataclass
class Partner(GraphQLCaller):
    """A client holding a bearer token obtained like any partner's (or minted for a test)."""

    client: httpx.AsyncClient
    token: str
    purpose: str | None = "SERVICE_DELIVERY"
    label: str = ""

    def headers(self) -> dict[str, str]:
        """The bearer token and, when set, the purpose of the read."""
        headers = {"authorization": f"Bearer {self.token}"}
        if self.purpose is not None:
            headers["x-purpose"] = self.purpose
        return headers


async def sql(url: str, statement: str, **params: object) -> list[dict[str, Any]]:
    """Run one SQL statement on the test's database (committed); rows as dicts."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return [dict(r._mapping) for r in result] if result.returns_rows else []
    finally:
        await engine.dispose()


def database_url(api: Api) -> str:
    """The database the `api`'s hub serves."""
    return str(api.app.state.settings.database_url)


async def onboard_foundation(
    admin: Api, code: str, *, categories: list[str], kecamatan: list[str]
) -> Partner:
    """Register, approve and give a client to a foundation through the API, then obtain its
    token at /oauth/token with the client secret, as the foundation itself would."""
    registered = await admin.data(
        REGISTER,
        {
            "input": {
                "code": code,
                "kind": "LKS",
                "name": f"Yayasan {code.title()}",
                "categories": categories,
                "kecamatan": kecamatan,
            }
        },
    )
    assert registered["registerOrganization"]["errors"] == []
    approved = await admin.data(APPROVE, {"code": code})
    assert approved["approveOrganization"]["organization"]["status"] == "ACTIVE"
    created = (await admin.data(CREATE_CLIENT, {"org": code}))["createClient"]
    assert created["errors"] == []
    response = await admin.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created["client"]["clientId"], created["secret"]),
    )
    assert response.status_code == 200, response.text
    return Partner(admin.client, response.json()["access_token"], label=code)


async def add_foundations(
    url: str, prefix: str, count: int, *, kecamatan: str, category: str
) -> list[tuple[str, str]]:
    """`count` new ACTIVE foundations serving `category` in `kecamatan`, each with a client
    holding a public key instead of a secret (tests mint their tokens); (code, client id)."""
    engine = create_engine(url)
    made = []
    try:
        async with transaction(session_factory(engine)) as session:
            for n in range(count):
                code = f"{prefix}-{n:02d}"
                await service.create_organization(
                    session, code=code, kind="LKS", name=f"Yayasan {prefix.title()} {n}"
                )
                await service.set_service_scope(
                    session, code=code, category_codes=[category], kecamatan_codes=[kecamatan]
                )
                await service.approve_organization(session, code=code)
                issued = await service.create_client(
                    session,
                    organization_code=code,
                    roles=["lks_partner"],
                    name=f"{prefix} {n}",
                    public_jwk=generate_key().as_dict(private=False),
                    with_secret=False,
                )
                made.append((code, issued.client.client_id))
    finally:
        await engine.dispose()
    return made


def partner(
    app: Starlette,
    client: httpx.AsyncClient,
    code: str,
    client_id: str,
    *,
    purpose: str | None = "SERVICE_DELIVERY",
) -> Partner:
    """A foundation's client with a token minted by the hub's keys."""
    minted = app.state.auth.tokens.mint(
        client_id=client_id, organization_code=code, organization_kind="LKS", roles=["lks_partner"]
    )
    return Partner(client, minted.access_token, purpose=purpose, label=code)


@dataclass
class LiveHub:
    """A hub served by uvicorn on a loopback port, in a thread of its own."""

    app: Starlette
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self) -> httpx.AsyncClient:
        """An HTTP client of the live hub (closed with it)."""
        # One connection per concurrent request: the point is concurrency at the server.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        client = httpx.AsyncClient(base_url=self.base_url, timeout=60, limits=limits)
        self.clients.append(client)
        return client


@asynccontextmanager
async def live_hub(url: str, **overrides: Any) -> AsyncIterator[LiveHub]:
    """Serve a new hub for `url` on 127.0.0.1 at a free port until the block ends;
    `overrides` replace settings (`edge=EdgeSettings(...)`).

    The pledge sweep is off unless asked for: a live hub runs its lifespan, and on the
    shared city its sweep would end the seed's lapsed pledges under the other tests (the
    tests that look for a need another foundation holds then find none)."""
    overrides.setdefault("pledge_sweep_seconds", 0)
    settings = Settings(
        database_url=url, var_dir=Path(tempfile.mkdtemp(prefix="hub-live-")), **overrides
    )
    app = create_app(settings, key_store=MemoryKeyStore())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none", backlog=256)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    hub = LiveHub(app, f"http://127.0.0.1:{port}", server, thread)
    try:
        # A deadline, not a count of tries: a loaded machine starts it slower.
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the live hub stopped while starting")
            if time.monotonic() > deadline:
                raise RuntimeError("the live hub did not start within 60 s")
            await asyncio.sleep(0.05)
        yield hub
    finally:
        for client in hub.clients:
            await client.aclose()
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
        sock.close()
