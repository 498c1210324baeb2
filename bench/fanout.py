"""Fan-out of one event to many subscriptions, and the memory an idle subscription costs.

    .venv/bin/python -m bench.fanout                       # SQLite, 300 foundations, 5 rounds
    .venv/bin/python -m bench.fanout --database-url postgresql+asyncpg://postgres@127.0.0.1/hub_fanout

One hub in its own uvicorn process; this process connects `--subscribers` foundations over
graphql-transport-ws (each its own organisation and token, `needOpened { id status }`). A
share of them (`--relevant`) serve the kecamatan and category of the needs the rounds open;
the others serve elsewhere, so their row rules must keep the event from them. Each round
Dinsos verifies one REPORTED need there (`verifyNeed` over HTTP) and the clock runs from
sending that mutation until the last relevant subscriber has the event; the irrelevant ones
must receive nothing. Memory: the hub's RSS before the sockets connect and after all of
them are connected and subscribed, idle, divided by their number.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.servers import free_port, memory_kib
from hub.actor import Actor
from hub.auth.keys import FileKeyStore, generate_key
from hub.auth.state import AuthState
from hub.db import create_engine, session_factory, transaction
from hub.graphql.relay import to_global_id
from hub.migrations import upgrade
from hub.organizations import service
from hub.settings import Settings
from hub.synthetic import seed_city

ROOT = Path(__file__).resolve().parents[1]
VERIFY = "mutation($id: ID!) { verifyNeed(id: $id) { need { status } errors { code } } }"
SUBSCRIBE = "subscription { needOpened { id status } }"


async def _prepare(url: str, subscribers: int, relevant: int, rounds: int) -> dict[str, Any]:
    """Seed a small city, add the foundations and the needs the rounds will open."""
    await upgrade(url)
    await seed_city(url, citizens=1000, seed=3)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            kecamatan = [
                r[0]
                for r in await connection.execute(
                    text("SELECT code FROM regions WHERE level = 'KECAMATAN' ORDER BY code")
                )
            ]
            citizens = [
                r[0]
                for r in await connection.execute(
                    text(
                        "SELECT c.id FROM citizens c JOIN households h ON h.id = c.household_id "
                        "WHERE h.kecamatan_code = :k ORDER BY c.id LIMIT :n"
                    ),
                    {"k": kecamatan[0], "n": rounds},
                )
            ]
        here, elsewhere, category = kecamatan[0], kecamatan[1:], "FOOD"
        made: list[dict[str, Any]] = []
        async with transaction(session_factory(engine)) as session:
            dinsos = await service.get_organization(session, code="DINSOS")
            admin = await service.create_client(
                session,
                organization_code="DINSOS",
                roles=["dinsos_admin"],
                name="bench fanout dinsos",
                public_jwk=generate_key().as_dict(private=False),
                with_secret=False,
            )
            for n in range(subscribers):
                code = f"FAN-{n:04d}"
                org = await service.create_organization(
                    session, code=code, kind="LKS", name=f"Yayasan Fanout {n}"
                )
                area = here if n < relevant else elsewhere[n % len(elsewhere)]
                await service.set_service_scope(
                    session, code=code, category_codes=[category], kecamatan_codes=[area]
                )
                await service.approve_organization(session, code=code)
                issued = await service.create_client(
                    session,
                    organization_code=code,
                    roles=["lks_partner"],
                    name=f"bench fanout {n}",
                    public_jwk=generate_key().as_dict(private=False),
                    with_secret=False,
                )
                made.append({"client": issued.client.client_id, "code": code, "id": org.id})
            needs = []
            for citizen in citizens:
                need = await needs.report_need(
                    session,
                    actor=Actor(organization_id=dinsos.id),
                    citizen_id=citizen,
                    category_code=category,
                    ppks_code=None,
                    description="bench fan-out",
                    severity=3,
                    now=dt.datetime.now(dt.UTC),
                )
                needs.append(need.id)
        return {"admin": admin.client.client_id, "foundations": made, "needs": needs}
    finally:
        await engine.dispose()


class Subscriber:
    """One foundation's websocket: what it heard, and when."""

    def __init__(self, relevant: bool) -> None:
        self.relevant = relevant
        self.heard: list[tuple[str, float]] = []
        self.ready = asyncio.Event()

    async def run(self, url: str, token: str, stop: asyncio.Event) -> None:
        async with websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            open_timeout=60,
            ping_interval=None,
        ) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": token}})
            )
            ack = json.loads(await ws.recv())
            assert ack["type"] == "connection_ack", ack
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
            )
            self.ready.set()
            receiving = asyncio.ensure_future(self._receive(ws))
            await stop.wait()
            receiving.cancel()

    async def _receive(self, ws: Any) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "next":
                need = message["payload"]["data"]["needOpened"]["id"]
                self.heard.append((need, time.perf_counter()))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="hub-fanout-"))
    url = f"sqlite+aiosqlite:///{workdir / 'fanout.db'}"
    if args.database_url:  # a server: a database of this run's own, dropped afterwards
        url = await _create_database(args.database_url, f"hub_fanout_{os.getpid()}")
    try:
        return await _measure(args, url, workdir)
    finally:
        if args.database_url:
            await _admin(
                args.database_url,
                f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)',
            )


