"""A pyinstrument profile of one scenario, run in process through the ASGI app.

The requests are sent one after another from this process, so the profile shows the whole
request path on one thread: HTTP and middleware, bearer check, GraphQL parsing, validation
and execution, SQL and the driver, serialisation. Time spent waiting for PostgreSQL shows
as the event loop's idle wait. Besides the HTML and text renderings, the top costs are
summed by function and by package (self time), for the report.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from bench.fixtures import Fixtures
from bench.inprocess import InProcessHub
from bench.scenarios import Scenario

_SITE_PACKAGE = re.compile(r"site-packages/([A-Za-z0-9_]+)")
_STDLIB_MODULE = re.compile(r"lib/python3\.\d+/([A-Za-z0-9_]+)")
#: Built-in calls that mean the event loop is waiting (for the database, mostly).
_WAITS = ("epoll.poll", "select.select", "poll.poll", "kqueue.control")
IDLE = "(idle: event loop waiting on I/O)"


def available() -> bool:
    """Whether pyinstrument is installed."""
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return False
    return True


def _package(file_path: str | None) -> str | None:
    """The package a frame's file belongs to (`hub`, `strawberry`, `asyncio`, …), or None
    for code without a file of its own (built-ins, generated code), which is charged to
    its caller's package."""
    if not file_path or file_path.startswith("<"):
        return None
    site = _SITE_PACKAGE.search(file_path)
    if site:
        return site.group(1)
    if "/bench/" in file_path:
        return "bench"
    if "/hub/" in file_path:
        return "hub"
    stdlib = _STDLIB_MODULE.search(file_path)
    return stdlib.group(1) if stdlib else Path(file_path).stem


_SESSION = "sqlalchemy/ext/asyncio/session.py"
#: Stages of the request path, by (file path ending, function): inclusive time each.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("bearer token check", "hub/auth/resource.py", "authenticate_header"),
    ("GraphQL parsing", "graphql/language/parser.py", "parse"),
    ("GraphQL validation (graphql-core rules)", "graphql/validation/validate.py", "validate"),
    ("GraphQL execution", "strawberry/schema/schema.py", "_execute_operation"),
    ("  of which the hub's prefetch of the page", "hub/graphql/prefetch.py", "prefetch"),
    ("  of which dataloader batches", "strawberry/dataloader.py", "dispatch_batch"),
    ("AsyncSession.execute (compile, driver, wait)", _SESSION, "execute"),
    ("session rollback", _SESSION, "rollback"),
    ("JSON encoding of the response", "strawberry/http/base.py", "encode_json"),
)


def phases(root: Any, requests: int) -> list[dict[str, Any]]:
    """Inclusive milliseconds per request in each stage of `PHASES` (outermost calls only)."""
    totals = dict.fromkeys((label for label, _, _ in PHASES), 0.0)
    stack: list[tuple[Any, frozenset[str]]] = [(root, frozenset())]
    while stack:
        frame, inside = stack.pop()
        path = frame.file_path or ""
        labels = {
            label
            for label, ending, function in PHASES
            if frame.function == function and path.endswith(ending) and label not in inside
        }
        for label in labels:
            totals[label] += frame.time
        stack.extend((child, inside | labels) for child in frame.children)
    return [
        {"phase": label, "ms_per_request": round(1000 * seconds / requests, 2)}
        for label, seconds in totals.items()
    ]


def _largest(totals: dict[str, float], limit: int) -> list[tuple[str, float]]:
    return sorted(totals.items(), key=lambda item: -item[1])[:limit]


def top_costs(root: Any, limit: int = 15) -> dict[str, Any]:
    """Self time by function and by package from a pyinstrument frame tree.

    Built-in functions and generated code are charged to the package that called them
    (`socket.send` called by asyncio counts as asyncio); the event loop's wait for I/O is
    reported on its own line.
    """
    by_function: dict[str, float] = defaultdict(float)
    by_package: dict[str, float] = defaultdict(float)
    stack: list[tuple[Any, str]] = [(root, "?")]
    while stack:
        frame, inherited = stack.pop()
        package = inherited if frame.is_synthetic else (_package(frame.file_path) or inherited)
        stack.extend((child, package) for child in frame.children)
        own = 0.0 if frame.is_synthetic else frame.total_self_time
        if own <= 0:
            continue
        if frame.function in _WAITS:
            by_package[IDLE] += own
            by_function[IDLE] += own
            continue
        location = (
            f"{frame.file_path_short}:{frame.line_no}"
            if _package(frame.file_path)
            else f"built-in, called from {package}"
        )
        by_function[f"{frame.function} ({location})"] += own
        by_package[package] += own
    total = root.time or 1.0
    return {
        "total_seconds": round(root.time, 3),
        "by_package": [
            {"package": name, "seconds": round(t, 3), "share": round(t / total, 3)}
            for name, t in _largest(by_package, limit)
        ],
        "by_function": [
            {"function": name, "seconds": round(t, 3), "share": round(t / total, 3)}
            for name, t in _largest(by_function, limit)
        ],
    }


