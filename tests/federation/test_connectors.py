"""Connected fields: one call per connector per request, partial results, policy and audit."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY

from hub.federation.connectors import BREAKER_THRESHOLD
from hub.graphql.relay import from_global_id
from tests.authz.test_delivery_details import pledge_open_need
from tests.federation.audit import event_of
from tests.federation.conftest import CLIENT_SECRET_ENV, SECRET_ENV, Agency
from tests.federation.servers import agency_record
from tests.support.api import Api

REGISTER = """mutation($input: RegisterConnectorInput!) { registerConnector(input: $input) {
  connector { name url fields key timeoutMs auth active } errors { code message } } }"""
PAGE = """query($n: Int!) { citizens(first: $n) { nodes { id nik ageBand
  healthCoverage { bpjsStatus bpjsClass subsidised checkedAt }
  schooling { kipStatus level } } } }"""


async def register(api: Api, **fields: Any) -> dict[str, Any]:
    """Register a connector as Dinsos; return the payload."""
    data = await api.as_("dinsos_admin").data(REGISTER, {"input": fields})
    payload: dict[str, Any] = data["registerConnector"]
    return payload


def dinkes(
    agency: Agency, *, name: str = "dinkes", query: str = "", **extra: Any
) -> dict[str, Any]:
    """A registration of the example agency for both connected fields."""
    return {
        "name": name,
        "url": agency.url + query,
        "fields": ["healthCoverage", "schooling"],
        "auth": "BEARER",
        "secretRef": f"env:{SECRET_ENV}",
        "organization": "DINKES",
        **extra,
    }


async def _query(api: Api, document: str, variables: dict[str, Any]) -> tuple[dict[str, Any], str]:
    request_id = f"conn-{uuid.uuid4().hex}"
    return await api.query(document, variables, **{"x-request-id": request_id}), request_id


async def test_connected_fields_come_from_one_call_and_are_audited(
    fresh_city: Api, agency: Agency
) -> None:
    payload = await register(fresh_city, **dinkes(agency))
    assert payload["errors"] == []
    assert payload["connector"] == {
        "name": "dinkes",
        "url": agency.url,
        "fields": ["healthCoverage", "schooling"],
        "key": "NIK",
        "timeoutMs": 2000,
        "auth": "BEARER",
        "active": True,
    }
    opd = fresh_city.as_("opd_officer", purpose="ELIGIBILITY_CHECK")
    before = await agency.requests()
    body, request_id = await _query(opd, PAGE, {"n": 50})
    assert "errors" not in body, body["errors"]
    assert await agency.requests() == before + 1  # 50 citizens, two fields: one call
    people = body["data"]["citizens"]["nodes"]
    for person in people:
        expected = agency_record(person["nik"])
        assert person["healthCoverage"]["bpjsStatus"] == expected["bpjs_status"]
        assert person["schooling"]["kipStatus"] == expected["kip_status"]
    event = await event_of(str(fresh_city.app.state.settings.database_url), request_id)
    some = int(from_global_id(people[0]["id"])[1])
    assert {
        "Citizen.healthCoverage",
        "Citizen.schooling",
        "connector:dinkes",
        "Citizen.nik",
    } <= set(event.citizens[some])
    assert len(event.citizens) == 50


async def test_the_policy_levels_connected_fields_and_unshown_people_are_not_sent(
    fresh_city: Api, agency: Agency
) -> None:
    assert (await register(fresh_city, **dinkes(agency)))["errors"] == []
    lks = fresh_city.as_("lks_partner", purpose="SERVICE_DELIVERY")
    need_id = await pledge_open_need(lks, expires_in=dt.timedelta(days=14))
    document = """query($n: Int!) { needs(first: $n) { nodes { id status citizen { id
      healthCoverage { bpjsStatus } schooling { kipStatus } } } } }"""
    before = await agency.requests()
    body, request_id = await _query(lks, document, {"n": 30})
    assert "errors" not in body, body
    nodes = body["data"]["needs"]["nodes"]
    pledged = [n for n in nodes if int(from_global_id(n["id"])[1]) == need_id]
    others = [n for n in nodes if n not in pledged]
    assert pledged and others
    # Health coverage: never for a foundation. Schooling: only for the person it pledged.
    assert all(n["citizen"]["healthCoverage"] is None for n in nodes)
    assert pledged[0]["citizen"]["schooling"] is not None
    assert all(n["citizen"]["schooling"] is None for n in others)
    assert await agency.requests() == before + 1
    event = await event_of(str(fresh_city.app.state.settings.database_url), request_id)
    pledged_citizen = int(from_global_id(pledged[0]["citizen"]["id"])[1])
    assert event.citizens[pledged_citizen] == ["Citizen.schooling", "connector:dinkes"]
    assert all(
        "Citizen.schooling" not in f for c, f in event.citizens.items() if c != pledged_citizen
    )

    # Without a purpose, not even the pledged person's schooling: no call at all.
    before = await agency.requests()
    body = await lks.as_("lks_partner", purpose=None).query(document, {"n": 30})
    assert all(n["citizen"]["schooling"] is None for n in body["data"]["needs"]["nodes"])
    assert await agency.requests() == before

    # An agency reads health coverage only for the purposes the policy lists for it.
    verifying = fresh_city.as_("opd_officer", purpose="VERIFICATION")
    before = await agency.requests()
    body = await verifying.query(PAGE, {"n": 5})
    assert "errors" not in body, body
    for person in body["data"]["citizens"]["nodes"]:
        assert person["healthCoverage"] is None  # not for VERIFICATION
        assert person["schooling"]["kipStatus"] == agency_record(person["nik"])["kip_status"]
    assert await agency.requests() == before + 1

    # An auditor reaches no citizen's connected fields (no row, no level).
    auditor = fresh_city.as_("auditor", purpose="AUDIT")
    body = await auditor.query(
        "{ contributions(first: 5) { nodes { citizen { healthCoverage { bpjsStatus } } } } }"
    )
    assert all(n["citizen"] is None or n["citizen"]["healthCoverage"] is None
               for n in body["data"]["contributions"]["nodes"])  # fmt: skip


@pytest.mark.parametrize(
    ("name", "query", "reason"),
    [
        ("dinkes-slow", "?sleep=20", "no answer within 300 ms"),
        ("dinkes-down", "?fail=500", "HTTP 500"),
    ],
)
async def test_a_slow_or_failing_connector_gives_a_partial_result(
    fresh_city: Api, agency: Agency, name: str, query: str, reason: str
) -> None:
    assert (await register(fresh_city, **dinkes(agency, name=name, query=query, timeoutMs=300)))[
        "errors"
    ] == []
    opd = fresh_city.as_("opd_officer", purpose="ELIGIBILITY_CHECK")
    durations = []
    # As many requests as the breaker tolerates: each one really calls the connector.
    for _ in range(BREAKER_THRESHOLD):
        started = time.perf_counter()
        body = await opd.query(PAGE, {"n": 20})
        durations.append(time.perf_counter() - started)
        people = body["data"]["citizens"]["nodes"]
        assert len(people) == 20 and all(p["nik"] and p["ageBand"] for p in people)
        assert all(p["healthCoverage"] is None and p["schooling"] is None for p in people)
        paths = {tuple(e["path"]) for e in body["errors"]}
        assert paths == {
            ("citizens", "nodes", i, field)
            for i in range(20)
            for field in ("healthCoverage", "schooling")
        }
        for error in body["errors"]:
            assert error["extensions"]["code"] == "CONNECTOR_UNAVAILABLE"
            assert error["extensions"]["connector"] == name
            assert error["extensions"]["reason"] == reason
    # Abandoned at the timeout, never waited for: the agency would take 20 s. The bound is
    # far from both (a page takes about 0.35 s here) so that a loaded machine cannot fail it;
    # the reason checked above says it was the 300 ms timeout that gave up.
    assert max(durations) < 10, durations


def sample(name: str, **labels: str) -> float | None:
    """A series of this process's metrics (`/metrics` in one worker)."""
    return REGISTRY.get_sample_value(name, labels)


