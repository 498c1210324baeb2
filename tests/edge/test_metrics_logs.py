"""`/metrics` after a journey, its protection, and the JSON logs of that journey: an access
line per request, and no NIK, name, secret or token anywhere in them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from hub.audit.keys import dump_key_bundle, generate_pepper
from hub.audit.settings import AuditSettings
from hub.db import create_engine, session_factory, transaction
from hub.edge.logs import JsonFormatter
from hub.edge.settings import EdgeSettings
from hub.organizations import service
from tests.support.api import close_api, make_api

SERIES = (
    'hub_graphql_requests_total{operation="citizens",outcome="ok",role="dinsos_admin"}',
    'hub_graphql_requests_total{operation="citizen",outcome="invalid",role="dinsos_admin"}',
    "hub_graphql_request_duration_seconds_bucket",
    "hub_graphql_request_cost_bucket",
    'hub_http_requests_total{route="/oauth/token",status="401"}',
    'hub_db_pool_connections_in_use{pool="requests"}',
    'hub_db_pool_connections_in_use{pool="audit"}',
    "hub_audit_queue_depth",
    "hub_audit_group_commit_batch_size_bucket",
    "hub_audit_head_races_total",
    "hub_audit_last_checkpoint_timestamp_seconds",
    'hub_rate_limit_refusals_total{family="token-client"}',
)


class Captured(logging.Handler):
    """Every record of the hub's loggers, formatted as the hub writes them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # HUB_LOG_LEVEL=info, the default
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


async def test_a_journey_shows_in_metrics_and_logs_nothing_personal_or_secret(
    fresh_city_database_url: str, captured: Captured
) -> None:
    api = await make_api(
        fresh_city_database_url, edge=EdgeSettings(token_failure_limits_client="2/minute")
    )
    engine = create_engine(fresh_city_database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            issued = await service.create_client(
                session,
                organization_code="DINKES",
                roles=["opd_officer"],
                hasher=api.app.state.auth.hasher,
            )
        assert issued.secret is not None
        client_id, secret = issued.client.client_id, issued.secret
        # The journey: tokens (one refused until the lockout), reads of personal data by
        # listing and by NIK, a bad NIK, a refused bearer.
        form = {"grant_type": "client_credentials"}
        token = (await api.client.post("/oauth/token", data=form, auth=(client_id, secret))).json()[
            "access_token"
        ]
        for _ in range(3):
            await api.client.post("/oauth/token", data=form, auth=(client_id, "wrong-secret-x"))
        people = await api.data("{ citizens(first: 5) { nodes { nik fullName phone } } }")
        nodes = people["citizens"]["nodes"]
        niks = [n["nik"] for n in nodes]
        names = [n["fullName"] for n in nodes]
        found = await api.data(
            "query P($nik: NIK!) { citizen(nik: $nik) { fullName } }", {"nik": niks[0]}
        )
        assert found["citizen"]["fullName"] == names[0]
        bad = await api.query(
            "query P($nik: NIK!) { citizen(nik: $nik) { id } }", {"nik": niks[1][:-1] + "x"}
        )
        assert bad["errors"]
        as_agency = await api.client.post(
            "/graphql",
            json={"query": "{ me { clientId } }"},
            headers={"authorization": f"Bearer {token}"},
        )
        assert as_agency.status_code == 200
        refused = await api.client.post(
            "/graphql",
            json={"query": "{ me { clientId } }"},
            headers={"authorization": "Bearer " + token[:-4] + "AAAA"},
        )
        assert refused.status_code == 401
        bearer = api.headers()["authorization"].split()[1]

        exposition = (await api.client.get("/metrics")).text
        for series in SERIES:
            assert series in exposition, series
    finally:
        await engine.dispose()
        await close_api(api)

    logs = "\n".join(captured.lines)
    secrets = [secret, "wrong-secret-x", token, bearer]
    for value in [*niks, *names, *secrets]:
        assert value not in logs, value
    access = [orjson.loads(line) for line in captured.lines if '"logger":"hub.access"' in line]
    graphql = [line for line in access if line["route"] == "/graphql"]
    assert {"request_id", "client", "organization", "operation", "outcome", "duration_ms"} <= set(
        graphql[0]
    )
    assert any(line["operation"] == "citizens" and line["outcome"] == "ok" for line in graphql)
    tokens = [line["status"] for line in access if line["route"] == "/oauth/token"]
    assert tokens == [200, 401, 401, 429]


async def test_metrics_need_the_token_when_one_is_set(city_database_url: str) -> None:
    api = await make_api(
        city_database_url,
        edge=EdgeSettings(rate_limits=False, metrics_token=SecretStr("scrape-me-0123456789")),
    )
    try:
        assert (await api.client.get("/metrics")).status_code == 404
        wrong = await api.client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 404
        right = await api.client.get(
            "/metrics", headers={"authorization": "Bearer scrape-me-0123456789"}
        )
        assert right.status_code == 200 and "hub_http_requests_total" in right.text
    finally:
        await close_api(api)


async def test_metrics_are_off_in_production_without_a_token(city_database_url: str) -> None:
    audit = AuditSettings(
        key_pem=SecretStr(dump_key_bundle([Ed25519PrivateKey.generate()])),
        pepper=SecretStr(generate_pepper()),
    )
    api = await make_api(city_database_url, environment="production", audit=audit)
    try:
        assert (await api.client.get("/metrics")).status_code == 404
    finally:
        await close_api(api)


def test_the_formatter_writes_one_json_object_per_line() -> None:
    record = logging.makeLogRecord(
        {"name": "hub.x", "levelname": "INFO", "msg": "a %s", "args": ("b",), "request_id": "r1"}
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert orjson.loads(line) | {"time": None} == {
        "time": None,
        "level": "info",
        "logger": "hub.x",
        "message": "a b",
        "request_id": "r1",
    }
