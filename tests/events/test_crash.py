"""Kill -9 between the commit of a change and its webhook delivery: delivered after restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from hub.auth.keys import FileKeyStore
from hub.auth.state import AuthState
from hub.db import create_engine, session_factory
from hub.graphql.relay import to_global_id
from hub.settings import Settings
from tests.events.conftest import VERIFY, add_foundation, choose_area, free_port, receiver, sql
from tests.events.test_webhooks import REGISTER
from tests.support.identities import bearer, load_identities

ROOT = Path(__file__).resolve().parents[2]


async def _start(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory",
        "--port", str(port), "--log-level", "warning", env=env, cwd=ROOT,
    )  # fmt: skip
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(200):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the hub did not start")


@pytest.mark.slow
async def test_a_committed_event_survives_a_kill_9(
    fresh_city_database_url: str, tmp_path: Path
) -> None:
    url = fresh_city_database_url
    area = await choose_area(url)
    foundation = await add_foundation(
        url, "RT-CRASH", kecamatan=area.kecamatan, category=area.category
    )
    key_file = tmp_path / "signing.pem"
    FileKeyStore(key_file, create=True).load()
    port = free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(tmp_path),
        "HUB_SIGNING_KEY_FILE": str(key_file),
        "HUB_PORT": str(port),
        # The first process never sends: it dies with the event committed, undelivered.
        "HUB_WEBHOOK_POLL_SECONDS": "0",
        "HUB_PLEDGE_SWEEP_SECONDS": "0",
    }
    settings = Settings.from_env(env)
    engine = create_engine(url)
    auth = AuthState.from_settings(settings, session_factory(engine))
    identities = await load_identities(url)
    identities[foundation.who] = foundation
    base = f"http://127.0.0.1:{port}"
    async with receiver() as hook:
        process = await _start(env, port)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                response = await client.post(
                    "/graphql",
                    json={
                        "query": REGISTER,
                        "variables": {"input": {"url": hook.url, "events": ["NEED_OPENED"]}},
                    },
                    headers={"authorization": bearer(auth, foundation)},
                )
                registered = response.json()["data"]["registerWebhook"]
                assert registered["errors"] == []
                hook.secrets = [registered["secret"]]
                response = await client.post(
                    "/graphql",
                    json={"query": VERIFY, "variables": {"id": to_global_id("Need", area.inside)}},
                    headers={"authorization": bearer(auth, identities["dinsos_admin"])},
                )
                assert response.json()["data"]["verifyNeed"]["need"]["status"] == "OPEN"
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        assert hook.requests == []
        pending = await sql(
            url, "SELECT count(*) AS n FROM event_outbox WHERE dispatched_at IS NULL"
        )
        assert pending[0]["n"] >= 1
        restarted = await _start({**env, "HUB_WEBHOOK_POLL_SECONDS": "0.05"}, port)
        try:
            for _ in range(300):
                if hook.requests:
                    break
                await asyncio.sleep(0.05)
        finally:
            restarted.terminate()
            await restarted.wait()
            await engine.dispose()
    assert hook.requests, "the event committed before the crash was never delivered"
    assert hook.requests[0]["verified"] == [True]
    assert hook.requests[0]["body"]["data"]["need"] == to_global_id("Need", area.inside)
