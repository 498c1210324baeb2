"""Every /graphql request leaves an audit event with its reason, however early it is refused.

Each case goes through real HTTP to the app and then reads the event the response's
`X-Request-Id` names straight from the database.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.db import create_engine
from hub.graphql.relay import to_global_id
from tests.support.api import Api


async def event_of(api: Api, response: httpx.Response) -> dict[str, Any]:
    """The one audit event of the request that got `response`."""
    engine = create_engine(str(api.app.state.settings.database_url))
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT * FROM audit_events WHERE request_id = :id"),
                    {"id": response.headers["x-request-id"]},
                )
            ).all()
    finally:
        await engine.dispose()
    assert len(rows) == 1, f"{len(rows)} events for {response.request.url}: {response.text}"
    return dict(rows[0]._mapping)


DEEP = "{ needs { nodes { citizen { household { members { needs { citizen { household { members { needs { citizen { id } } } } } } } } } } } }"  # noqa: E501
ALIASES = "{ " + " ".join(f"a{i}: me {{ clientId }}" for i in range(40)) + " }"
TOKENS = "{ me { " + " ".join(["clientId"] * 2100) + " } }"

#: (case, how to send it, what the event's reason must contain)
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("syntax error", {"json": {"query": "{ needs("}}, "GRAPHQL_PARSE_FAILED"),
    ("token limit", {"json": {"query": TOKENS}}, "GRAPHQL_PARSE_FAILED"),
    ("depth limit", {"json": {"query": DEEP}}, "QUERY_TOO_DEEP"),
    ("alias limit", {"json": {"query": ALIASES}}, "TOO_MANY_ALIASES"),
    (
        "unknown operationName",
        {"json": {"query": "query A { me { clientId } }", "operationName": "B"}},
        "UNKNOWN_OPERATION",
    ),
    ("JSON batch", {"json": [{"query": "{ me { clientId } }"}]}, "atch"),
    (
        "body too large",
        {
            "content": b'{"query": "{ me { clientId } }", "x": "' + b"a" * 1_100_000 + b'"}',
            "headers": {"content-type": "application/json"},
        },
        "413",
    ),
    (
        "form post",
        {"data": {"query": "{ me { clientId } }"}},
        "Unsupported content type",
    ),
    (
        "not UTF-8",
        {
            "content": b'{"query": "{ me { clientId \xff } }"}',
            "headers": {"content-type": "application/json"},
        },
        "400",
    ),
]


@pytest.mark.parametrize(("case", "send", "reason"), CASES, ids=[c[0] for c in CASES])
async def test_a_request_refused_before_execution_is_recorded(
    city: Api, case: str, send: dict[str, Any], reason: str
) -> None:
    api = city.as_("opd_officer")
    headers = {**api.headers(), **send.pop("headers", {})} if "headers" in send else api.headers()
    response = await api.client.post("/graphql", headers=headers, **send)
    event = await event_of(api, response)
    assert event["decision"] == "DENIED", (case, response.text)
    assert reason in (event["reason"] or ""), (case, event["reason"], response.text)
    if case != "body too large":  # refused before the token is even read
        assert event["client_id"] == api.identity.client_id
        assert event["organization_code"] == "DINKES"


async def test_a_get_mutation_is_recorded(city: Api) -> None:
    api = city.as_("dinsos_admin")
    response = await api.client.get(
        "/graphql",
        params={"query": 'mutation { releasePledge(id: "x", reason: "y") { need { id } } }'},
        headers=api.headers(),
    )
    assert response.status_code >= 400
    event = await event_of(api, response)
    assert event["decision"] == "DENIED"
    assert "METHOD_NOT_ALLOWED" in event["reason"]


async def test_a_request_without_a_good_token_is_recorded(city: Api) -> None:
    response = await city.client.post("/graphql", json={"query": "{ needs { totalCount } }"})
    assert response.status_code == 401
    event = await event_of(city, response)
    assert (event["decision"], event["reason"]) == ("DENIED", "UNAUTHENTICATED: Query.needs")
    assert event["client_id"] == "anonymous"
    response = await city.client.post(
        "/graphql",
        json={"query": "{ needs { totalCount } }"},
        headers={"authorization": "Bearer x.y.z"},
    )
    event = await event_of(city, response)
    assert event["decision"] == "DENIED" and event["reason"].startswith("401 UNAUTHENTICATED")


async def test_a_lookup_the_row_rules_hid_is_a_refused_reach(city: Api) -> None:
    lks = city.as_("lks_partner")
    # A need far outside any foundation's reach: closed long ago, never pledged by it.
    engine = create_engine(str(city.app.state.settings.database_url))
    async with engine.connect() as connection:
        hidden = (
            await connection.execute(
                text(
                    "SELECT id FROM needs WHERE status = 'CLOSED' AND id NOT IN "
                    "(SELECT need_id FROM pledges WHERE organization_id = :org) ORDER BY id"
                ),
                {"org": lks.identity.organization_id},
            )
        ).scalar()
    await engine.dispose()
    document = "query($id: ID!) { node(id: $id) { id } }"
    response = await lks.post(document, {"id": to_global_id("Need", hidden)})
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    event = await event_of(lks, response)
    assert (event["decision"], event["reason"]) == ("DENIED", "ROW_RULE: Need")

    # A record that does not exist at all is an allowed lookup that found nothing.
    response = await lks.post(document, {"id": to_global_id("Need", 10**9)})
    event = await event_of(lks, response)
    assert (event["decision"], event["reason"]) == ("ALLOWED", "errors: NOT_FOUND")

    # The same for a person looked up by NIK: null to the client, DENIED on the trail.
    opd = city.as_("opd_officer")
    nik = await opd.data("{ citizens(first: 1, filter: {hasDisability: true}) { nodes { nik } } }")
    response = await lks.post(
        "query($nik: NIK!) { citizen(nik: $nik) { ageBand } }",
        {"nik": nik["citizens"]["nodes"][0]["nik"]},
    )
    if response.json()["data"]["citizen"] is None:
        event = await event_of(lks, response)
        assert (event["decision"], event["reason"]) == ("DENIED", "ROW_RULE: Citizen")


async def test_a_mutation_on_a_record_the_row_rules_hide_is_a_refused_reach(
    fresh_city: Api,
) -> None:
    lks = fresh_city.as_("lks_partner")
    engine = create_engine(str(fresh_city.app.state.settings.database_url))
    async with engine.connect() as connection:
        hidden = (
            await connection.execute(
                text("SELECT id FROM needs WHERE status = 'CLOSED' ORDER BY id")
            )
        ).scalar()
    await engine.dispose()
    response = await lks.post(
        'mutation($id: ID!) { releasePledge(id: $id, reason: "x") { errors { code } } }',
        {"id": to_global_id("Need", hidden)},
    )
    assert response.json()["data"]["releasePledge"]["errors"] == [{"code": "NEED_NOT_FOUND"}]
    event = await event_of(lks, response)
    assert (event["decision"], event["reason"]) == ("DENIED", "ROW_RULE: Need")


async def test_a_tracking_code_is_never_in_the_trail_in_clear(city: Api) -> None:
    response = await city.client.post(
        "/graphql",
        json={
            "query": "query($c: String!) { trackRequest(trackingCode: $c) { status } }",
            "variables": {"c": "YJ-0000-0000", "trackingCode": "YJ-1111-1111"},
        },
    )
    event = await event_of(city, response)
    assert "YJ-1111-1111" not in str(event["variables"])
