"""A live hub on loopback for the partners' examples (tests/partners), which run unmodified.

One uvicorn for the partners' tests, on a free port, serving a private copy of the seeded city.
Each example gets its own client with a real secret (or a registered public key), issued
by `hub clients create` as the guide tells Dinsos, and fetches its own tokens from the hub.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hub.auth.demo import demo_foundation
from hub.db import create_engine, session_factory
from tests.support.databases import DatabaseFactory

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "partners" / "examples"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(base_url: str) -> None:
    # A deadline, not a count of tries: on a loaded machine each try itself takes time.
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the hub did not start within 90 s")


@dataclass(frozen=True, slots=True)
class Credentials:
    """What `hub clients create` printed: the client id, and the secret unless it has a key."""

    client_id: str
    secret: str | None


@dataclass
class ExampleHub:
    """A running hub: where it answers, its database, and the foundation examples act as."""

    url: str
    database_url: str
    var_dir: Path
    foundation: str

    def hub(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the `hub` command on this hub's database and keys, as Dinsos would."""
        env = {
            **os.environ,
            "HUB_DATABASE_URL": self.database_url,
            "HUB_VAR_DIR": str(self.var_dir),
            "COLUMNS": "200",
        }
        return subprocess.run(
            [sys.executable, "-m", "hub.cli", *args],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def create_client(self, organization: str, role: str, *options: str) -> Credentials:
        """A client made with `hub clients create` (the guide's command), as it printed it."""
        done = self.hub("clients", "create", "--org", organization, "--role", role, *options)
        assert done.returncode == 0, done.stdout + done.stderr
        client_id = re.search(r"client_id:\s+(\S+)", done.stdout)
        secret = re.search(r"client_secret:\s+(\S+)", done.stdout)
        assert client_id, done.stdout
        return Credentials(client_id.group(1), secret.group(1) if secret else None)

    def env(self, credentials: Credentials, **extra: str) -> dict[str, str]:
        """The environment an example reads: HUB_URL, CLIENT_ID, CLIENT_SECRET."""
        env = {
            **os.environ,
            "HUB_URL": self.url,
            "CLIENT_ID": credentials.client_id,
            "NO_PROXY": "127.0.0.1",
            **extra,
        }
        if credentials.secret is not None:
            env["CLIENT_SECRET"] = credentials.secret
        return env


async def _pick_foundation(database_url: str) -> str:
    """The active foundation with the most open needs it may see (as `hub demo` picks)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return (await demo_foundation(session)).code
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def example_hub(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ExampleHub]:
    """`uvicorn hub.app:create_app` on a free loopback port, on a private seeded city."""
    from tests.conftest import populate_city  # the suite's seeded city (a conftest import)

    database_url = await databases.fresh("city", populate_city)
    var = tmp_path_factory.mktemp("partners-var")
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_VAR_DIR": str(var),
        "HUB_PORT": str(port),
        "NO_PROXY": "127.0.0.1",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        await _wait_ready(url)
        yield ExampleHub(url, database_url, var, await _pick_foundation(database_url))
    finally:
        if server.returncode is None:
            server.terminate()
        await server.wait()
        await databases.drop(database_url)


def run_example(
    command: list[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 120
) -> str:
    """Run an example as a partner would; its standard output (fail with both streams)."""
    done = subprocess.run(
        command, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout
