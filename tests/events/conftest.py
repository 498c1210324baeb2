"""Helpers of the real-time tests: a live hub on loopback, a graphql-transport-ws client,
foundations serving a chosen area, and needs waiting to be opened."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from sqlalchemy import text
from starlette.applications import Starlette

from hub.app import create_app
from hub.auth.keys import MemoryKeyStore, generate_key
from hub.db import create_engine, session_factory, transaction
from hub.organizations import service
from hub.settings import AuthSettings, EventSettings, Settings
from tests.support.identities import TestIdentity, bearer, load_identities

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

VERIFY = """mutation($id: ID!) { verifyNeed(id: $id) { need { id status } errors { code } } }"""
OPENED = """subscription($filter: NeedFilter) {
  needOpened(filter: $filter) {
    id status kecamatan { code } category { code } citizen { fullName nik }
  }
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def hub_settings(url: str, **events: Any) -> Settings:
    """Settings of a test hub: a throw-away var dir, a short status cache, quick webhooks."""
    return Settings(
        database_url=url,
        var_dir=Path(tempfile.mkdtemp(prefix="hub-rt-")),
        # Several of these hubs serve the shared city: sweeping its lapsed pledges would
        # change it under the other tests.
        pledge_sweep_seconds=0,
        auth=AuthSettings(status_cache_seconds=1),
        events=EventSettings(
            webhook_poll_seconds=0.05,
            webhook_backoff_seconds=0.05,
            webhook_backoff_max_seconds=0.2,
            webhook_timeout_seconds=5,
        ).model_copy(update=events),
    )


@dataclass
class LiveHub:
    """A hub served by uvicorn on a loopback port, in a thread of its own."""

    app: Starlette
    base_url: str
    identities: dict[str, TestIdentity]

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"

    async def subscribed(self, count: int = 1) -> None:
        """Wait until the hub serves `count` subscriptions (each one audited, registered)."""
        fanout = self.app.state.realtime.fanout
        for _ in range(500):
            if fanout.count >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{fanout.count} subscriptions, not {count}")

    def token(self, who: str) -> str:
        """A fresh `Authorization` value for the test client `who`."""
        return bearer(self.app.state.auth, self.identities[who])

    async def post(
        self, who: str, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST a document as `who` (purpose SERVICE_DELIVERY); return the body."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            response = await client.post(
                "/graphql",
                json={"query": document, "variables": variables or {}},
                headers={"authorization": self.token(who), "x-purpose": "SERVICE_DELIVERY"},
            )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def live_hub(
    settings: Settings, *, key_store: MemoryKeyStore | None = None
) -> AsyncIterator[LiveHub]:
    """Serve a new hub with `settings` on 127.0.0.1 at a free port until the block ends."""
    app = create_app(settings, key_store=key_store or MemoryKeyStore())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            if not thread.is_alive():
                raise RuntimeError("the live hub stopped while starting")
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError("the live hub did not start within 10 s")
        identities = await load_identities(settings.database_url)
        yield LiveHub(app, f"http://127.0.0.1:{port}", identities)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
        sock.close()


class Closed(Exception):
    """The hub closed the websocket; `code` and `reason` say why."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class TransportWs:
    """A minimal graphql-transport-ws client on `websockets`, for precise assertions."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    @asynccontextmanager
    async def open(
        cls, url: str, payload: dict[str, Any] | None, *, origin: str | None = None
    ) -> AsyncIterator[TransportWs]:
        async with websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            origin=origin,  # type: ignore[arg-type]
        ) as connection:
            client = cls(connection)
            await client.send({"type": "connection_init", "payload": payload or {}})
            ack = await client.receive(10)
            assert ack["type"] == "connection_ack", ack
            yield client

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, wait: float) -> dict[str, Any]:
        """The next message; `Closed` when the hub closed the socket, TimeoutError if none."""
        try:
            raw = await asyncio.wait_for(self.connection.recv(), wait)
        except websockets.ConnectionClosed as closed:
            received = closed.rcvd
            raise Closed(
                received.code if received else None, received.reason if received else ""
            ) from None
        message: dict[str, Any] = json.loads(raw)
        return message

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send(
            {
                "id": id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def next_payload(self, wait: float = 10) -> dict[str, Any]:
        """The payload of the next `next` message (pings answered on the way)."""
        while True:
            message = await self.receive(wait)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            if message["type"] == "complete":
                continue  # the end of an earlier operation
            assert message["type"] == "next", message
            payload: dict[str, Any] = message["payload"]
            return payload

    async def next_errors(self, wait: float = 10) -> list[dict[str, Any]]:
        """The errors of the next `error` message: a document refused before it ran."""
        while True:
            message = await self.receive(wait)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            assert message["type"] == "error", message
            errors: list[dict[str, Any]] = message["payload"]
            return errors

    async def nothing_for(self, seconds: float) -> None:
        """Assert that no message comes within `seconds`."""
        with contextlib.suppress(TimeoutError):
            message = await self.receive(seconds)
            raise AssertionError(f"unexpected message {message}")


def init_payload(
    hub: LiveHub, who: str, purpose: str | None = "SERVICE_DELIVERY"
) -> dict[str, Any]:
    payload = {"Authorization": hub.token(who)}
    if purpose:
        payload["X-Purpose"] = purpose
    return payload


async def sql(url: str, statement: str, **params: object) -> list[dict[str, Any]]:
    """Run one SQL statement on the test's database (committed); rows as dicts."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return [dict(r._mapping) for r in result] if result.returns_rows else []
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Area:
    """Two REPORTED needs: one inside a foundation's area (kecamatan and category), one not."""

    kecamatan: str
    category: str
    inside: int
    outside: int


async def choose_area(url: str) -> Area:
    """A REPORTED need, and another REPORTED need in a different kecamatan."""
    rows = await sql(
        url,
        "SELECT id, kecamatan_code, category_code FROM needs WHERE status = 'REPORTED' ORDER BY id",
    )
    first = rows[0]
    other = next(r for r in rows if r["kecamatan_code"] != first["kecamatan_code"])
    return Area(first["kecamatan_code"], first["category_code"], first["id"], other["id"])


async def add_foundation(url: str, code: str, *, kecamatan: str, category: str) -> TestIdentity:
    """A new ACTIVE foundation serving `category` in `kecamatan`, with a test client."""
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as session:
            organization = await service.create_organization(
                session, code=code, kind="LKS", name=f"Yayasan {code.title()}"
            )
            await service.set_service_scope(
                session, code=code, category_codes=[category], kecamatan_codes=[kecamatan]
            )
            await service.approve_organization(session, code=code)
            issued = await service.create_client(
                session,
                organization_code=code,
                roles=["lks_partner"],
                # Not "test …": load_identities knows only the standard test clients.
                name=f"realtime {code}",
                public_jwk=generate_key().as_dict(private=False),
                with_secret=False,
            )
            return TestIdentity(
                who=code,
                client_id=issued.client.client_id,
                organization_id=organization.id,
                organization_code=code,
                organization_kind="LKS",
                role="lks_partner",
            )
    finally:
        await engine.dispose()


@dataclass
class Receiver:
    """A webhook receiver on loopback that verifies every request with `standardwebhooks`."""

    url: str
    #: Answer 500 to this many requests before answering 204.
    fail_first: int = 0
    #: Secrets to verify with (set once the endpoint is registered).
    secrets: list[str] = dataclasses.field(default_factory=list)
    requests: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def app(self) -> Starlette:
        from standardwebhooks import Webhook, WebhookVerificationError
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        async def hook(request: Request) -> Response:
            body = (await request.body()).decode()
            headers = dict(request.headers)
            verified = []
            for secret in self.secrets:
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(True)
                except WebhookVerificationError:
                    verified.append(False)
            self.requests.append(
                {"body": json.loads(body), "headers": headers, "verified": verified}
            )
            if len(self.requests) <= self.fail_first:
                return Response("not today", status_code=500)
            return Response(status_code=204)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@asynccontextmanager
async def receiver(fail_first: int = 0) -> AsyncIterator[Receiver]:
    """A `Receiver` served by uvicorn on a free loopback port until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    found = Receiver(f"http://127.0.0.1:{port}/hook", fail_first=fail_first)
    server = uvicorn.Server(uvicorn.Config(found.app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        yield found
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
        sock.close()
