"""What the rate and cost limits protect: a normal client's latency under attack.

A live hub (`hub serve`, one or more workers, SQLite or PostgreSQL, loopback, a free port)
on a small seeded city. A *victim* foundation runs a normal query loop, ten requests a
second, one at a time; its p50/p99 are measured alone, then while an *attacker* runs three
attacks at once: a token brute force (wrong secrets for its own client id), a flood of
cheap documents from one client, and a costly document in a loop. Alone and attacked
phases alternate `--rounds` times, so a change in the shared machine's load falls on both.

The attacker runs in a process of its own (its loops would otherwise share the victim's
event loop and its delays would be counted as the hub's), at the lowest CPU priority (on
its own machine its client work would take nothing from the hub or the victim); its CPU
time and its answers per phase are reported, so a starved attacker would show. Each phase
line carries the machine's load average. `--limits on,off` runs the hub with the limits, then with
`HUB_RATE_LIMITS=off` (and the cost limit out of reach), so the difference is what the
limits buy. With `--workers 2` the limits are shared in Redis (`--redis-url`).

    .venv/bin/python -m bench.attack [--seconds 10] [--rounds 3] [--workers 1]
        [--limits on,off] [--database-url postgresql+asyncpg://postgres@127.0.0.1/hub_attack]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import resource
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
#: The attacker's concurrent loops of each kind.
BRUTE_LOOPS, FLOOD_LOOPS, COSTLY_LOOPS = 2, 4, 2


@dataclass
class Party:
    client_id: str
    secret: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def hub_cpu(pid: int) -> float:
    """CPU seconds the hub's processes (the server and its workers) have used so far: what
    a phase cost the hub, whatever the other sessions on the machine were doing."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state ppid ... utime (12th) stime (13th)
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load() -> str:
    """The machine's 1-minute load average (other sessions share the cores)."""
    return f"{os.getloadavg()[0]:.2f}"


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
async def hub(
    url: str,
    workdir: Path,
    *,
    limits: bool,
    workers: int,
    redis_url: str | None,
    log_dir: Path | None = None,
) -> AsyncIterator[tuple[str, int]]:
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(workdir),
        "HUB_PORT": str(port),
        "HUB_WORKERS": str(workers),
        # `HUB_LOG_LEVEL=info` keeps the access log (each answer's time in the hub) in the
        # hub's log, which `--log-dir` keeps after the run.
        "HUB_LOG_LEVEL": os.environ.get("HUB_LOG_LEVEL", "warning"),
        "HUB_RATE_LIMITS": "on" if limits else "off",
        **({} if limits else {"HUB_MAX_COST": "10000000"}),
    }
    if redis_url and limits:
        # Every worker counts the same client in the same keys, apart from other runs'.
        env |= {"HUB_REDIS_URL": redis_url, "HUB_RATE_LIMIT_PREFIX": f"attack{port}"}
    log = (log_dir or workdir).joinpath(f"hub-{'on' if limits else 'off'}.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "serve", env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{base}/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
            else:
                raise RuntimeError("the hub did not start")
        print(f"hub pid {process.pid} on {base}", flush=True)
        yield base, process.pid
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


#: The attacks `--attacks` may name.
ATTACKS = ("brute", "flood", "costly")

#: What one request was: its kind, wall-clock start and end (time.time(), comparable
#: between the victim's and the attacker's processes), and its status.
Span = tuple[str, float, float, int]


async def victim_loop(
    base: str, bearer: str, seconds: float, spans: list[Span] | None = None
) -> list[float]:
    latencies: list[float] = []
    headers = {"authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(timeout=30) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            wall = time.time()
            response = await http.post(f"{base}/graphql", json={"query": NORMAL}, headers=headers)
            took = time.perf_counter() - started
            latencies.append(took)
            if spans is not None:
                spans.append(("victim", wall, wall + took, response.status_code))
            assert response.status_code == 200, response.text
            # A normal partner paces itself (10 requests a second, well within its limit).
            await asyncio.sleep(max(0.0, PACE - took))
    return latencies


async def attack(
    base: str,
    attacker: Party,
    bearer: str,
    seconds: float,
    polite: bool = False,
    attacks: tuple[str, ...] = ATTACKS,
    spans: list[Span] | None = None,
) -> Counter[str]:
    """The attacks named at once (by default all three); `polite`: instead, a client that
    spends its whole allowance in cheap documents and waits as `Retry-After` says (what
    the limits allow any client, the baseline an attack should not exceed)."""
    outcomes: Counter[str] = Counter()
    spans = [] if spans is None else spans
    end = time.monotonic() + seconds
    headers = {"authorization": f"Bearer {bearer}"}

    async def brute(http: httpx.AsyncClient) -> None:
        attempt = 0
        while time.monotonic() < end:
            attempt += 1
            wall = time.time()
            response = await http.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(attacker.client_id, f"guess-{attempt}"),
            )
            outcomes[f"brute {response.status_code}"] += 1
            spans.append(("brute", wall, time.time(), response.status_code))

    async def flood(http: httpx.AsyncClient, document: str, name: str) -> None:
        while time.monotonic() < end:
            wall = time.time()
            response = await http.post(f"{base}/graphql", json={"query": document}, headers=headers)
            outcomes[f"{name} {response.status_code}"] += 1
            spans.append((name, wall, time.time(), response.status_code))
            if polite and response.status_code == 429:
                wait = float(response.headers.get("retry-after", "1"))
                await asyncio.sleep(min(wait, max(0.0, end - time.monotonic())))

    if polite:
        async with httpx.AsyncClient(timeout=60) as http:
            await asyncio.gather(*(flood(http, CHEAP, "polite") for _ in range(FLOOD_LOOPS)))
        return outcomes
    # An attacker ignores Retry-After and asks again at once, on as many connections as
    # it has loops.
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(
            *(brute(http) for _ in range(BRUTE_LOOPS if "brute" in attacks else 0)),
            *(flood(http, CHEAP, "flood") for _ in range(FLOOD_LOOPS if "flood" in attacks else 0)),
            *(
                flood(http, COSTLY, "costly")
                for _ in range(COSTLY_LOOPS if "costly" in attacks else 0)
            ),
        )
    return outcomes


def _attacker_process(
    base: str,
    attacker: Party,
    bearer: str,
    seconds: float,
    polite: bool,
    attacks: tuple[str, ...],
    results: Any,
    go: Any,
) -> None:
    # The attacker's own client work would be on its own machine: here it shares the two
    # cores with the hub and the victim, so it yields to them. It still gets what is idle,
    # and its answers per phase are reported (a starved attacker would show).
    os.nice(19)
    # Its interpreter's start-up (~0.8 s of CPU importing this module) is over before the
    # victim's phase begins: the attack starts when the victim does (`go`).
    results.put("ready")
    go.wait()
    spans: list[Span] = []
    outcomes = asyncio.run(attack(base, attacker, bearer, seconds, polite, attacks, spans))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put((dict(outcomes), round(usage.ru_utime + usage.ru_stime, 2), spans))


async def attacked_phase(
    base: str,
    attacker: Party,
    attacker_token: str,
    victim_token: str,
    seconds: float,
    polite: bool,
    attacks: tuple[str, ...],
) -> tuple[list[float], dict[str, int], float, list[str]]:
    """The victim's latencies while the attacker's process runs its attacks, and what the
    attacker had in flight during the victim's three slowest requests, and its admitted
    answers in each second."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    go = context.Event()
    process = context.Process(
        target=_attacker_process,
        args=(base, attacker, attacker_token, seconds, polite, attacks, results, go),
    )
    process.start()
    ready = await asyncio.to_thread(results.get, True, 120)
    assert ready == "ready", ready
    go.set()  # the attack and the victim's phase start together
    victim_spans: list[Span] = []
    latencies = await victim_loop(base, victim_token, seconds, victim_spans)
    outcomes, cpu, attacker_spans = await asyncio.to_thread(results.get, True, seconds + 120)
    await asyncio.to_thread(process.join)
    slowest = overlaps(victim_spans, attacker_spans)
    slowest.append(f"admitted per second {admitted_per_second(attacker_spans)}")
    return latencies, outcomes, cpu, slowest


def overlaps(victim: list[Span], attacker: list[Span], slowest: int = 3) -> list[str]:
    """For each of the victim's slowest requests, when it started (seconds into the
    attacker's phase) and the attacker's requests that overlapped it, by kind and status:
    which attack a slow answer shared the hub with, and whether it met the attacker's
    first burst (a full window's allowance spent at once) or its steady allowance."""
    lines = []
    first = min((span[1] for span in attacker), default=0.0)
    for _, start, end, _ in sorted(victim, key=lambda span: span[1] - span[2])[:slowest]:
        during = Counter(
            f"{kind} {status}" for kind, a, b, status in attacker if a < end and b > start
        )
        lines.append(
            f"{(end - start) * 1000:.1f} ms at +{start - first:.1f} s "
            f"with {dict(sorted(during.items()))}"
        )
    return lines


def admitted_per_second(attacker: list[Span]) -> list[int]:
    """The attacker's admitted (non-429) answers in each second of its phase."""
    if not attacker:
        return []
    first = min(span[1] for span in attacker)
    counts: Counter[int] = Counter(
        int(end - first) for _, _, end, status in attacker if status not in (401, 429)
    )
    return [counts[second] for second in range(max(counts, default=-1) + 1)]


def summary(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
    }


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} (range {min(values):.1f}-{max(values):.1f})"


async def run(options: argparse.Namespace, workdir: Path) -> None:
    url = options.database_url or f"sqlite+aiosqlite:///{workdir / 'hub.db'}"
    victim, attacker = await prepare(url, options.citizens)
    print(
        f"{time.strftime('%H:%M', time.gmtime())} UTC, {options.workers} worker(s), "
        f"{url.split(':', 1)[0]}, load {load()}",
        flush=True,
    )
    for setting in options.limits.split(","):
        limits = setting == "on"
        alone_p99: list[float] = []
        attacked_p99: list[float] = []
        pooled: dict[str, list[float]] = {"alone": [], "attacked": []}
        async with (
            hub(
                url,
                workdir,
                limits=limits,
                workers=options.workers,
                redis_url=options.redis_url,
                log_dir=options.log_dir,
            ) as (base, pid),
            httpx.AsyncClient() as http,
        ):
            victim_token = await token(http, base, victim)
            attacker_token = await token(http, base, attacker)
            await victim_loop(base, victim_token, 2.0)  # warm caches
            for round_ in range(1, options.rounds + 1):
                label = f"limits {setting:<3} round {round_}"
                before, cpu_before = load(), hub_cpu(pid)
                alone_latencies = await victim_loop(base, victim_token, options.seconds)
                pooled["alone"] += alone_latencies
                alone = summary(alone_latencies)
                used = hub_cpu(pid) - cpu_before
                print(
                    f"{label} alone    {alone} hub cpu {used:.2f} s load {before}-{load()}",
                    flush=True,
                )
                before, cpu_before = load(), hub_cpu(pid)
                latencies, outcomes, cpu, slowest = await attacked_phase(
                    base,
                    attacker,
                    attacker_token,
                    victim_token,
                    options.seconds,
                    options.polite,
                    options.attacks,
                )
                attacked = summary(latencies)
                pooled["attacked"] += latencies
                used = hub_cpu(pid) - cpu_before
                print(
                    f"{label} attacked {attacked} hub cpu {used:.2f} s load {before}-{load()}",
                    flush=True,
                )
                print(f"{label} attacker {dict(sorted(outcomes.items()))} cpu {cpu} s", flush=True)
                for line in slowest:
                    print(f"{label} slowest  {line}", flush=True)
                alone_p99.append(alone["p99_ms"])
                attacked_p99.append(attacked["p99_ms"])
                # The next round's alone phase starts with the attacker's refusals spent.
                await asyncio.sleep(options.pause)
        ratios = [a / b for a, b in zip(attacked_p99, alone_p99, strict=True)]
        print(
            f"limits {setting}: victim p99 alone {spread(alone_p99)} ms, attacked "
            f"{spread(attacked_p99)} ms, attacked/alone {spread(ratios)}",
            flush=True,
        )
        # Every round's latencies together: a p99 of ~300 samples, not the 2nd largest of 100.
        both = {phase: summary(values) for phase, values in pooled.items()}
        ratio = both["attacked"]["p99_ms"] / both["alone"]["p99_ms"]
        print(
            f"limits {setting}: pooled alone {both['alone']}, pooled attacked "
            f"{both['attacked']}, p99 attacked/alone {ratio:.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--limits", default="on,off", help="on, off or on,off")
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file)")
    parser.add_argument("--redis-url", default=None, help="share the limits (several workers)")
    parser.add_argument(
        "--polite",
        action="store_true",
        help="instead of attacking, spend the whole allowance and honour Retry-After",
    )
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument("--log-dir", type=Path, help="keep the hub's logs here")
    parser.add_argument(
        "--attacks",
        default=",".join(ATTACKS),
        help=f"comma-separated, of {', '.join(ATTACKS)} (default: all at once)",
    )
    options = parser.parse_args()
    options.attacks = tuple(options.attacks.split(","))
    if unknown := set(options.attacks) - set(ATTACKS):
        parser.error(f"unknown attack {', '.join(sorted(unknown))}; known: {', '.join(ATTACKS)}")
    if options.workers > 1 and options.redis_url is None:
        options.redis_url = "redis://127.0.0.1:6379/0"
    with tempfile.TemporaryDirectory(prefix="hub-attack-") as folder:
        asyncio.run(run(options, Path(folder)))


if __name__ == "__main__":
    main()