async def test_the_circuit_opens_after_repeated_failures(fresh_city: Api, agency: Agency) -> None:
    assert (await register(fresh_city, **dinkes(agency, name="dinkes-flaky", query="?fail=503")))[
        "errors"
    ] == []
    opd = fresh_city.as_("opd_officer", purpose="ELIGIBILITY_CHECK")
    document = "{ citizens(first: 2) { nodes { healthCoverage { bpjsStatus } } } }"
    before = await agency.requests()
    for _ in range(BREAKER_THRESHOLD):
        body = await opd.query(document)
        assert body["errors"][0]["extensions"]["reason"] == "HTTP 503"
    assert await agency.requests() == before + BREAKER_THRESHOLD
    body = await opd.query(document)
    assert body["errors"][0]["extensions"]["reason"].startswith("not called for 30 s")
    assert await agency.requests() == before + BREAKER_THRESHOLD  # not called at all
    # /metrics: five bad answers, timed; one call refused by the open circuit, not timed.
    connector = {"connector": "dinkes-flaky"}
    assert sample("hub_connector_calls_total", **connector, outcome="bad_answer") == 5
    assert sample("hub_connector_calls_total", **connector, outcome="circuit_open") == 1
    assert sample("hub_connector_call_duration_seconds_count", **connector) == 5
    assert sample("hub_connector_circuit_open", **connector) == 1


