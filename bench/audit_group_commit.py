"""Measure the audit trail: group commit against one transaction per event, and accessReport.

    .venv/bin/python -m bench.audit_group_commit
    .venv/bin/python -m bench.audit_group_commit --seconds 10 --concurrency 20 --events 1000000

Appends: `--concurrency` tasks each write events back to back for `--seconds`, each event
naming 20 citizens (a list page), first through one `GroupCommitWriter` (the read path),
then each in its own transaction (`append` + commit, as a mutation would). Checkpoints are
signed every 1000 events in both. On PostgreSQL with the server's defaults (fsync on,
`synchronous_commit = on`), and on a SQLite file with the hub's connection settings (WAL,
`synchronous=NORMAL`: a commit survives a crash of the process, not a power loss). The load
runs in the same process and on the same machine as the database.

accessReport: a fresh PostgreSQL database is filled in bulk with `--events` synthetic events
(5 citizens each, drawn from 2.6 million, plus one "hot" citizen in 1000 events; the hashes
are not a valid chain, which the query does not read), analysed, then `access_report` is
timed for typical citizens and for the hot one, and its plan printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from hub.audit.checkpoints import CheckpointPolicy, Sealer
from hub.audit.events import AuditEvent, CitizenAccess
from hub.audit.keys import MemoryAuditKeyStore
from hub.audit.queries import access_report, access_report_query
from hub.audit.recorder import GroupCommitWriter, append
from hub.audit.settings import DEFAULT_ORIGIN
from hub.audit.verify import verify_database
from hub.db import create_engine, session_factory, transaction, utcnow
from hub.migrations import upgrade

SERVER = "postgresql+asyncpg://postgres@127.0.0.1/postgres"
HOT_CITIZEN = 42


def _event(number: int) -> AuditEvent:
    """A list-page read naming 20 citizens."""
    return AuditEvent(
        occurred_at=utcnow(),
        decision="ALLOWED",
        request_id=f"bench-{number}",
        client_id="dinkes-app",
        organization_code="DINKES",
        roles=("opd_officer",),
        purpose="SERVICE_DELIVERY",
        operation_type="query",
        operation_name="Citizens",
        document_sha256="ab" * 32,
        variables={"first": 20, "kecamatanCode": "32.73.02"},
        citizens=tuple(
            CitizenAccess(random.randint(1, 2_600_000), ("fullName", "nik")) for _ in range(20)
        ),
        result_size=8000,
        duration_us=12000,
    )


def _sealer() -> Sealer:
    """Checkpoints every 1000 events, as in production."""
    ring = MemoryAuditKeyStore().load()
    return Sealer(
        ring.signer(DEFAULT_ORIGIN),
        policy=CheckpointPolicy(every=1000, seconds=60),
        verifiers=ring.verifiers(DEFAULT_ORIGIN),
    )


async def _load(
    write: Callable[[int], Awaitable[object]], *, concurrency: int, seconds: float
) -> tuple[int, list[float]]:
    """Run `concurrency` writers for `seconds`; return the events written and latencies (ms)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**12))

    async def worker() -> None:
        """Write back to back until the deadline."""
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await write(next(counter))
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), latencies


def _summary(label: str, count: int, latencies: list[float], seconds: float, commits: int) -> str:
    """One Markdown table row."""
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"| {label} | {count / seconds:,.0f} | {p50:.1f} | {p99:.1f} | {commits:,} "
        f"| {count / max(commits, 1):.1f} |"
    )


async def appends(url: str, *, concurrency: int, seconds: float, label: str) -> list[str]:
    """Group commit against one transaction per event on the database at `url`."""
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    rows = []
    try:
        sealer = _sealer()
        writer = GroupCommitWriter(sessions, sealer=sealer)
        started = time.perf_counter()
        count, latencies = await _load(
            lambda n: writer.write(_event(n)), concurrency=concurrency, seconds=seconds
        )
        await writer.close()
        elapsed = time.perf_counter() - started
        rows.append(
            _summary(f"{label}, group commit", count, latencies, elapsed, writer.stats.commits)
        )

        async def one(number: int) -> None:
            """One event in its own transaction, as a mutation would."""
            async with transaction(sessions) as session:
                await append(session, [_event(number)], sealer=sealer)

        started = time.perf_counter()
        count, latencies = await _load(one, concurrency=concurrency, seconds=seconds)
        elapsed = time.perf_counter() - started
        rows.append(_summary(f"{label}, transaction per event", count, latencies, elapsed, count))

        started = time.perf_counter()
        async with transaction(sessions) as session:
            result = await verify_database(
                session, verifiers=sealer.verifiers, origin=sealer.origin
            )
        elapsed = time.perf_counter() - started
        assert result.ok, result.problems
        rate = result.events / elapsed
        print(f"{label}: verified {result.events:,} events in {elapsed:.1f} s ({rate:,.0f}/s)")
    finally:
        await engine.dispose()
    return rows


