"""The plans of every statement the benchmark's read scenarios run, checked at city scale.

    .venv/bin/python -m bench.plans --database-url postgresql+asyncpg://…/hub_bench

Each read scenario of `bench.scenarios` (and the feed with `totalCount`, as the foundation
and as an agency) is sent through the hub in this process (`bench.inprocess`: the app built
as the servers build it, the benchmark's clients and foundation chosen as `bench.fixtures`
chooses them). Every SELECT the request runs is captured with its parameters and run again
under `EXPLAIN (ANALYZE, BUFFERS)`, so the plans are those of the statements the app really
sends, not of a copy. Two checks per plan:

- no sort reads more rows than the statement returns or a page holds (an order that no
  index serves sorts every matching row to keep 51);
- no sequential scan of a big table (citizens, households, needs, pledges, contributions,
  the audit trail, enrolments, need timelines) once it holds more than `BIG_TABLE_ROWS` rows.

The text plans go to `bench/results/plans/<scenario>.<n>.txt` (the SQL, its parameters, the
plan and the verdict on top); the command exits 1 with the failed checks listed. PostgreSQL
only: SQLite has no EXPLAIN ANALYZE. `check_plans(url)` is the same as a function.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.fixtures import Fixtures, prepare_fixtures
from bench.inprocess import InProcessHub, error_messages
from bench.scenarios import LKS_NEEDS_FEED, SCENARIOS, Scenario
from hub.db import create_engine

PLANS_DIR = Path(__file__).resolve().parent / "results" / "plans"
#: Tables whose sequential scan is a defect at city scale.
BIG_TABLES = frozenset(
    {
        "citizens",
        "households",
        "needs",
        "pledges",
        "contributions",
        "audit_events",
        "audit_event_citizens",
        "enrolments",
        "need_status_changes",
    }
)
#: Below this many rows a table is small enough that a sequential scan is the right plan.
BIG_TABLE_ROWS = 50_000
#: The largest page a client may ask for, plus the row that says another page follows.
PAGE_ROWS = 101
WARM_UP_REQUESTS = 2


class _FeedWithCount(Scenario):
    """The feed's document with `totalCount` selected."""

    __slots__ = ()

    @property
    def document_path(self) -> Path:
        return LKS_NEEDS_FEED.document_path

    def document(self) -> str:
        return super().document().replace("    pageInfo {", "    totalCount\n    pageInfo {", 1)


def _with_total_count(name: str, role: str) -> Scenario:
    """The feed with `totalCount`, sent as `role`."""
    values = {f.name: getattr(LKS_NEEDS_FEED, f.name) for f in fields(LKS_NEEDS_FEED)}
    return _FeedWithCount(**{**values, "name": name, "role": role, "compare_off": False})


#: The read scenarios, and the two pages of the issue's table that count their rows.
PLANNED: tuple[Scenario, ...] = (
    *(s for s in SCENARIOS if not s.root_field.startswith("Mutation.")),
    _with_total_count("lks_needs_feed_with_count", "lks_partner"),
    _with_total_count("opd_needs_page_with_count", "opd_officer"),
)


@dataclass(frozen=True, slots=True)
class PlanCheck:
    """One statement's plan and what is wrong with it (nothing, when `problems` is empty)."""

    scenario: str
    position: int
    sql: str
    parameters: tuple[Any, ...]
    plan: str
    execution_ms: float
    problems: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.scenario}.{self.position:02d}"

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        """What the plan file holds."""
        verdict = "ok" if self.ok else "FAILED: " + "; ".join(self.problems)
        return (
            f"-- {self.name}: {verdict}\n-- execution {self.execution_ms:.3f} ms\n"
            f"-- parameters: {list(map(repr, self.parameters))}\n{self.sql.strip()}\n\n"
            f"{self.plan}\n"
        )


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def problems_of(
    plan: dict[str, Any], table_rows: dict[str, float], *, page_rows: int = PAGE_ROWS
) -> list[str]:
    """The checks' failures in one EXPLAIN (FORMAT JSON) plan tree."""
    returned = plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1)
    allowed = max(page_rows, returned)
    found = []
    for node in _nodes(plan):
        kind = node["Node Type"]
        if kind in ("Sort", "Incremental Sort"):
            child = node["Plans"][0]
            sorted_rows = child.get("Actual Rows", 0) * child.get("Actual Loops", 1)
            if sorted_rows > allowed:
                keys = ", ".join(node.get("Sort Key", ()))
                found.append(
                    f"{kind.lower()} of {sorted_rows:,.0f} rows by ({keys}) to return "
                    f"{returned:,.0f}: no index serves this order"
                )
        if kind == "Seq Scan":
            table = node.get("Relation Name", "")
            if table in BIG_TABLES and table_rows.get(table, 0) > BIG_TABLE_ROWS:
                found.append(
                    f"sequential scan of {table} ({table_rows[table]:,.0f} rows): "
                    "no index serves this condition"
                )
    return found


