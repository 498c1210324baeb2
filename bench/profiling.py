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
