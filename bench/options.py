"""The command line of `python -m bench.run`, and the harness's progress log."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import dataset

BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Options:
    """The command line, parsed."""

    database_url: str
    citizens: int
    reseed: bool
    duration: int
    warmup: int
    concurrency: list[int]
    scenarios: list[str] | None
    #: uvicorn workers per server (and Node processes of the peer), one load phase each.
    workers: list[int]
    results_dir: Path
    readme: bool
    profile_requests: int
    compare: bool
    quick: bool
    #: The first of the servers' ports, or None for ephemeral ones.
    port_base: int | None = None
    #: Whether to measure PostGraphile beside the hub (when Node and its packages are there).
    peer: bool = True
    #: Serve with the edge's limits on (per-client slots, fair turns), allowances out of reach.
    edge_limits: bool = False

    @property
    def primary_workers(self) -> int:
        """The worker count whose phase the main table and the targets describe (the largest)."""
        return max(self.workers)


def parse(argv: list[str] | None = None) -> Options:
    """Options from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark the hub at city scale, against its own floor, in one run.",
    )
    parser.add_argument(
        "--database-url",
        default=dataset.DEFAULT_DATABASE_URL,
        help="the benchmark's own database (created when missing; default %(default)s)",
    )
    parser.add_argument(
        "--citizens", type=int, default=2_600_000, help="size of the city (default %(default)s)"
    )
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--duration", type=int, help="seconds per measurement (default 15)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per server and scenario")
    parser.add_argument("--quick", action="store_true", help="2 s per measurement, for smoke")
    parser.add_argument("--concurrency", default="1,10,50", help="comma-separated levels")
    parser.add_argument(
        "--scenario", action="append", dest="scenarios", help="only this one (repeatable)"
    )
    parser.add_argument(
        "--workers",
        default="1,2",
        help="uvicorn workers per server, comma-separated, one load phase each "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        help="serve on ports N, N+1, … (hub, hub_off, peer) instead of ephemeral ones",
    )
    parser.add_argument(
        "--peer",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure PostGraphile 5 (bench/peer) when Node and its packages are there",
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument(
        "--readme",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the results table into bench/README.md (default: on unless --quick)",
    )
    parser.add_argument("--profile-requests", type=int, help="0 skips the profile")
    parser.add_argument(
        "--compare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure with authorization and audit off",
    )
    parser.add_argument(
        "--edge-limits",
        action="store_true",
        help="serve with the edge's limits on (per-client slots, fair turns between clients) "
        "and allowances out of reach: what they cost a client alone",
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    if not workers or min(workers) < 1:
        parser.error(f"--workers wants positive counts such as 1,2, not {args.workers!r}")
    if args.port_base is not None and not 1024 <= args.port_base <= 65000:
        parser.error(f"--port-base wants a port from 1024 to 65000, not {args.port_base}")
    return Options(
        database_url=args.database_url,
        citizens=args.citizens,
        reseed=args.reseed,
        duration=args.duration or (2 if quick else 15),
        warmup=args.warmup if args.warmup is not None else (1 if quick else 3),
        concurrency=[int(c) for c in args.concurrency.split(",") if c.strip()],
        scenarios=args.scenarios,
        workers=workers,
        results_dir=args.results_dir,
        readme=args.readme if args.readme is not None else not quick,
        profile_requests=(
            args.profile_requests if args.profile_requests is not None else (20 if quick else 300)
        ),
        compare=args.compare,
        quick=quick,
        port_base=args.port_base,
        peer=args.peer,
        edge_limits=args.edge_limits,
    )


def log(message: str) -> None:
    """Progress on stderr, flushed, with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
