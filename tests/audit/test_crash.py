"""Kill -9 the server in the middle of a load: every answer a client got has its event,
and the chain still verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from hub.audit.models import AuditEventRecord
from hub.auth.keys import FileKeyStore
from hub.auth.state import AuthState
from hub.db import create_engine, session_factory
from hub.settings import Settings
from tests.support.identities import bearer, load_identities

ROOT = Path(__file__).resolve().parents[2]
READ = "{ citizens(first: 5) { nodes { nik fullName household { address } } } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(client: httpx.AsyncClient) -> None:
    # A deadline, not a count of tries: on a loaded machine each try itself takes time.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the server did not start within 90 s")


@pytest.mark.slow
async def test_every_answer_survives_a_kill_9(fresh_city_database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": fresh_city_database_url,
        "HUB_VAR_DIR": str(tmp_path),
        "HUB_SIGNING_KEY_FILE": str(tmp_path / "signing.pem"),
        "HUB_PORT": str(port),
        "HUB_AUDIT_CHECKPOINT_EVERY": "25",
    }
    FileKeyStore(tmp_path / "signing.pem", create=True).load()
    settings = Settings.from_env(env)
    engine = create_engine(fresh_city_database_url)
    auth = AuthState.from_settings(settings, session_factory(engine))
    identities = await load_identities(fresh_city_database_url)
    clients = [identities[who] for who in ("dinsos_admin", "opd_officer", "lks_partner")]
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory", "--port", str(port),
        "--log-level", "warning", env=env, cwd=ROOT,
    )  # fmt: skip
    answered: list[str] = []
    enough = asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await _wait_ready(client)

            async def one_client(n: int) -> None:
                identity = clients[n % len(clients)]
                headers = {"authorization": bearer(auth, identity), "x-purpose": "SERVICE_DELIVERY"}
                while True:
                    request_id = f"crash-{uuid.uuid4().hex}"
                    mutation = n % 4 == 0 and identity.role == "dinsos_admin"
                    document = (
                        'mutation { setFieldAccess(role: AUDITOR, field: "Citizen.phone", '
                        "level: NONE) { version } }"
                        if mutation
                        else READ
                    )
                    try:
                        response = await client.post(
                            "/graphql",
                            json={"query": document},
                            headers={**headers, "x-request-id": request_id},
                        )
                    except httpx.TransportError:
                        return  # the server is gone
                    body = response.json()
                    if response.status_code == 200 and body.get("data"):
                        answered.append(request_id)
                        if len(answered) >= 60:
                            enough.set()

            workers = [asyncio.create_task(one_client(n)) for n in range(8)]
            await asyncio.wait_for(enough.wait(), timeout=60)
            os.kill(server.pid, signal.SIGKILL)
            await asyncio.wait_for(asyncio.gather(*workers), timeout=30)
    finally:
        if server.returncode is None:
            server.kill()
        await server.wait()
    async with session_factory(engine)() as session:
        recorded = set(
            await session.scalars(
                select(AuditEventRecord.request_id).where(AuditEventRecord.request_id.in_(answered))
            )
        )
    await engine.dispose()
    assert len(answered) >= 60
    assert set(answered) <= recorded, f"{len(set(answered) - recorded)} answers without an event"
    verify = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "audit", "verify", "--database-url",
        fresh_city_database_url, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await verify.communicate()
    assert verify.returncode == 0, output.decode()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback traffic only."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