async def _send(hub: InProcessHub, scenario: Scenario, body: dict[str, Any], count: int) -> None:
    for _ in range(count):
        status, payload = await hub.post(scenario, body)
        if status != 200 or payload.get("errors"):
            raise RuntimeError(f"profiled request failed: {status} {payload}")


def profile_scenario(
    env: Mapping[str, str],
    fixtures: Fixtures,
    scenario: Scenario,
    *,
    requests: int,
    out_dir: Path,
) -> dict[str, Any]:
    """Profile `requests` sequential requests of `scenario`; write HTML and text beside."""
    from pyinstrument import Profiler

    body = orjson.loads(orjson.dumps(scenario.bodies(fixtures)[0]))
    profiler = Profiler(interval=0.0005, async_mode="disabled")

    async def run() -> None:
        async with InProcessHub(env, fixtures) as hub:
            await _send(hub, scenario, body, 5)
            profiler.start()
            try:
                await _send(hub, scenario, body, requests)
            finally:
                profiler.stop()

    asyncio.run(run())
    html = out_dir / f"profile_{scenario.name}.html"
    text = out_dir / f"profile_{scenario.name}.txt"
    html.write_text(profiler.output_html())
    text.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    costs = {**top_costs(root), "phases": phases(root, requests)} if root is not None else {}
    return {
        "scenario": scenario.name,
        "requests": requests,
        "ms_per_request": round(1000 * session.duration / requests, 2),
        "cpu_ms_per_request": round(1000 * session.cpu_time / requests, 2),
        "html": html.name,
        "text": text.name,
        **costs,
    }


# --- the split without a profiler ---------------------------------------------------------
#
# pyinstrument's hook runs on every call, so it inflates code made of many small calls (the
# executor's walk over a page's fields) several times over code that waits or runs in C:
# measured on the feed, the walk took 3.1 ms without it and read as ~12 ms under it. The
# split below wraps a few functions of the request path instead, timing each (outermost
# call only: wall clock and this process's CPU), so that the shares are the real ones.

#: (label, module, owner or None, attribute): what the split times, in report order.
SPLIT_PHASES: tuple[tuple[str, str, str | None, str], ...] = (
    ("request (below the bearer check)", "hub.auth.resource", "BearerAuthMiddleware", "__call__"),
    ("operation (strawberry, with extensions)", "strawberry.schema.schema", "Schema", "execute"),
    (
        "  prepare: parse, validate, input hygiene, cost",
        "hub.graphql.edge",
        "EdgeSchema",
        "_prepare_operation_async",
    ),
    ("  execution: resolvers and the walk", "hub.graphql.edge", "EdgeSchema", "_execute_operation"),
    ("    resolver page_of (statement, rows, prefetch)", "hub.graphql.lists", None, "page_of"),
    ("    resolver single (lookup's prefetch)", "hub.graphql.lists", None, "single"),
    ("    resolver lookup (statement, joins, prefetch)", "hub.graphql.lists", None, "lookup"),
    ("      prefetch and masking", "hub.graphql.lists", None, "prefetch"),
    ("        relations' batch loads", "hub.graphql.prefetch", None, "prefetch_tree"),
    ("        authz: field masking", "hub.graphql.prefetch", None, "apply_field_access"),
    ("  authz: operation and purpose checks", "hub.authz.checks", "AuthorizationChecks", "_check"),
    ("  authz: row rules built", "hub.graphql.context", "Context", "row_filter"),
    ("  audit: the event built", "hub.graphql.audit", "RecordAndCommit", "_event"),
    ("  audit: waiting for the group commit", "hub.audit.runtime", "AuditRecorder", "record"),
    ("    audit: the writer's transaction", "hub.audit.recorder", "GroupCommitWriter", "_commit"),
    ("  extensions.cost (the response counted)", "hub.graphql.cost", None, "actual_cost"),
    ("response JSON", "hub.graphql.http", "HubGraphQL", "create_response"),
)


