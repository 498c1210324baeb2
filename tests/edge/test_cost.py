"""Query cost: computed from the document before execution, limited per request and role,
reported in `extensions.cost`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.edge.settings import EdgeSettings
from tests.support.api import Api, close_api, make_api


@pytest.fixture(scope="module")
async def costed(city_database_url: str) -> AsyncIterator[Api]:
    """A hub on the shared city that answers `extensions.cost` (the default outside tests)."""
    api = await make_api(city_database_url, edge=EdgeSettings(rate_limits=False))
    yield api
    await close_api(api)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_cost_counts_fields_once_per_item_a_page_may_hold(costed: Api) -> None:
    body = await costed.query("{ needs(first: 5) { totalCount nodes { id status } } }")
    # needs 1 + totalCount 1 + nodes (1 + 5 x (id + status)) = 13
    cost = body["extensions"]["cost"]
    assert cost["requested"] == 13
    returned = len(body["data"]["needs"]["nodes"])
    assert cost["actual"] == 3 + 2 * returned <= cost["requested"]
    assert cost["limit"] == 50_000


async def test_first_from_variables_and_the_default_page(costed: Api) -> None:
    document = "query Q($n: Int) { needs(first: $n) { nodes { id } } }"
    sent = await costed.query(document, {"n": 50})
    assert sent["extensions"]["cost"]["requested"] == 2 + 50
    # Not given: the default page size (20), as the resolver would use.
    omitted = await costed.query("{ needs { nodes { id } } }")
    assert omitted["extensions"]["cost"]["requested"] == 2 + 20
    # Nested lists multiply; a list that is not paginated counts HUB_COST_LIST_SIZE items.
    nested = await costed.query(
        "{ needs(first: 10) { nodes { citizen { household { members { nik } } } } } }"
    )
    assert nested["extensions"]["cost"]["requested"] == 2 + 10 * (3 + 10 * 1)


async def test_fragments_cost_what_they_cost_written_out(costed: Api) -> None:
    written = (
        "{ a: needs(first: 3) { nodes { id status } } b: needs(first: 7) { nodes { id status } } }"
    )
    spread = (
        "query S { a: needs(first: 3) { ...Page } b: needs(first: 7) { ...Page } }"
        " fragment Page on NeedConnection { nodes { ...Fields } }"
        " fragment Fields on Need { id status }"
    )
    one = (await costed.query(written))["extensions"]["cost"]["requested"]
    two = (await costed.query(spread))["extensions"]["cost"]["requested"]
    assert one == two == 2 * 2 + 3 * 2 + 7 * 2


async def test_cost_is_linear_in_the_document_whatever_its_fragments(costed: Api) -> None:
    # Each fragment spreads the next twice under a page of 100: written out, 100^k fields.
    levels = 8
    parts = ["query Deep { needs(first: 100) { ...F1 } }"]
    parts += [
        f"fragment F{i} on NeedConnection {{ nodes {{ id }} ...F{i + 1} }}"
        for i in range(1, levels)
    ]
    parts.append(f"fragment F{levels} on NeedConnection {{ totalCount }}")
    started = time.perf_counter()
    body = await costed.query("\n".join(parts))
    assert time.perf_counter() - started < 5
    assert body["extensions"]["cost"]["requested"] == 1 + 1 + (levels - 1) * 101


async def test_a_costly_document_is_refused_naming_cost_and_limit(city: Api) -> None:
    document = (
        "{ needs(first: 100) { nodes { citizen { household { members { nik fullName } } } } } }"
    )
    api = await make_api(
        city.app.state.settings.database_url,
        edge=EdgeSettings(
            rate_limits=False, cost_in_response=True, role_max_cost={"lks_partner": 1000}
        ),
    )
    try:
        refused = await api.as_("lks_partner").query(document)
        assert refused["data"] is None and codes(refused) == ["COST_LIMIT"]
        error = refused["errors"][0]
        requested = 2 + 100 * (3 + 10 * 2)
        assert error["extensions"] == {"code": "COST_LIMIT", "cost": requested, "limit": 1000}
        assert f"may cost {requested}, more than the 1000" in error["message"]
        assert refused["extensions"]["cost"] == {"requested": requested, "actual": 0, "limit": 1000}
        # The same document is within an agency's limit.
        allowed = await api.as_("opd_officer").query(document)
        assert "errors" not in allowed
        assert allowed["extensions"]["cost"]["limit"] == 50_000
    finally:
        await close_api(api)


async def test_the_request_limit_applies_to_every_role(city: Api) -> None:
    api = await make_api(
        city.app.state.settings.database_url,
        edge=EdgeSettings(rate_limits=False, cost_in_response=True, max_cost=30),
    )
    try:
        body = await api.query("{ needs(first: 40) { nodes { id } } }")
        assert codes(body) == ["COST_LIMIT"] and body["errors"][0]["extensions"]["limit"] == 30
        # Introspection counts each field once (GraphiQL's own query stays cheap enough).
        fine = await api.query("{ needs(first: 20) { nodes { id } } }")
        assert "errors" not in fine
    finally:
        await close_api(api)


def test_actual_cost_counts_one_per_field_once_per_item() -> None:
    from hub.graphql.cost import actual_cost

    page = {
        "needs": {
            "pageInfo": {"hasNextPage": True, "endCursor": "x"},
            "nodes": [{"id": "a", "citizen": {"nik": "1", "sex": "F"}, "tags": [1, 2]}] * 3,
        },
        "empty": [],
        "nothing": None,
    }
    # needs, empty, nothing; pageInfo, nodes; hasNextPage, endCursor; and per node id,
    # citizen, tags, nik and sex (list items count nothing themselves).
    assert actual_cost(page) == 3 + 2 + 2 + 3 * 5
    assert actual_cost(None) == 0
    assert actual_cost([{"a": [{"b": 1}]}]) == 2
