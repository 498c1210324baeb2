"""A citizen follows their reported need by its tracking code, without a token."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from sqlalchemy import text

from hub.db import create_engine
from hub.graphql.relay import to_global_id
from hub.tracking.codes import ALPHABET, digest, format_code, new_code, normalise
from tests.support import documents as doc
from tests.support.api import Api

CODE = re.compile(r"YJ-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
REPORT = """mutation($input: ReportNeedInput!) {
  reportNeed(input: $input) { trackingCode need { id status } errors { code message } } }"""
TRACK = """query($code: String!) { trackRequest(trackingCode: $code) {
  status labelId labelEn categoryId categoryEn reportedOn
  timeline { status labelId labelEn on organization } } }"""
REISSUE = """mutation($id: ID!) { reissueTrackingCode(needId: $id) {
  trackingCode errors { code message } } }"""


def test_codes_are_read_back_however_they_are_typed() -> None:
    code = new_code()
    assert CODE.fullmatch(code), code
    symbols = normalise(code)
    assert symbols is not None and format_code(symbols) == code
    assert normalise(code.lower().replace("-", " ")) == symbols
    assert normalise("yj-7kq4-92mx") == normalise("YJ 7KQ4 92MX") == "7KQ492MX"
    # Read aloud, O is zero and I or L is one; U is never part of a code.
    assert normalise("YJ-OILO-0000") == "01100000"
    assert normalise("YJ-UUUU-0000") is None and normalise("YJ-123") is None
    assert set("ILOU").isdisjoint(ALPHABET) and len(ALPHABET) == 32
    assert digest(symbols) != digest("0" * 8)


def public(api: Api, address: str) -> httpx.AsyncClient:
    """A client without a token, calling from `address`."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app, client=(address, 4000)),
        base_url="http://127.0.0.1:8000",
    )


