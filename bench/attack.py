"""What the rate and cost limits protect: a normal client's latency under attack.

One live hub (`hub serve`, one worker, SQLite, loopback, a free port) on a small seeded
city. A *victim* foundation runs a normal query loop, ten requests a second; its p50/p99
are measured alone, then while an *attacker* runs three attacks at once: a token brute
force (wrong secrets for its own client id), a flood of cheap documents from one client,
and a costly document in a loop. Both phases run with the limits on, then again with
`HUB_RATE_LIMITS=off` (and the cost limit raised out of reach), so the difference is what
the limits buy. Every loop is bounded by its phase's duration (default 10 s; four phases).

    .venv/bin/python -m bench.attack [--seconds 10] [--citizens 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from hub.db import create_engine, session_factory, transaction
from hub.migrations import upgrade
from hub.organizations import service
from hub.organizations.models import Organization
from hub.synthetic import seed_city

NORMAL = "{ needs(first: 10, filter: {status: [OPEN]}) { nodes { id status severity } } }"
CHEAP = "{ regions(level: KECAMATAN) { code } }"
COSTLY = (
    "{ needs(first: 100) { nodes { id description citizen { fullName household "
    "{ address members { fullName birthDate } } } } } }"
)


#: Seconds between the victim's requests.
PACE = 0.1


@dataclass
class Party:
    client_id: str
    secret: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def prepare(url: str, citizens: int) -> tuple[Party, Party]:
    """Migrate, seed, and create the victim and the attacker (two foundations)."""
    await upgrade(url)
    await seed_city(url, citizens=citizens, seed=3)
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as session:
            codes = (
                await session.scalars(
                    select(Organization.code)
                    .where(Organization.kind == "LKS", Organization.status == "ACTIVE")
                    .order_by(Organization.id)
                    .limit(2)
                )
            ).all()
            parties = []
            for code in codes:
                issued = await service.create_client(
                    session, organization_code=code, roles=["lks_partner"]
                )
                assert issued.secret is not None
                parties.append(Party(issued.client.client_id, issued.secret))
    finally:
        await engine.dispose()
    return parties[0], parties[1]


@contextlib.asynccontextmanager
async def hub(url: str, workdir: Path, *, limits: bool) -> AsyncIterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(workdir),
        "HUB_PORT": str(port),
        "HUB_WORKERS": "1",
        "HUB_LOG_LEVEL": "warning",
        "HUB_RATE_LIMITS": "on" if limits else "off",
        **({} if limits else {"HUB_MAX_COST": "10000000"}),
    }
    log = (workdir / f"hub-{'on' if limits else 'off'}.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "serve", env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{base}/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
            else:
                raise RuntimeError("the hub did not start")
        yield base
    finally:
        process.terminate()
        await process.wait()
        log.close()


async def token(http: httpx.AsyncClient, base: str, party: Party) -> str:
    response = await http.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(party.client_id, party.secret),
    )
    response.raise_for_status()
    value: str = response.json()["access_token"]
    return value


async def victim_loop(base: str, bearer: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    headers = {"authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(timeout=30) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            response = await http.post(f"{base}/graphql", json={"query": NORMAL}, headers=headers)
            took = time.perf_counter() - started
            latencies.append(took)
            assert response.status_code == 200, response.text
            # A normal partner paces itself (10 requests a second, well within its limit).
            await asyncio.sleep(max(0.0, PACE - took))
    return latencies


async def attack(base: str, attacker: Party, bearer: str, seconds: float) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    end = time.monotonic() + seconds
    headers = {"authorization": f"Bearer {bearer}"}

    async def brute(http: httpx.AsyncClient) -> None:
        attempt = 0
        while time.monotonic() < end:
            attempt += 1
            response = await http.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(attacker.client_id, f"guess-{attempt}"),
            )
            outcomes[f"brute {response.status_code}"] += 1

    async def flood(http: httpx.AsyncClient, document: str, name: str) -> None:
        while time.monotonic() < end:
            response = await http.post(f"{base}/graphql", json={"query": document}, headers=headers)
            outcomes[f"{name} {response.status_code}"] += 1

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(
            *(brute(http) for _ in range(2)),
            *(flood(http, CHEAP, "flood") for _ in range(4)),
            *(flood(http, COSTLY, "costly") for _ in range(2)),
        )
    return outcomes


def summary(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--citizens", type=int, default=2000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-attack-") as folder:
        workdir = Path(folder)
        url = f"sqlite+aiosqlite:///{workdir / 'hub.db'}"
        victim, attacker = await prepare(url, options.citizens)
        for limits in (True, False):
            async with hub(url, workdir, limits=limits) as base, httpx.AsyncClient() as http:
                victim_token = await token(http, base, victim)
                attacker_token = await token(http, base, attacker)
                await victim_loop(base, victim_token, 1.0)  # warm caches
                alone = summary(await victim_loop(base, victim_token, options.seconds))
                attacked, outcomes = await asyncio.gather(
                    victim_loop(base, victim_token, options.seconds),
                    attack(base, attacker, attacker_token, options.seconds),
                )
                label = "limits on " if limits else "limits off"
                print(f"{label}: victim alone    {alone}")
                print(f"{label}: victim attacked {summary(attacked)}")
                print(f"{label}: attacker        {dict(sorted(outcomes.items()))}")


if __name__ == "__main__":
    asyncio.run(main())
