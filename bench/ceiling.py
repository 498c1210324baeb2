"""The stack's ceiling: the feed's answer with no database, no policy and no audit.

Issue 18 asks the hub's feed for 0.8x the floor's throughput (`bench/floor.py`: one SQL
statement and orjson). This measures how much of a request the chosen stack costs before
the hub does anything of its own: strawberry (with the hub's `HubExecutionContext`, its
parser and validation caches) executing `schema/operations/lks_needs_feed.graphql` against
50 needs that are already Python objects, next to the floor's own rendering of the same 50
rows (`render_page`) with no SQL either.

    .venv/bin/python -m bench.ceiling            # CPU per request, in this process
    .venv/bin/python -m bench.ceiling --serve [--workers 2]   # over HTTP (uvicorn + wrk)

In process, each figure is the CPU time of a loop of requests (`time.process_time`) divided
by their number, best of three rounds. Over HTTP one uvicorn worker serves both endpoints
(`/graphql`, strawberry's own ASGI app, `/floor`, and `/hello`, a constant body: the least
a Starlette request costs), wrk drives each at 10 connections in turn, and the workers'
CPU per request is read from /proc. `{ ok }` is the least a strawberry request costs.
The static objects carry the same values the hub's page does (masked NIK, initials, age
band), so both answers are the same size as the hub's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import enum
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from bench.floor import render_page
from hub.graphql.execution import HubExecutionContext

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = (ROOT / "schema/operations/lks_needs_feed.graphql").read_text()
PAGE = 50
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


@strawberry.enum(description="How urgent a need is.")
class Severity(enum.Enum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


@strawberry.type(description="A category of need.")
class Category:
    code: str = strawberry.field(description="Its code.")
    label_id: str = strawberry.field(description="Its label in Indonesian.")


@strawberry.type(description="A kecamatan or kelurahan.")
class Region:
    code: str = strawberry.field(description="Its Kemendagri code.")
    name: str = strawberry.field(description="Its name.")


@strawberry.type(description="A person, masked.")
class Citizen:
    nik: str = strawberry.field(description="The masked NIK.")
    full_name: str = strawberry.field(description="Initials.")
    age_band: str = strawberry.field(description="The age band.")
    sex: str = strawberry.field(description="M or F.")


@strawberry.type(description="An open need.")
class Need:
    id: strawberry.ID = strawberry.field(description="Its global id.")
    severity: Severity = strawberry.field(description="How urgent.")
    waiting_days: int = strawberry.field(description="Days waited.")
    description: str = strawberry.field(description="What is needed.")
    category: Category = strawberry.field(description="Its category.")
    kelurahan: Region = strawberry.field(description="Where.")
    kecamatan: Region = strawberry.field(description="Where, broadly.")
    citizen: Citizen = strawberry.field(description="Who.")


@strawberry.type(description="Where a page stands.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more follow.")
    end_cursor: str | None = strawberry.field(description="The last node's cursor.")


@strawberry.type(description="One page of needs.")
class NeedConnection:
    page_info: PageInfo = strawberry.field(description="Where the page stands.")
    nodes: list[Need] = strawberry.field(description="The page.")


@strawberry.enum(description="Orders.")
class NeedOrder(enum.Enum):
    URGENT = "URGENT"


@strawberry.enum(description="Statuses.")
class NeedStatus(enum.Enum):
    OPEN = "OPEN"


@strawberry.input(description="Filters.")
class NeedFilter:
    status: list[NeedStatus] | None = strawberry.field(default=None, description="Statuses.")


def rows() -> list[tuple[Any, ...]]:
    """50 rows shaped like the floor's statement's."""
    reported = NOW - dt.timedelta(days=40)

    def row(i: int) -> tuple[Any, ...]:
        born = dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
        return (
            1000 + i, 1 + i % 4, f"Bantuan sembako untuk keluarga nomor {i}", reported,
            reported, None, None, "SEMBAKO", "Bantuan sembako", "3273010001",
            "Sukaluyu", "3273010", "Cibeunying Kaler", f"32730141{i:02d}900009",
            f"Warga Contoh Nomor {i}", born, "F",
        )  # fmt: skip

    return [row(i) for i in range(PAGE + 1)]


def page_objects() -> NeedConnection:
    """The floor's answer as strawberry objects (the values the hub's page holds)."""
    body = orjson.loads(render_page(rows(), PAGE, NOW))["data"]["needs"]
    return NeedConnection(
        page_info=PageInfo(
            has_next_page=body["pageInfo"]["hasNextPage"],
            end_cursor=body["pageInfo"]["endCursor"],
        ),
        nodes=[
            Need(
                id=strawberry.ID(n["id"]),
                severity=Severity[n["severity"]],
                waiting_days=n["waitingDays"],
                description=n["description"],
                category=Category(code=n["category"]["code"], label_id=n["category"]["labelId"]),
                kelurahan=Region(**n["kelurahan"]),
                kecamatan=Region(**n["kecamatan"]),
                citizen=Citizen(
                    nik=n["citizen"]["nik"],
                    full_name=n["citizen"]["fullName"],
                    age_band=n["citizen"]["ageBand"],
                    sex=n["citizen"]["sex"],
                ),
            )
            for n in body["nodes"]
        ],
    )


def build_schema() -> strawberry.Schema:
    """A schema of the feed's shape whose `needs` answers from memory."""
    page = page_objects()

    @strawberry.type(description="The root.")
    class Query:
        @strawberry.field(  # type: ignore[untyped-decorator,unused-ignore]
            description="Always true: the least a GraphQL request can ask."
        )
        def ok(self) -> bool:
            return True

        @strawberry.field(description="A page of needs.")  # type: ignore[untyped-decorator,unused-ignore]
        async def needs(
            self,
            first: int = 50,
            after: str | None = None,
            filter: NeedFilter | None = None,
            order_by: NeedOrder = NeedOrder.URGENT,
        ) -> NeedConnection:
            return page

    return strawberry.Schema(
        query=Query,
        execution_context_class=HubExecutionContext,
        extensions=[ParserCache, ValidationCache],
    )


