"""Query limits cost time linear in the text; the expanded size and the wall clock are capped."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from hub.audit.models import AuditEventRecord
from hub.db import create_engine, session_factory
from tests.support.api import Api, close_api, make_api


def fan_out(levels: int = 30) -> str:
    """~1 KB whose fragments each spread the next twice: 2^levels fields once expanded."""
    parts = ["query FanOut { ...F1 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(1, levels)]
    parts.append(f"fragment F{levels} on Query {{ a: programs {{ code }} }}")
    return "\n".join(parts)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_fan_out_fragments_are_refused_at_once(city: Api) -> None:
    document = fan_out()
    assert len(document) < 1300
    started = time.perf_counter()
    body = await city.query(document)
    seconds = time.perf_counter() - started
    print(f"fan-out document of {len(document)} bytes refused in {seconds * 1000:.1f} ms")
    assert seconds < 5  # measured ~10 ms; generous for a loaded machine
    assert body["data"] is None
    assert "TOO_MANY_ALIASES" in codes(body) and "QUERY_TOO_LARGE" in codes(body)
    large = next(e for e in body["errors"] if e["extensions"]["code"] == "QUERY_TOO_LARGE")
    assert large["extensions"]["fields"] == 2**30 and large["extensions"]["limit"] == 2000


async def test_depth_is_limited_through_fragments(city: Api) -> None:
    deep = "{ regions " + "{ parent " * 10 + "{ code }" + " }" * 10 + " }"
    body = await city.query(deep)
    error = body["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_DEEP", "limit": 10, "depth": 11}
    assert "exceeds maximum operation depth of 10" in error["message"]
    # The deepest accepted nesting still runs.
    fine = "{ regions " + "{ parent " * 9 + "{ code }" + " }" * 9 + " }"
    assert "errors" not in await city.query(fine)
    # Depth through fragments counts the same as written out.
    spread = (
        "query D { regions { ...P } } fragment P on Region { parent "
        + "{ parent " * 9
        + "{ code }"
        + " }" * 9
        + " }"
    )
    assert codes(await city.query(spread)) == ["QUERY_TOO_DEEP"]


async def test_aliases_are_limited(city: Api) -> None:
    many = "{ " + " ".join(f"a{i}: programs {{ code }}" for i in range(31)) + " }"
    body = await city.query(many)
    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert body["errors"][0]["extensions"]["aliases"] == 31
    thirty = "{ " + " ".join(f"a{i}: programs {{ code }}" for i in range(30)) + " }"
    assert "errors" not in await city.query(thirty)


async def test_fragment_cycles_are_refused_without_hanging(city: Api) -> None:
    body = await city.query(
        "query C { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    )
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_token_limit_still_applies(city: Api) -> None:
    body = await city.query("{ " + "programs { code } " * 1000 + "}")
    assert body["data"] is None
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "token" in body["errors"][0]["message"].lower()


@pytest.fixture
async def impatient(city_database_url: str) -> AsyncIterator[Api]:
    """A hub whose requests have a budget of one microsecond: every database wait overruns."""
    api = await make_api(city_database_url, request_timeout_seconds=0.000001)
    yield api
    await close_api(api)


async def test_an_operation_past_its_budget_is_cancelled_coded_and_audited(impatient: Api) -> None:
    response = await impatient.post(
        "{ needs(first: 5) { nodes { id } } }", **{"x-request-id": "budget-test-0001"}
    )
    body = response.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert error["extensions"]["requestId"] == "budget-test-0001"
    engine = create_engine(str(impatient.app.state.settings.database_url))
    try:
        async with session_factory(engine)() as session:
            reasons = list(
                await session.scalars(
                    select(AuditEventRecord.reason).where(
                        AuditEventRecord.request_id == "budget-test-0001"
                    )
                )
            )
    finally:
        await engine.dispose()
    assert reasons == ["errors: REQUEST_TIMEOUT"]