async def test_an_answer_outside_the_contract_is_a_failed_connector(
    fresh_city: Api, agency: Agency
) -> None:
    registration = dinkes(agency, name="dinkes-garbled", query="?garble=1")
    assert (await register(fresh_city, **registration))["errors"] == []
    body = await fresh_city.as_("opd_officer").query(
        "{ citizens(first: 2) { nodes { nik healthCoverage { bpjsStatus } } } }"
    )
    assert [p["nik"] is not None for p in body["data"]["citizens"]["nodes"]] == [True, True]
    assert {e["extensions"]["reason"] for e in body["errors"]} == {
        "its healthCoverage is outside the contract"
    }
    assert {tuple(e["path"]) for e in body["errors"]} == {
        ("citizens", "nodes", 0, "healthCoverage"),
        ("citizens", "nodes", 1, "healthCoverage"),
    }


async def test_a_wrong_credential_is_a_failed_connector_not_a_failed_request(
    fresh_city: Api, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-the-token")
    assert (await register(fresh_city, **dinkes(agency, name="dinkes-badkey")))["errors"] == []
    body = await fresh_city.as_("opd_officer").query(
        "{ citizens(first: 1) { nodes { nik healthCoverage { bpjsStatus } } } }"
    )
    assert body["data"]["citizens"]["nodes"][0]["nik"]
    assert body["errors"][0]["extensions"]["reason"] == "HTTP 401"
    assert "not-the-token" not in str(body)


async def test_client_credentials_at_the_agency_token_endpoint(
    fresh_city: Api, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    registration = dinkes(
        agency,
        name="dinkes-oauth",
        auth="CLIENT_CREDENTIALS",
        secretRef=f"env:{CLIENT_SECRET_ENV}",
        tokenUrl=agency.url.replace("/graphql", "/token"),
        clientId="hub",
    )
    assert (await register(fresh_city, **registration))["errors"] == []
    document = "{ citizens(first: 3) { nodes { nik healthCoverage { bpjsStatus } } } }"
    data = await fresh_city.as_("opd_officer").data(document)
    for person in data["citizens"]["nodes"]:
        assert person["healthCoverage"]["bpjsStatus"] == agency_record(person["nik"])["bpjs_status"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "Dinkes!"}, "BAD_NAME"),
        ({"url": "ftp://x"}, "BAD_URL"),
        ({"fields": ["bloodType"]}, "UNKNOWN_FIELD"),
        ({"timeoutMs": 10}, "BAD_TIMEOUT"),
        ({"secretRef": "s3cr3t-token-value"}, "BAD_CREDENTIALS"),
        ({"auth": "CLIENT_CREDENTIALS"}, "BAD_CREDENTIALS"),
        ({"organization": "NOPE"}, "UNKNOWN_ORGANIZATION"),
    ],
)
async def test_registrations_are_checked(
    city: Api, agency: Agency, change: dict[str, Any], code: str
) -> None:
    payload = await register(city, **{**dinkes(agency), **change})
    assert payload["connector"] is None
    assert [e["code"] for e in payload["errors"]] == [code]
    assert "s3cr3t" not in str(payload)


async def test_a_field_has_one_source(fresh_city: Api, agency: Agency) -> None:
    assert (await register(fresh_city, **dinkes(agency)))["errors"] == []
    payload = await register(fresh_city, **dinkes(agency, name="disdik", fields=["schooling"]))
    assert [e["code"] for e in payload["errors"]] == ["FIELD_TAKEN"]
    # Registering a name again updates it.
    again = await register(fresh_city, **dinkes(agency, fields=["healthCoverage"], timeoutMs=900))
    assert again["connector"]["timeoutMs"] == 900
    assert (await register(fresh_city, **dinkes(agency, name="disdik", fields=["schooling"])))[
        "errors"
    ] == []


async def test_without_a_connector_the_fields_are_null(city: Api) -> None:
    data = await city.as_("opd_officer").data(
        "{ citizens(first: 3) { nodes { healthCoverage { bpjsStatus } schooling { level } } } }"
    )
    assert all(n == {"healthCoverage": None, "schooling": None} for n in data["citizens"]["nodes"])
