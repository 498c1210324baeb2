"""The hub in this process, through ASGI: SQL statements per request, and the floor's parity.

The app is built exactly as the servers build it (`bench.server`, from the same `HUB_*`
variables) but called through httpx's ASGI transport, so that a SQLAlchemy
`before_cursor_execute` listener can count the statements each request runs, as
`tests/support/api.py` does, and time them. Counts are taken on a warm app (after two requests),
so the policy load and other first-request work do not inflate them. The same requests
give the time of one request alone (median), with and without the SQL.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx
import orjson
from sqlalchemy import event
from starlette.applications import Starlette

from bench.fixtures import Fixtures
from bench.floor import FLOOR_PATH
from bench.scenarios import Scenario
from bench.server import add_floor
from hub.app import create_app
from hub.auth.keys import MemoryKeyStore
from hub.settings import Settings

WARM_UP_REQUESTS = 2
COUNTED_REQUESTS = 5


def _fresh(template: bytes, key: str) -> dict[str, Any]:
    """A request body with `__UNIQUE__` replaced (a new idempotency key per request)."""
    body: dict[str, Any] = orjson.loads(
        template.replace(b"__UNIQUE__", f"inprocess-{key}".encode())
    )
    return body


class InProcessHub:
    """A hub app in this process, with a statement counter on its engine."""

    def __init__(self, env: Mapping[str, str], fixtures: Fixtures) -> None:
        self.settings = Settings.from_env(env)
        self.fixtures = fixtures
        self.app: Starlette = add_floor(create_app(self.settings, key_store=MemoryKeyStore()))
        self.statements = 0
        self.sql_seconds = 0.0
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1"
        )
        self._lifespan: Any = None
        self._tokens: dict[str, str] = {}

        def before(connection: Any, *_: Any) -> None:
            self.statements += 1
            connection.info["bench_started"] = time.perf_counter()

        def after(connection: Any, *_: Any) -> None:
            started = connection.info.pop("bench_started", None)
            if started is not None:
                self.sql_seconds += time.perf_counter() - started

        engine = self.app.state.engine.sync_engine
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        # The audit trail writes through an engine of its own, when there is one.
        self.audit_statements = 0
        audit_engine = getattr(self.app.state, "audit_engine", None)
        if audit_engine is not None and self.app.state.recorder is not None:

            def audit(*_: Any) -> None:
                self.audit_statements += 1

            event.listen(audit_engine.sync_engine, "before_cursor_execute", audit)

    async def __aenter__(self) -> InProcessHub:
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.client.aclose()
        if self._lifespan is not None:
            await self._lifespan.__aexit__(kind, error, traceback)
        await self.app.state.engine.dispose()

    def bearer(self, role: str) -> str:
        """A token for the benchmark client of `role`, signed by this app's keys."""
        if role not in self._tokens:
            client = self.fixtures.clients[role]
            minted = self.app.state.auth.tokens.mint(
                client_id=client.client_id,
                organization_code=client.organization_code,
                organization_kind=client.organization_kind,
                roles=[role],
            )
            self._tokens[role] = f"Bearer {minted.access_token}"
        return self._tokens[role]

    async def post(self, scenario: Scenario, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST one body as the scenario's client; return the status and decoded body."""
        response = await self.client.post(
            "/graphql",
            content=orjson.dumps(body),
            headers={**scenario.headers(), "Authorization": self.bearer(scenario.role)},
        )
        return response.status_code, response.json()

    async def statements_per_request(self, scenario: Scenario) -> dict[str, Any]:
        """SQL statements and time of warm, sequential requests of `scenario`.

        The count is the smallest of `COUNTED_REQUESTS` requests: the app's background
        tasks (the policy check every few seconds, the audit trail's sealing, the pledge
        sweep) sometimes run a statement inside a request's window; every count is kept.
        Statements of the request's own engine (as `tests/support/api.py` counts them) and of the
        audit trail's engine are counted apart.
        """
        template = orjson.dumps(scenario.bodies(self.fixtures)[0])
        for n in range(WARM_UP_REQUESTS):
            await self.post(scenario, _fresh(template, f"warm-{n}"))
        counts: list[int] = []
        audit_counts: list[int] = []
        seconds: list[float] = []
        sql_seconds: list[float] = []
        status, errors = 0, []
        for n in range(COUNTED_REQUESTS):
            self.statements, self.sql_seconds, self.audit_statements = 0, 0.0, 0
            started = time.perf_counter()
            status, payload = await self.post(scenario, _fresh(template, f"count-{n}"))
            seconds.append(time.perf_counter() - started)
            counts.append(self.statements)
            audit_counts.append(self.audit_statements)
            sql_seconds.append(self.sql_seconds)
            errors = error_messages(payload)
        return {
            "statements": min(counts),
            "statements_each": counts,
            "audit_statements": min(audit_counts),
            "audit_statements_each": audit_counts,
            "ms_per_request": round(1000 * statistics.median(seconds), 1),
            "sql_ms_per_request": round(1000 * statistics.median(sql_seconds), 1),
            "status": status,
            "errors": errors,
        }

    async def floor_page(self, first: int) -> dict[str, Any]:
        """The floor's answer for the benchmark foundation."""
        org = self.fixtures.clients["lks_partner"].organization_id
        response = await self.client.get(FLOOR_PATH, params={"org": org, "first": first})
        response.raise_for_status()
        page: dict[str, Any] = response.json()
        return page


def error_messages(value: Any) -> list[str]:
    """Messages of every non-empty `errors` list in a response (GraphQL's, or a payload's)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "errors" and isinstance(item, list):
                found += [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in item]
            else:
                found += error_messages(item)
    elif isinstance(value, list):
        for item in value:
            found += error_messages(item)
    return found


def compare_pages(hub: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    """Whether the floor returned the same page as the hub, and the first difference."""
    hub_nodes = hub.get("data", {}).get("needs", {}).get("nodes", [])
    floor_nodes = floor["data"]["needs"]["nodes"]
    difference = None
    if len(hub_nodes) != len(floor_nodes):
        difference = f"{len(hub_nodes)} nodes from the hub, {len(floor_nodes)} from the floor"
    else:
        for index, (mine, theirs) in enumerate(zip(hub_nodes, floor_nodes, strict=True)):
            if mine != theirs:
                keys = sorted(
                    k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k)
                )
                difference = f"node {index} differs in {', '.join(keys)}"
                break
    return {
        "nodes": len(floor_nodes),
        "same_nodes_as_hub": difference is None,
        "difference": difference,
        "same_page_info": hub.get("data", {}).get("needs", {}).get("pageInfo")
        == floor["data"]["needs"]["pageInfo"],
    }


async def measure_in_process(
    env: Mapping[str, str],
    fixtures: Fixtures,
    scenarios: list[Scenario],
    small_feed: Scenario,
    *,
    check_floor: bool = True,
) -> dict[str, Any]:
    """Statements per request of each scenario (and of the feed at first: 5), and whether
    the floor returns the hub's page (meaningless with authorization off: the hub's feed is
    then every open need in the city, not the foundation's)."""
    results: dict[str, Any] = {}
    async with InProcessHub(env, fixtures) as hub:
        for scenario in scenarios:
            results[scenario.name] = await hub.statements_per_request(scenario)
        results["lks_needs_feed@first=5"] = await hub.statements_per_request(small_feed)
        feed = next((s for s in scenarios if s.name == "lks_needs_feed"), None)
        if feed is not None and check_floor:
            _, page = await hub.post(feed, feed.bodies(fixtures)[0])
            results["floor_parity"] = compare_pages(page, await hub.floor_page(50))
    return results