def _select(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in ("SELECT", "WITH")


class _Capture:
    """The SELECTs a hub app's engine runs while `on` is set, with their parameters."""

    def __init__(self, hub: InProcessHub) -> None:
        self.on = False
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

        def before(_c: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
            if self.on and _select(sql):
                self.statements.append((sql, tuple(parameters or ())))

        event.listen(hub.app.state.engine.sync_engine, "before_cursor_execute", before)


async def _statements(
    hub: InProcessHub, capture: _Capture, scenario: Scenario
) -> list[tuple[str, tuple[Any, ...]]]:
    """The SELECTs of one warm request of `scenario`; raise when the request fails."""
    body = scenario.bodies(hub.fixtures)[0]
    for _ in range(WARM_UP_REQUESTS):
        await hub.post(scenario, body)
    capture.statements = []
    capture.on = True
    try:
        status, payload = await hub.post(scenario, body)
    finally:
        capture.on = False
    errors = error_messages(payload)
    if status != 200 or errors:
        raise RuntimeError(f"{scenario.name} answered {status}: {errors[:3]}")
    return list(capture.statements)


async def _explain(
    url: str, captured: dict[str, list[tuple[str, tuple[Any, ...]]]]
) -> list[PlanCheck]:
    engine = create_engine(url)
    checks = []
    try:
        async with engine.connect() as connection:
            table_rows = {
                name: float(rows)
                for name, rows in (
                    await connection.exec_driver_sql(
                        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'"
                    )
                ).all()
            }
            for scenario, statements in captured.items():
                for position, (sql, parameters) in enumerate(statements, start=1):
                    as_json = await connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, parameters
                    )
                    raw = as_json.scalar()
                    tree = (orjson.loads(raw) if isinstance(raw, str | bytes) else raw)[0]
                    as_text = await connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters
                    )
                    checks.append(
                        PlanCheck(
                            scenario=scenario,
                            position=position,
                            sql=sql,
                            parameters=parameters,
                            plan="\n".join(row[0] for row in as_text.all()),
                            execution_ms=float(tree["Execution Time"]),
                            problems=tuple(problems_of(tree["Plan"], table_rows)),
                        )
                    )
            await connection.rollback()
    finally:
        await engine.dispose()
    return checks


def _env(url: str, workdir: Path) -> dict[str, str]:
    from bench.run import _secret_files  # the run's key files, made the same way

    return {
        "HUB_DATABASE_URL": url,
        "HUB_ENV": "production",
        "HUB_ISSUER": "http://127.0.0.1:9",
        "HUB_VAR_DIR": str(workdir / "var"),
        "HUB_LOG_LEVEL": "warning",
        # No background writers: the sweep would end a fresh city's lapsed pledges (tens of
        # thousands of rows) while the plans are taken, and change what they read.
        "HUB_PLEDGE_SWEEP_SECONDS": "0",
        "HUB_PLEDGE_WARNING_CHECK_SECONDS": "0",
        # Nor background readers, whose statements would land among a request's.
        "HUB_WEBHOOK_POLL_SECONDS": "0",
        # A few warm requests in a row per scenario; the limits are not what is measured.
        "HUB_RATE_LIMITS": "off",
        **_secret_files(workdir),
    }


async def check_plans(
    url: str, *, fixtures: Fixtures | None = None, scenarios: tuple[Scenario, ...] = PLANNED
) -> list[PlanCheck]:
    """Every SELECT of every read scenario, explained and checked, in request order."""
    if make_url(url).get_backend_name() != "postgresql":
        raise ValueError("bench.plans explains PostgreSQL plans; give a postgresql+asyncpg URL")
    fixtures = fixtures or await prepare_fixtures(url)
    captured: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}
    with tempfile.TemporaryDirectory(prefix="hub-plans-") as directory:
        async with InProcessHub(_env(url, Path(directory)), fixtures) as hub:
            capture = _Capture(hub)
            for scenario in scenarios:
                captured[scenario.name] = await _statements(hub, capture, scenario)
    return await _explain(url, captured)


def write_plans(checks: list[PlanCheck], directory: Path = PLANS_DIR) -> None:
    """One text file per statement; files of statements no longer run are removed."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.txt"):
        old.unlink()
    for check in checks:
        (directory / f"{check.name}.txt").write_text(check.text())


def _summary(check: PlanCheck) -> str:
    first = re.sub(r"\s+", " ", check.sql.strip())[:90]
    mark = "ok    " if check.ok else "FAILED"
    return f"{mark} {check.name:34} {check.execution_ms:9.3f} ms  {first}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.plans", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", required=True, help="a PostgreSQL city (asyncpg URL)")
    parser.add_argument(
        "--no-write", action="store_true", help="check only; leave bench/results/plans alone"
    )
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where the plan files go")
    options = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        checks = asyncio.run(check_plans(options.database_url))
    except ValueError as error:
        print(f"bench.plans: {error}", file=sys.stderr)
        return 2
    if not options.no_write:
        write_plans(checks, options.plans_dir)
    for check in checks:
        print(_summary(check))
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks)} statements in {time.perf_counter() - started:.1f} s")
    if failed:
        print(f"\n{len(failed)} plan check(s) failed:", file=sys.stderr)
        for check in failed:
            for problem in check.problems:
                print(f"  {check.name}: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