async def _execute_loop(schema: strawberry.Schema, requests: int) -> float:
    variables = {"first": PAGE}
    start = time.process_time()
    for _ in range(requests):
        result = await schema.execute(DOCUMENT, variable_values=variables)
        if result.errors:
            raise SystemExit(f"the ceiling's schema refused the feed: {result.errors}")
        orjson.dumps({"data": result.data})
    return (time.process_time() - start) / requests


def _render_loop(requests: int) -> float:
    page = rows()
    start = time.process_time()
    for _ in range(requests):
        render_page(page, PAGE, NOW)
    return (time.process_time() - start) / requests


def in_process(requests: int) -> dict[str, float]:
    """CPU milliseconds per request: strawberry from memory, and the floor's rendering."""
    schema = build_schema()
    asyncio.run(_execute_loop(schema, 20))
    strawberry_ms = min(asyncio.run(_execute_loop(schema, requests)) for _ in range(3)) * 1e3
    floor_ms = min(_render_loop(requests) for _ in range(3)) * 1e3
    return {"strawberry_execute_ms": round(strawberry_ms, 3), "floor_render_ms": round(floor_ms, 3)}


def app() -> Any:
    """The ASGI app of `--serve`: strawberry's GraphQL app and the floor's rendering."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    from strawberry.asgi import GraphQL

    page = rows()

    async def floor(_: Any) -> Response:
        body = render_page(page, PAGE, dt.datetime.now(dt.UTC))
        return Response(body, media_type="application/json")

    async def hello(_: Any) -> Response:
        return Response(b'{"data":{"ok":true}}', media_type="application/json")

    class Fast(GraphQL):  # type: ignore[type-arg,unused-ignore]
        def encode_json(self, data: object) -> str:
            return orjson.dumps(data).decode()

    return Starlette(
        routes=[
            Route("/floor", floor),
            Route("/hello", hello),
            Route("/graphql", Fast(build_schema()), methods=["POST"]),
        ]
    )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, body: Path | None, seconds: int) -> float:
    command = ["wrk", "-t1", "-c10", f"-d{seconds}s", url]
    if body is not None:
        script = body.with_suffix(".lua")
        script.write_text(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = [[{body.read_text()}]]\n"
        )
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("Requests/sec:"))
    return float(line.split()[1])


def _tree_cpu_seconds(pid: int) -> float:
    """CPU of `pid` and its children (uvicorn's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return _cpu_seconds(pid) + sum(_cpu_seconds(int(child)) for child in children)


def serve(seconds: int, port: int, workers: int) -> dict[str, Any]:
    """req/s and the workers' CPU per request for each endpoint."""
    command = [
        sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--factory", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT)
    try:
        for _ in range(100):
            if (
                subprocess.run(
                    ["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/floor"], check=False
                ).returncode
                == 0
            ):
                break
            time.sleep(0.1)
        with tempfile.TemporaryDirectory() as tmp:
            body = Path(tmp) / "feed.json"
            body.write_text(json.dumps({"query": DOCUMENT, "variables": {"first": PAGE}}))
            trivial = Path(tmp) / "ok.json"
            trivial.write_text(json.dumps({"query": "{ ok }"}))
            graphql = f"http://127.0.0.1:{port}/graphql"
            results: dict[str, Any] = {}
            for name, url, payload in (
                ("strawberry_feed", graphql, body),
                ("floor_render", f"http://127.0.0.1:{port}/floor", None),
                ("strawberry_ok", graphql, trivial),
                ("starlette_hello", f"http://127.0.0.1:{port}/hello", None),
            ):
                _wrk(url, payload, 2)  # warm up
                before = _tree_cpu_seconds(server.pid)
                rate = _wrk(url, payload, seconds)
                cpu = _tree_cpu_seconds(server.pid) - before
                results[name] = {
                    "requests_per_second": rate,
                    "workers_cpu_ms_per_request": round(cpu / (rate * seconds) * 1e3, 3),
                }
            return results
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--serve", action="store_true", help="also measure over HTTP with wrk")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for --serve")
    args = parser.parse_args()
    report: dict[str, Any] = {"in_process": in_process(args.requests)}
    if args.serve:
        report[f"http_c10_{args.workers}_workers"] = serve(args.seconds, args.port, args.workers)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
