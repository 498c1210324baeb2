"""Measure the identity layer: token endpoint throughput and bearer validation latency.

    .venv/bin/python -m bench.auth_tokens                 # both, default sizes
    .venv/bin/python -m bench.auth_tokens --seconds 10 --concurrency 16

Token endpoint: one uvicorn worker on loopback serving the auth routes over a SQLite file,
driven by a bounded loop of concurrent httpx requests (client_secret_basic) for a fixed
time, once with the verified-secret cache off (every request pays Argon2id with the
library's RFC 9106 defaults) and once with it on. The load generator runs on the same
machine, so it competes with the server for CPU.

Bearer validation: `BearerAuthenticator.authenticate_header` on one valid token, in
process, with the client status cache warm; reports percentiles per call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from hub.auth import models as auth_models
from hub.auth.keys import FileKeyStore
from hub.auth.state import AuthState
from hub.db import Base, create_engine, session_factory, transaction
from hub.migrations import upgrade
from hub.organizations import models as organization_models
from hub.organizations import service
from hub.settings import AuthSettings

ISSUER = "http://127.0.0.1"
AUTH_TABLES = [
    Base.metadata.tables[model.__tablename__]
    for model in (
        organization_models.ClientPreviousSecret,
        organization_models.ClientPublicKey,
        auth_models.RevokedToken,
        auth_models.UsedClientAssertion,
    )
]


async def prepare(database_url: str) -> tuple[str, str]:
    """Migrate, add the auth tables (until their migration lands), create one client."""
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: Base.metadata.create_all(sync, tables=AUTH_TABLES, checkfirst=True)
            )
        async with transaction(session_factory(engine)) as session:
            issued = await service.create_client(
                session, organization_code="DINKES", roles=["opd_officer"]
            )
    finally:
        await engine.dispose()
    assert issued.secret is not None
    return issued.client.client_id, issued.secret


def create_bench_app() -> object:
    """The auth routes over the database and key file named in the environment."""
    from starlette.applications import Starlette

    from hub.auth.routes import auth_routes

    engine = create_engine(os.environ["BENCH_DATABASE_URL"])
    auth = AuthState.build(
        settings=AuthSettings.from_env(),
        sessions=session_factory(engine),
        key_store=FileKeyStore(Path(os.environ["HUB_SIGNING_KEY_FILE"])),
    )
    return Starlette(routes=auth_routes(auth))


def _free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _wait_until_up(url: str) -> None:
    """Poll the JWKS until the server answers."""
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                if (await http.get(f"{url}/.well-known/jwks.json")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the server did not start")


async def _load(
    url: str, client_id: str, secret: str, *, seconds: float, concurrency: int
) -> dict[str, float]:
    """Request tokens from `concurrency` loops for `seconds`; return counts and latencies."""
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:

        async def worker() -> None:
            """Request tokens one after another until the deadline."""
            nonlocal failures
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(client_id, secret),
                )
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "tokens": len(latencies),
        "failures": failures,
        "seconds": elapsed,
        "tokens_per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
    }


async def _measure(
    url: str, client_id: str, secret: str, *, seconds: float, concurrency: int
) -> dict[str, float]:
    """Wait for the server, warm it up for a second, then measure."""
    await _wait_until_up(url)
    await _load(url, client_id, secret, seconds=1, concurrency=concurrency)
    return await _load(url, client_id, secret, seconds=seconds, concurrency=concurrency)


def token_endpoint(workdir: Path, *, seconds: float, concurrency: int) -> None:
    """Throughput of POST /oauth/token on one uvicorn worker, cache off then on."""
    database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    client_id, secret = asyncio.run(prepare(database_url))
    key_file = workdir / "signing-key.pem"
    FileKeyStore(key_file, create=True).load()
    for cache_seconds in (0, 60):
        port = _free_port()
        env = {
            **os.environ,
            "BENCH_DATABASE_URL": database_url,
            "HUB_SIGNING_KEY_FILE": str(key_file),
            "HUB_ISSUER": f"{ISSUER}:{port}",
            "HUB_VERIFIED_SECRET_CACHE_SECONDS": str(cache_seconds),
        }
        server = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "bench.auth_tokens:create_bench_app",
                "--factory", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1", "--log-level", "warning", "--no-access-log",
            ],
            env=env,
        )  # fmt: skip
        try:
            result = asyncio.run(
                _measure(
                    f"{ISSUER}:{port}",
                    client_id,
                    secret,
                    seconds=seconds,
                    concurrency=concurrency,
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(
            f"token endpoint, verified-secret cache {cache_seconds:>2} s, "
            f"{concurrency} concurrent, {result['seconds']:.1f} s: "
            f"{result['tokens_per_second']:.1f} tokens/s "
            f"({int(result['tokens'])} tokens, {int(result['failures'])} failures), "
            f"latency p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"
        )


async def validation(workdir: Path, *, calls: int) -> None:
    """Per-call latency of bearer validation on a valid token, status cache warm."""
    database_url = f"sqlite+aiosqlite:///{workdir / 'validation.db'}"
    client_id, _ = await prepare(database_url)
    engine = create_engine(database_url)
    try:
        auth = AuthState.build(
            settings=AuthSettings(issuer=ISSUER),
            sessions=session_factory(engine),
            key_store=FileKeyStore(workdir / "validation-key.pem", create=True),
        )
        token = auth.tokens.mint(
            client_id=client_id,
            organization_code="DINKES",
            organization_kind="OPD",
            roles=["opd_officer"],
        ).access_token
        header = f"Bearer {token}"
        await auth.authenticator.authenticate_header(header)  # warms the status cache
        samples = []
        verify_only = []
        for _ in range(calls):
            started = time.perf_counter_ns()
            await auth.authenticator.authenticate_header(header)
            samples.append(time.perf_counter_ns() - started)
            started = time.perf_counter_ns()
            auth.tokens.verify(token)
            verify_only.append(time.perf_counter_ns() - started)
    finally:
        await engine.dispose()
    for label, values in (("authenticate_header", samples), ("  of which verify", verify_only)):
        values.sort()
        print(
            f"{label}: {calls} calls, p50 {values[len(values) // 2] / 1000:.1f} µs, "
            f"p99 {values[int(len(values) * 0.99)] / 1000:.1f} µs, "
            f"mean {statistics.fmean(values) / 1000:.1f} µs"
        )


def main() -> None:
    """Run both measurements and print one line per result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        asyncio.run(validation(workdir, calls=args.calls))
        token_endpoint(workdir, seconds=args.seconds, concurrency=args.concurrency)


if __name__ == "__main__":
    main()