async def _admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _create_database(server_url: str, name: str) -> str:
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _measure(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    relevant = int(args.subscribers * args.relevant)
    print(f"preparing {url.split('@')[-1]} …", file=sys.stderr)
    # One more need than rounds: the first round warms the hub's caches and is not counted.
    prepared = await _prepare(url, args.subscribers, relevant, args.rounds + 1)
    key_file = workdir / "signing.pem"
    FileKeyStore(key_file, create=True).load()
    port = free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(workdir),
        "HUB_SIGNING_KEY_FILE": str(key_file),
        "HUB_PORT": str(port),
        "HUB_LOG_LEVEL": "warning",
        "HUB_PLEDGE_SWEEP_SECONDS": "0",
    }
    if args.redis_url:
        env.update(HUB_REDIS_URL=args.redis_url, HUB_EVENTS_CHANNEL=f"fanout-{port}")
    settings = Settings.from_env(env)
    engine = create_engine(url)
    auth = AuthState.from_settings(settings, session_factory(engine))

    def token(client_id: str, code: str, kind: str, role: str) -> str:
        minted = auth.tokens.mint(
            client_id=client_id, organization_code=code, organization_kind=kind, roles=[role]
        )
        return f"Bearer {minted.access_token}"

    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory",
        "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning",
        "--no-access-log", env=env, cwd=ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    subscribers: list[Subscriber] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            admin = token(prepared["admin"], "DINSOS", "OPD", "dinsos_admin")
            # Warm the hub (policy, status cache, first queries) before measuring memory.
            await client.post("/graphql", json={"query": "{ me { clientId } }"},
                              headers={"authorization": admin})  # fmt: skip
            await asyncio.sleep(1.0)
            before = memory_kib(server.pid)
            ws_url = base.replace("http://", "ws://") + "/graphql"
            for n, foundation in enumerate(prepared["foundations"]):
                subscriber = Subscriber(relevant=n < relevant)
                subscribers.append(subscriber)
                bearer = token(foundation["client"], foundation["code"], "LKS", "lks_partner")
                tasks.append(asyncio.ensure_future(subscriber.run(ws_url, bearer, stop)))
                if n % 25 == 24:
                    await asyncio.sleep(0.05)  # do not flood the accept queue
            await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subscribers)), 120)
            await asyncio.sleep(2.0)  # every subscription registered, the sockets idle
            after = memory_kib(server.pid)
            latencies: list[float] = []
            last: list[float] = []
            after_commit: list[float] = []
            for round_number, need in enumerate(prepared["needs"]):
                need_id = to_global_id("Need", need)
                sent = time.perf_counter()
                response = await client.post(
                    "/graphql",
                    json={"query": VERIFY, "variables": {"id": need_id}},
                    headers={"authorization": admin, "x-purpose": "VERIFICATION"},
                )
                answered = time.perf_counter()
                assert response.json()["data"]["verifyNeed"]["need"]["status"] == "OPEN"
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    if all(any(h[0] == need_id for h in s.heard) for s in subscribers[:relevant]):
                        break
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.3)  # late (wrong) deliveries to the others show up
                times = [
                    next(t for h, t in s.heard if h == need_id) - sent
                    for s in subscribers[:relevant]
                    if any(h == need_id for h, _ in s.heard)
                ]
                missing = relevant - len(times)
                leaked = sum(1 for s in subscribers[relevant:] if s.heard)
                assert missing == 0 and leaked == 0
                if round_number == 0:
                    continue  # the warm-up
                latencies += times
                last.append(max(times))
                after_commit.append(max(times) - (answered - sent))
                print(
                    f"round {round_number}: last relevant subscriber after "
                    f"{max(times) * 1000:.0f} ms (mutation answered after "
                    f"{(answered - sent) * 1000:.0f} ms); missing {missing}, leaked {leaked}",
                    file=sys.stderr,
                )
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        server.terminate()
        await server.wait()
        await engine.dispose()
    rss_before, rss_after = (before or (0, 0))[0], (after or (0, 0))[0]
    return {
        "database": url.split("+")[0],
        "bus": "redis"
        if args.redis_url
        else ("postgresql" if url.startswith("postgresql") else "in-process"),
        "subscribers": args.subscribers,
        "relevant": relevant,
        "rounds": args.rounds,
        "per_subscriber_ms": {
            "p50": round(statistics.median(latencies) * 1000, 1),
            "p99": round(_percentile(latencies, 0.99) * 1000, 1),
        },
        "last_subscriber_ms": {
            "p50": round(statistics.median(last) * 1000, 1),
            "max": round(max(last) * 1000, 1),
        },
        "last_subscriber_after_mutation_answered_ms": {
            "p50": round(statistics.median(after_commit) * 1000, 1),
        },
        "rss_kib": {"before": rss_before, "after": rss_after},
        "kib_per_idle_subscription": round((rss_after - rss_before) / args.subscribers, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=300)
    parser.add_argument("--relevant", type=float, default=0.5, help="share in the need's area")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server database to create the run's database on "
        "(default: a temporary SQLite file)",
    )
    parser.add_argument("--redis-url", default=None, help="use Redis pub/sub as the bus")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args)), indent=2))


if __name__ == "__main__":
    main()