FILL_EVENTS = """
INSERT INTO audit_events (seq, prev_hash, hash, occurred_at, kind, request_id, client_id,
    organization_code, roles, purpose, operation_type, operation_name, document_sha256,
    variables, decision, citizen_count, result_size, duration_us)
SELECT g, md5(g::text) || md5((g - 1)::text), md5(g::text) || md5(g::text),
    timestamptz '2026-01-01' + g * interval '3 seconds', 'GRAPHQL', 'req-' || g,
    'client-' || (g % 600), 'ORG-' || (g % 300), '["opd_officer"]', 'SERVICE_DELIVERY', 'query',
    'Citizens', md5('document'), '{"first": 20}', 'ALLOWED', 5, 8000, 12000
FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS g
"""
FILL_CITIZENS = """
INSERT INTO audit_event_citizens (event_seq, citizen_id, fields)
SELECT g, ((g::bigint * 7919 + k * 104729) % 2600000) + 1, '["fullName","nik"]'
FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS g, generate_series(1, 5) AS k
"""


async def access_report_at_scale(server: str, *, events: int, runs: int) -> list[str]:
    """Time `access_report` on a table of `events` synthetic events."""
    name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    lines: list[str] = []
    try:
        await upgrade(url)
        engine = create_engine(url)
        sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        started = time.perf_counter()
        step = 250_000
        for low in range(1, events + 1, step):
            high = min(events, low + step - 1)
            async with transaction(sessions) as session:
                await session.execute(text(FILL_EVENTS), {"low": low, "high": high})
                await session.execute(text(FILL_CITIZENS), {"low": low, "high": high})
        async with transaction(sessions) as session:
            await session.execute(
                text(
                    "INSERT INTO audit_event_citizens (event_seq, citizen_id, fields) "
                    "SELECT g * CAST(:step AS bigint), :hot, '[\"nik\"]' "
                    "FROM generate_series(1, 1000) g "
                    "ON CONFLICT DO NOTHING"
                ),
                {"step": events // 1000, "hot": HOT_CITIZEN},
            )
            await session.execute(text(f"UPDATE audit_chain_head SET last_seq = {events}"))
        async with engine.connect() as connection:
            await connection.execute(text("COMMIT"))
            await connection.execute(text("ANALYZE audit_events"))
            await connection.execute(text("ANALYZE audit_event_citizens"))
        fill = time.perf_counter() - started
        async with transaction(sessions) as session:
            size = await session.scalar(
                text(
                    "SELECT pg_size_pretty(pg_total_relation_size('audit_events') + "
                    "pg_total_relation_size('audit_event_citizens'))"
                )
            )
            links = await session.scalar(text("SELECT count(*) FROM audit_event_citizens"))
        lines.append(
            f"Filled {events:,} events and {links:,} citizen rows in {fill:.0f} s "
            f"({size} with indexes)."
        )

        async def timed(citizen_id: int) -> tuple[float, int]:
            """The time of one access report (ms) and its length."""
            async with transaction(sessions) as session:
                started = time.perf_counter()
                entries = await access_report(session, citizen_id=citizen_id)
                return (time.perf_counter() - started) * 1000, len(entries)

        for _ in range(20):  # warm the pool and the cache
            await timed(random.randint(1, 2_600_000))
        typical = [await timed(random.randint(1, 2_600_000)) for _ in range(runs)]
        hot = [await timed(HOT_CITIZEN) for _ in range(max(10, runs // 10))]
        for label, samples in (("typical citizen", typical), ("hot citizen", hot)):
            times = sorted(sample[0] for sample in samples)
            found = statistics.mean(sample[1] for sample in samples)
            lines.append(
                f"| {label} | {found:.1f} | {statistics.median(times):.2f} "
                f"| {times[int(len(times) * 0.95) - 1]:.2f} |"
            )
        async with transaction(sessions) as session:
            compiled = access_report_query(citizen_id=HOT_CITIZEN).compile(
                dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
            )
            plan = (await session.scalars(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"))).all()
        lines.append("\n    " + "\n    ".join(plan))
        await engine.dispose()
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
    return lines


async def main() -> None:
    """Run the measurements and print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server database URL")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--skip-sqlite", action="store_true")
    options = parser.parse_args()

    rows = [
        "| backend, path | events/s | p50 ms | p99 ms | commits | events per commit |",
        "|---|---|---|---|---|---|",
    ]
    name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(options.server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(options.server).set(database=name).render_as_string(hide_password=False)
        rows += await appends(
            url, concurrency=options.concurrency, seconds=options.seconds, label="PostgreSQL"
        )
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
    if not options.skip_sqlite:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'audit.db'}"
            rows += await appends(
                url, concurrency=options.concurrency, seconds=options.seconds, label="SQLite"
            )
    print(f"\n## Appends, {options.concurrency} concurrent writers, {options.seconds:.0f} s each\n")
    print("\n".join(rows))

    print(f"\n## accessReport with {options.events:,} events\n")
    report = await access_report_at_scale(options.server, events=options.events, runs=options.runs)
    print(report[0] + "\n")
    print("| citizen | accesses returned | p50 ms | p95 ms |\n|---|---|---|---|")
    print("\n".join(report[1:-1]))
    print(report[-1])


if __name__ == "__main__":
    asyncio.run(main())