def _timed(function: Any, label: str, totals: dict[str, list[float]]) -> Any:
    import functools
    import inspect
    import time

    depth = [0]

    def add(wall: float, cpu: float) -> None:
        entry = totals.setdefault(label, [0.0, 0.0])
        entry[0] += wall
        entry[1] += cpu

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            depth[0] += 1
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return await function(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    add(time.perf_counter() - wall, time.process_time() - cpu)

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        depth[0] += 1
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                add(time.perf_counter() - wall, time.process_time() - cpu)

    return timed


def _install(totals: dict[str, list[float]]) -> list[tuple[Any, str, Any]]:
    """Wrap every phase's function (and the names modules imported it under); return
    what to restore."""
    import importlib
    import sys

    restore: list[tuple[Any, str, Any]] = []
    for label, module_name, owner_name, attribute in SPLIT_PHASES:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        original = getattr(owner, attribute)
        wrapped = _timed(original, label, totals)
        restore.append((owner, attribute, original))
        setattr(owner, attribute, wrapped)
        if owner_name is None:  # `from module import function` elsewhere in the hub
            for other in list(sys.modules.values()):
                name = getattr(other, "__name__", "")
                if name.startswith("hub.") and getattr(other, attribute, None) is original:
                    restore.append((other, attribute, original))
                    setattr(other, attribute, wrapped)
    return restore


def split_scenario(
    env: Mapping[str, str], fixtures: Fixtures, scenario: Scenario, *, requests: int
) -> dict[str, Any]:
    """Per-phase wall and CPU milliseconds per request of `requests` sequential requests
    of `scenario` in process, measured without a profiler; with the SQL time per request
    (the engine's statements, as `InProcessHub` counts them) and the request's median."""
    import os
    import statistics
    import time

    import hub.graphql.schema  # noqa: F401  (every module the phases name is loaded)

    bodies = [orjson.loads(orjson.dumps(body)) for body in scenario.bodies(fixtures)]
    totals: dict[str, list[float]] = {}
    walls: list[float] = []
    measured: dict[str, float] = {}

    async def run() -> None:
        async with InProcessHub(env, fixtures) as hub:
            for n in range(5):
                await hub.post(scenario, bodies[n % len(bodies)])
            restore = _install(totals)
            try:
                hub.sql_seconds = 0.0
                cpu = time.process_time()
                for n in range(requests):
                    started = time.perf_counter()
                    status, payload = await hub.post(scenario, bodies[n % len(bodies)])
                    walls.append(time.perf_counter() - started)
                    if status != 200 or payload.get("errors"):
                        raise RuntimeError(f"split request failed: {status} {payload}")
                measured["cpu"] = time.process_time() - cpu
                measured["sql"] = hub.sql_seconds
            finally:
                for owner, attribute, original in reversed(restore):
                    setattr(owner, attribute, original)

    asyncio.run(run())

    def ms(seconds: float) -> float:
        return round(1000 * seconds / requests, 2)

    return {
        "scenario": scenario.name,
        "requests": requests,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "p50_ms": round(1000 * statistics.median(walls), 2),
        "cpu_ms_per_request": ms(measured["cpu"]),
        "sql_ms_per_request": ms(measured["sql"]),
        "phases": [
            {"phase": label, "wall_ms": ms(totals[label][0]), "cpu_ms": ms(totals[label][1])}
            for label, *_ in SPLIT_PHASES
            if label in totals
        ],
    }


def split_text(split: dict[str, Any]) -> str:
    """The split as a small table, for the results folder."""
    lines = [
        f"{split['scenario']}: {split['requests']} sequential requests in process, "
        f"p50 {split['p50_ms']} ms, CPU {split['cpu_ms_per_request']} ms/request, SQL "
        f"(statement wall time) {split['sql_ms_per_request']} ms/request, load "
        f"{split['load_average']}",
        f"{'phase (inclusive, outermost call)':58s} {'wall ms':>8s} {'CPU ms':>8s}",
    ]
    lines += [f"{p['phase']:58s} {p['wall_ms']:8.2f} {p['cpu_ms']:8.2f}" for p in split["phases"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.profiling URL`: the profile and the split of the read scenarios on
    an existing benchmark database, into bench/results (production settings, a key made
    for the run; rate limits and the pledge sweep off, so that neither runs inside)."""
    import argparse
    import tempfile

    from bench.fixtures import prepare_fixtures
    from bench.options import BENCH_DIR
    from bench.run import _secret_files
    from bench.scenarios import by_name

    parser = argparse.ArgumentParser(prog="python -m bench.profiling")
    parser.add_argument("database_url")
    parser.add_argument("--scenarios", default="lks_needs_feed,opd_citizen_profile")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-profile", action="store_true", help="the split only")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args(argv)
    fixtures = asyncio.run(prepare_fixtures(args.database_url))
    with tempfile.TemporaryDirectory(prefix="hub-profile-") as directory:
        workdir = Path(directory)
        env = {
            "HUB_DATABASE_URL": args.database_url,
            "HUB_ENV": "production",
            "HUB_ISSUER": "http://127.0.0.1:8000",
            "HUB_VAR_DIR": str(workdir / "var"),
            "HUB_LOG_LEVEL": "warning",
            "HUB_RATE_LIMITS": "off",
            "HUB_PLEDGE_SWEEP_SECONDS": "0",
            **_secret_files(workdir),
        }
        for scenario in by_name(args.scenarios.split(",")):
            split = split_scenario(env, fixtures, scenario, requests=args.requests)
            text = split_text(split)
            (args.out / f"split_{scenario.name}.txt").write_text(text)
            print(text)
            if not args.no_profile and available():
                profiled = profile_scenario(
                    env, fixtures, scenario, requests=args.requests, out_dir=args.out
                )
                (args.out / str(profiled["html"])).unlink(missing_ok=True)  # tens of MB
                print(f"profile: {profiled['ms_per_request']} ms/request under pyinstrument")


if __name__ == "__main__":
    main()
