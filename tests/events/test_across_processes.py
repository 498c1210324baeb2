"""Two hub processes on one database: a subscriber on one hears a change made on the other,
through PostgreSQL LISTEN/NOTIFY, or Redis pub/sub."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from hub.auth.keys import FileKeyStore
from hub.auth.state import AuthState
from hub.db import create_engine, session_factory
from hub.graphql.relay import to_global_id
from hub.settings import Settings
from tests.events.conftest import (
    OPENED,
    REDIS_URL,
    VERIFY,
    TransportWs,
    choose_area,
    free_port,
    redis_available,
)
from tests.support.identities import bearer, load_identities

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@asynccontextmanager
async def hub_process(env: dict[str, str]) -> AsyncIterator[str]:
    """A hub in a process of its own (uvicorn); its base URL until the block ends."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory",
        "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning",
        env={**env, "HUB_PORT": str(port)}, cwd=ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(200):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the hub process did not start")
        yield base
    finally:
        process.terminate()
        await process.wait()


async def _hears_across(url: str, tmp_path: Path, extra: dict[str, str]) -> None:
    key_file = tmp_path / "signing.pem"
    FileKeyStore(key_file, create=True).load()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(tmp_path),
        "HUB_SIGNING_KEY_FILE": str(key_file),
        "HUB_WEBHOOK_POLL_SECONDS": "0",
        # One issuer for both processes (by default it is where each one listens).
        "HUB_ISSUER": "http://127.0.0.1:8000",
        **extra,
    }
    settings = Settings.from_env(env)
    engine = create_engine(url)
    auth = AuthState.from_settings(settings, session_factory(engine))
    identities = await load_identities(url)
    admin = bearer(auth, identities["dinsos_admin"])
    area = await choose_area(url)
    try:
        async with hub_process(env) as first, hub_process(env) as second:
            payload = {"Authorization": admin, "X-Purpose": "SERVICE_DELIVERY"}
            ws_url = second.replace("http://", "ws://") + "/graphql"
            async with TransportWs.open(ws_url, payload) as ws:
                await ws.subscribe("1", OPENED)
                await asyncio.sleep(2.0)  # another process: no way to look inside
                async with httpx.AsyncClient(base_url=first, timeout=30) as client:
                    response = await client.post(
                        "/graphql",
                        json={
                            "query": VERIFY,
                            "variables": {"id": to_global_id("Need", area.inside)},
                        },
                        headers={"authorization": admin, "x-purpose": "SERVICE_DELIVERY"},
                    )
                assert response.json()["data"]["verifyNeed"]["need"]["status"] == "OPEN"
                heard = await ws.next_payload(15)
    finally:
        await engine.dispose()
    assert heard["data"]["needOpened"]["id"] == to_global_id("Need", area.inside)


async def test_postgresql_listen_notify_carries_events_across_processes(
    fresh_city_database_url: str, tmp_path: Path
) -> None:
    if not fresh_city_database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (set HUB_TEST_DATABASE_URL)")
    await _hears_across(fresh_city_database_url, tmp_path, {})


async def test_redis_carries_events_across_processes(
    fresh_city_database_url: str, tmp_path: Path
) -> None:
    if not redis_available():
        pytest.skip("no Redis on 127.0.0.1:6379")
    channel = f"hubtest-{uuid.uuid4().hex[:8]}"
    await _hears_across(
        fresh_city_database_url,
        tmp_path,
        {"HUB_REDIS_URL": REDIS_URL, "HUB_EVENTS_CHANNEL": channel},
    )