async def track(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": TRACK, "variables": {"code": code}})


async def sql(api: Api, statement: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(str(api.app.state.settings.database_url))
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return [dict(r._mapping) for r in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def reported_need(api: Api) -> tuple[str, str, dict[str, Any]]:
    """An agency reports a need the test foundation may pledge; (need id, code, person)."""
    lks = api.as_("lks_partner")
    org = lks.identity.organization_id
    person = (
        await sql(
            api,
            "SELECT c.id, c.nik, c.full_name, h.address, n.category_code FROM needs n "
            "JOIN citizens c ON c.id = n.citizen_id JOIN households h ON h.id = c.household_id "
            "WHERE n.status = 'OPEN' AND n.kecamatan_code IN (SELECT kecamatan_code FROM "
            "organization_areas WHERE organization_id = :org) AND n.category_code IN "
            "(SELECT category_code FROM organization_categories WHERE organization_id = :org) "
            "ORDER BY n.id LIMIT 1",
            org=org,
        )
    )[0]
    opd = api.as_("opd_officer")
    reported = (
        await opd.data(
            REPORT,
            {
                "input": {
                    "citizen": to_global_id("Citizen", person["id"]),
                    "category": person["category_code"],
                    "description": "Butuh kursi roda untuk ibu",
                    "severity": "HIGH",
                }
            },
        )
    )["reportNeed"]
    assert reported["errors"] == []
    return reported["need"]["id"], reported["trackingCode"], person


async def test_a_citizen_follows_a_need_from_report_to_delivery(fresh_city: Api) -> None:
    need_id, code, person = await reported_need(fresh_city)
    assert CODE.fullmatch(code)
    async with public(fresh_city, "10.0.0.1") as citizen:
        first = (await track(citizen, code.lower())).json()
        assert "errors" not in first, first
        assert first["data"]["trackRequest"]["status"] == "REPORTED"
        assert first["data"]["trackRequest"]["labelId"] == "Dilaporkan"

        await fresh_city.as_("dinsos_admin").data(doc.VERIFY, {"id": need_id})
        lks = fresh_city.as_("lks_partner")
        assert (await lks.data(doc.PLEDGE, {"id": need_id}))["pledgeNeed"]["errors"] == []
        closed = await lks.data(doc.CLOSE, {"id": need_id, "outcome": "FULFILLED"})
        assert closed["closeNeed"]["errors"] == []

        body = (await track(citizen, code)).json()
    tracked = body["data"]["trackRequest"]
    steps = [(s["status"], s["organization"]) for s in tracked["timeline"]]
    foundation = (
        await sql(
            fresh_city,
            "SELECT name FROM organizations WHERE id = :id",
            id=lks.identity.organization_id,
        )
    )[0]["name"]
    assert steps == [
        ("REPORTED", None),
        ("VERIFIED", None),
        ("OPEN", None),
        ("PLEDGED", foundation),  # the policy lets the public see who helps
        ("FULFILLED", None),
    ]
    assert tracked["status"] == "FULFILLED" and tracked["labelEn"] == "Help delivered"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", s["on"]) for s in tracked["timeline"])
    text_ = json.dumps(body, ensure_ascii=False)
    for secret in (person["nik"], person["full_name"], person["address"], "kursi roda"):
        assert secret not in text_

    # On the trail: an anonymous lookup that showed this person's need status.
    events = await sql(
        fresh_city,
        "SELECT e.client_id, e.roles, e.decision, c.fields FROM audit_events e "
        "JOIN audit_event_citizens c ON c.event_seq = e.seq "
        "WHERE e.operation_name IS NULL OR e.operation_name != 'x' ORDER BY e.seq",
    )
    lookups = [e for e in events if "Need.tracking" in str(e["fields"])]
    assert len(lookups) == 2 and all(e["client_id"] == "anonymous" for e in lookups)
    assert all(e["decision"] == "ALLOWED" for e in lookups)


async def test_lookups_are_rate_limited_per_address(fresh_city: Api) -> None:
    _, code, _ = await reported_need(fresh_city)
    async with public(fresh_city, "10.0.0.2") as guesser, public(fresh_city, "10.0.0.3") as other:
        for _ in range(10):
            assert (await track(guesser, "YJ-0000-0000")).status_code == 200
        refused = await track(guesser, code)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] >= 1
        # Another address is not held back.
        assert (await track(other, code)).json()["data"]["trackRequest"]["status"] == "REPORTED"
    events = await sql(
        fresh_city,
        "SELECT decision, reason FROM audit_events WHERE source_address = '10.0.0.2' ORDER BY seq",
    )
    assert len(events) == 11
    assert events[0]["reason"] == "errors: TRACKING_CODE_NOT_FOUND"
    assert (events[-1]["decision"], events[-1]["reason"]) == (
        "DENIED",
        "RATE_LIMITED: "
        + (
            "Too many tracking lookups from your address; try again in "
            + refused.headers["retry-after"]
            + " seconds."
        ),
    )


async def test_without_a_token_nothing_else_runs(fresh_city: Api) -> None:
    async with public(fresh_city, "10.0.0.4") as anonymous:
        response = await anonymous.post("/graphql", json={"query": "{ needs { totalCount } }"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        mixed = await anonymous.post(
            "/graphql",
            json={
                "query": '{ trackRequest(trackingCode: "YJ-0000-0000") { status } me { clientId } }'
            },
        )
        assert mixed.status_code == 401
        malformed = (await track(anonymous, "nomor saya 12")).json()
        assert malformed["errors"][0]["extensions"]["code"] == "INVALID_TRACKING_CODE"
    # A wrong token is refused even for trackRequest: it is not the same as no token.
    wrong = await fresh_city.client.post(
        "/graphql",
        json={"query": TRACK, "variables": {"code": "YJ-0000-0000"}},
        headers={"authorization": "Bearer x.y.z"},
    )
    assert wrong.status_code == 401


async def test_dinsos_reissues_a_lost_code(fresh_city: Api) -> None:
    need_id, code, _ = await reported_need(fresh_city)
    refused = await fresh_city.as_("opd_officer").query(REISSUE, {"id": need_id})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    new = (await fresh_city.as_("dinsos_admin").data(REISSUE, {"id": need_id}))[
        "reissueTrackingCode"
    ]
    assert new["errors"] == [] and CODE.fullmatch(new["trackingCode"])
    assert new["trackingCode"] != code
    async with public(fresh_city, "10.0.0.5") as citizen:
        old = (await track(citizen, code)).json()
        assert old["errors"][0]["extensions"]["code"] == "TRACKING_CODE_NOT_FOUND"
        assert (await track(citizen, new["trackingCode"])).json()["data"]["trackRequest"]
    missing = (
        await fresh_city.as_("dinsos_admin").data(REISSUE, {"id": to_global_id("Need", 10**9)})
    )["reissueTrackingCode"]
    assert missing["errors"][0]["code"] == "NEED_NOT_FOUND"
    # Only the digest is stored.
    stored = await sql(fresh_city, "SELECT code_sha256 FROM tracking_codes")
    assert not any(new["trackingCode"] in str(row) for row in stored)


async def test_seeded_needs_have_codes(city: Api) -> None:
    counts = await sql(
        city,
        "SELECT (SELECT count(*) FROM needs) AS needs, "
        "(SELECT count(*) FROM tracking_codes) AS codes",
    )
    assert counts[0]["needs"] == counts[0]["codes"] > 0
