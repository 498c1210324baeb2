"""Trusted documents and Apollo's automatic persisted queries, through HTTP: `documentId`
and `extensions.persistedQuery` on POST and GET, Apollo's answers and statuses, the APQ
store in memory and in the real Redis shared by two hubs, the allow-list per role, and the
audit trail naming the document."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from typer.testing import CliRunner

from hub.audit.models import AuditEventRecord
from hub.cli import app as cli
from hub.db import create_engine, session_factory
from hub.edge.apq import MemoryStore
from hub.edge.documents import Catalogue
from hub.edge.settings import EdgeSettings
from hub.env import SettingsError
from tests.support.api import Api, close_api, make_api

REDIS_URL = "redis://127.0.0.1:6379/0"
MANIFEST = Path(__file__).parents[2] / "schema" / "operations" / "manifest.json"
STATS = Path(__file__).parents[2] / "schema" / "operations" / "stats.graphql"
#: Free-form documents, not in the catalogue.
FREE = "{ me { clientId } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apq(sha: str, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def stats_id() -> str:
    return sha256(STATS.read_bytes().decode("utf-8"))


async def send(api: Api, **body: Any) -> httpx.Response:
    return await api.client.post("/graphql", json=body, headers=api.headers())


async def send_get(api: Api, **params: Any) -> httpx.Response:
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    return await api.client.get(
        "/graphql", params=encoded, headers={**api.headers(), "accept": "application/json"}
    )


async def trail(database_url: str, request_id: str) -> AuditEventRecord:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            query = select(AuditEventRecord).where(AuditEventRecord.request_id == request_id)
            return (await session.execute(query)).scalar_one()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def hub(city_database_url: str) -> AsyncIterator[Api]:
    api = await make_api(city_database_url)
    yield api
    await close_api(api)


@pytest.fixture(scope="module")
async def allow_listed(city_database_url: str) -> AsyncIterator[Api]:
    """Foundations may run the trusted documents only; agencies anything."""
    edge = EdgeSettings(
        rate_limits=False, cost_in_response=False, trusted_documents_only="lks_partner"
    )
    api = await make_api(city_database_url, edge=edge)
    yield api
    await close_api(api)


def test_the_committed_manifest_is_current() -> None:
    directory = MANIFEST.parent
    assert (
        MANIFEST.read_text(encoding="utf-8") == Catalogue.from_directory(directory).manifest_json()
    ), "schema/operations/manifest.json is stale: run `hub documents export` and commit it"


def test_the_manifest_is_apollos_and_ids_are_the_files_sha256() -> None:
    manifest = json.loads(MANIFEST.read_bytes())
    assert manifest["format"] == "apollo-persisted-query-manifest"
    assert manifest["version"] == 1
    by_name = {entry["name"]: entry for entry in manifest["operations"]}
    assert set(by_name) >= {"PublicStats", "LksNeedsFeed", "LksRecordContribution"}
    assert by_name["PublicStats"]["id"] == hashlib.sha256(STATS.read_bytes()).hexdigest()
    assert by_name["LksRecordContribution"]["type"] == "mutation"
    for entry in manifest["operations"]:
        assert entry["id"] == sha256(entry["body"])


def test_a_tampered_manifest_is_refused(tmp_path: Path) -> None:
    manifest = json.loads(MANIFEST.read_bytes())
    manifest["operations"][0]["body"] += "\n# changed"
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="but its body's SHA-256 is"):
        Catalogue.load(tmp_path / "m.json")


def totals(response: httpx.Response) -> dict[str, Any]:
    """PublicStats' answer without its moment (`asOf`)."""
    assert response.status_code == 200, response.text
    stats: dict[str, Any] = response.json()["data"]["stats"]
    return {k: v for k, v in stats.items() if k != "asOf"}


async def test_a_document_id_runs_its_document_on_post_and_get(hub: Api) -> None:
    foundation = hub.as_("lks_partner")
    by_text = totals(await foundation.post(STATS.read_text()))
    for document_id in (stats_id(), f"sha256:{stats_id()}"):
        assert totals(await send(foundation, documentId=document_id)) == by_text
        assert totals(await send_get(foundation, documentId=document_id)) == by_text


async def test_bad_and_unknown_document_ids_are_coded(hub: Api) -> None:
    foundation = hub.as_("lks_partner")
    unknown = await send(foundation, documentId=sha256("nothing"))
    assert unknown.status_code == 404
    assert codes(unknown.json()) == ["DOCUMENT_NOT_FOUND"]
    assert "manifest" in unknown.json()["errors"][0]["message"]
    for bad in ("abc", 42, "md5:" + "0" * 32):
        answer = await send(foundation, documentId=bad)
        assert answer.status_code == 400, answer.text
        assert codes(answer.json()) == ["BAD_DOCUMENT_ID"]
    both = await send(foundation, documentId=stats_id(), query=FREE)
    assert (both.status_code, codes(both.json())) == (400, ["BAD_DOCUMENT_ID"])


async def test_a_mutation_by_id_over_get_is_405(hub: Api) -> None:
    manifest = json.loads(MANIFEST.read_bytes())
    mutation = next(e for e in manifest["operations"] if e["type"] == "mutation")
    answer = await send_get(hub.as_("lks_partner"), documentId=mutation["id"])
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


def documents_counted(outcome: str) -> float:
    """`hub_graphql_documents_total{outcome}` in this process's metrics."""
    return REGISTRY.get_sample_value("hub_graphql_documents_total", {"outcome": outcome}) or 0.0


async def test_apq_follows_apollos_protocol(hub: Api) -> None:
    outcomes = (
        "persisted_query_not_found",
        "persisted_query_with_text",
        "persisted_query_registered",
        "persisted_query_stored",
        "persisted_query_trusted",
    )
    before = {outcome: documents_counted(outcome) for outcome in outcomes}
    foundation = hub.as_("lks_partner")
    # A document of this test alone, so no other test registered it.
    document = f"query Mine{uuid.uuid4().hex[:8]} {{ me {{ clientId }} }}"
    sha = sha256(document)
    # 1. The hash alone, unknown: 200 and Apollo's exact error, under either media type.
    for accept in ("application/json", "application/graphql-response+json"):
        first = await foundation.client.post(
            "/graphql",
            json={"extensions": apq(sha)},
            headers={**foundation.headers(), "accept": accept},
        )
        assert first.status_code == 200, first.text
        assert first.headers["content-type"].startswith(accept)
        error = first.json()["errors"][0]
        assert error["message"] == "PersistedQueryNotFound"
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        # GraphQL over HTTP: no `data` entry under its own media type, `null` under JSON.
        assert ("data" in first.json()) == (accept == "application/json")
    # 2. Hash and text: checked, stored, run.
    second = await send(foundation, query=document, extensions=apq(sha))
    assert second.status_code == 200
    assert second.json()["data"]["me"]["clientId"] == foundation.identity.client_id
    # 3. The hash alone now runs it, on POST and on GET.
    third = await send(foundation, extensions=apq(sha))
    assert third.json()["data"] == second.json()["data"]
    fourth = await send_get(foundation, extensions=apq(sha))
    assert fourth.status_code == 200, fourth.text
    assert fourth.json()["data"] == second.json()["data"]
    # A manifest document's id is known without registering it.
    known = await send(foundation, extensions=apq(stats_id()))
    assert known.status_code == 200 and "errors" not in known.json()
    # /metrics counts each way: two misses, one registration, two hits, one manifest hash.
    counted = {outcome: documents_counted(outcome) - before[outcome] for outcome in outcomes}
    assert counted == {
        "persisted_query_not_found": 2,
        "persisted_query_with_text": 1,
        "persisted_query_registered": 1,
        "persisted_query_stored": 2,
        "persisted_query_trusted": 1,
    }


async def test_a_hash_that_is_not_its_texts_is_refused_and_nothing_stored(hub: Api) -> None:
    foundation = hub.as_("lks_partner")
    document = f"query Other{uuid.uuid4().hex[:8]} {{ me {{ clientId }} }}"
    wrong = sha256(document + " ")
    refused = await send(foundation, query=document, extensions=apq(wrong))
    assert refused.status_code == 400
    assert codes(refused.json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert "provided sha does not match query" in refused.json()["errors"][0]["message"]
    # The hash was not bound to that text.
    after = await send(foundation, extensions=apq(wrong))
    assert codes(after.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_bad_versions_and_hashes_are_coded(hub: Api) -> None:
    foundation = hub.as_("lks_partner")
    for extension in (apq(sha256(FREE), version=2), apq("xyz"), {"persistedQuery": "x"}):
        answer = await send(foundation, extensions=extension)
        assert answer.status_code == 400, answer.text
        assert codes(answer.json()) == ["BAD_PERSISTED_QUERY"]


async def test_a_document_refused_before_execution_is_not_stored(hub: Api) -> None:
    foundation = hub.as_("lks_partner")
    invalid = f"query Bad{uuid.uuid4().hex[:8]} {{ noSuchField }}"
    answer = await send(foundation, query=invalid, extensions=apq(sha256(invalid)))
    assert codes(answer.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    again = await send(foundation, extensions=apq(sha256(invalid)))
    assert codes(again.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_apq_off_answers_not_supported(city_database_url: str) -> None:
    edge = EdgeSettings(rate_limits=False, cost_in_response=False, apq=False)
    api = await make_api(city_database_url, edge=edge)
    try:
        foundation = api.as_("lks_partner")
        answer = await send(foundation, extensions=apq(sha256(FREE)))
        assert answer.status_code == 200
        assert answer.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
        assert codes(answer.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
        # Trusted documents still run by hash and by id.
        assert "errors" not in (await send(foundation, extensions=apq(stats_id()))).json()
        assert "errors" not in (await send(foundation, documentId=stats_id())).json()
    finally:
        await close_api(api)


async def test_the_allow_list_admits_trusted_documents_only(allow_listed: Api) -> None:
    foundation = allow_listed.as_("lks_partner")
    text = STATS.read_bytes().decode("utf-8")
    # By id, by hash, by exact text: the same answer.
    answers = [
        await send(foundation, documentId=stats_id()),
        await send(foundation, extensions=apq(stats_id())),
        await send(foundation, query=text),
        await send(foundation, query=text, extensions=apq(stats_id())),
    ]
    assert [a.status_code for a in answers] == [200] * 4
    assert all("errors" not in a.json() for a in answers)
    # Anything else is refused, saying what is accepted; registering new text too.
    for refused in (
        await send(foundation, query=FREE),
        await send(foundation, query=text + " "),
        await send(foundation, extensions=apq(sha256(FREE))),
        await send(foundation, query=FREE, extensions=apq(sha256(FREE))),
    ):
        assert refused.status_code == 403, refused.text
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
        assert "documentId" in error["message"] and "lks_partner" in error["message"]
    # Roles not listed keep free-form documents.
    agency = allow_listed.as_("opd_officer")
    assert "errors" not in (await send(agency, query=FREE)).json()


async def test_the_audit_trail_and_the_access_log_name_the_document(
    allow_listed: Api, city_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    foundation = allow_listed.as_("lks_partner")
    with caplog.at_level(logging.INFO, logger="hub.access"):
        by_id = await foundation.client.post(
            "/graphql",
            json={"documentId": f"sha256:{stats_id()}"},
            headers={**foundation.headers(), "x-request-id": (ran := f"doc-{uuid.uuid4().hex}")},
        )
    assert by_id.status_code == 200
    (line,) = [r for r in caplog.records if getattr(r, "request_id", None) == ran]
    assert getattr(line, "document", None) == stats_id()
    event = await trail(city_database_url, ran)
    assert (event.decision, event.document_sha256) == ("ALLOWED", stats_id())
    assert event.operation_name == "PublicStats"
    refused = await foundation.client.post(
        "/graphql",
        json={"query": FREE},
        headers={**foundation.headers(), "x-request-id": (denied := f"doc-{uuid.uuid4().hex}")},
    )
    assert refused.status_code == 403
    event = await trail(city_database_url, denied)
    assert event.decision == "DENIED"
    assert event.document_sha256 == sha256(FREE)
    assert event.reason is not None and event.reason.startswith("DOCUMENT_NOT_TRUSTED: ")
    # An unknown APQ hash: the event names the hash that was asked for.
    unknown = sha256(f"never sent {uuid.uuid4()}")
    await allow_listed.as_("opd_officer").client.post(
        "/graphql",
        json={"extensions": apq(unknown)},
        headers={
            **allow_listed.as_("opd_officer").headers(),
            "x-request-id": (missed := f"doc-{uuid.uuid4().hex}"),
        },
    )
    assert (await trail(city_database_url, missed)).document_sha256 == unknown


async def test_two_hubs_share_registered_documents_in_redis(city_database_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    edge = EdgeSettings(
        rate_limits=False, cost_in_response=False, redis_url=REDIS_URL, rate_limit_prefix=prefix
    )
    one, two = (
        await make_api(city_database_url, edge=edge),
        await make_api(city_database_url, edge=edge),
    )
    try:
        document = f"query Shared{uuid.uuid4().hex[:8]} {{ me {{ clientId }} }}"
        sha = sha256(document)
        assert codes((await send(two.as_("lks_partner"), extensions=apq(sha))).json()) == [
            "PERSISTED_QUERY_NOT_FOUND"
        ]
        registered = await send(one.as_("lks_partner"), query=document, extensions=apq(sha))
        assert "errors" not in registered.json()
        # The other hub (another worker, another machine) knows it now.
        shared = await send(two.as_("lks_partner"), extensions=apq(sha))
        assert shared.status_code == 200 and "errors" not in shared.json(), shared.text
        store = one.app.state.documents.store
        ttl = await store._redis.ttl(store.key(sha))
        assert 0 < ttl <= edge.apq_ttl_seconds
        await store._redis.delete(store.key(sha))
    finally:
        await close_api(one)
        await close_api(two)


async def test_the_memory_store_is_bounded_by_bytes() -> None:
    store = MemoryStore(max_bytes=100)
    await store.put("a", "x" * 40)
    await store.put("b", "y" * 40)
    assert await store.get("a") == "x" * 40  # a is now the most recently used
    await store.put("c", "z" * 40)
    assert (await store.get("b"), store.size) == (None, 80)
    assert await store.get("a") is not None and await store.get("c") is not None
    await store.put("huge", "w" * 101)
    assert await store.get("huge") is None and len(store) == 2


def test_the_ids_the_guides_quote_are_in_the_manifest() -> None:
    ids = {entry["id"] for entry in json.loads(MANIFEST.read_bytes())["operations"]}
    guides = MANIFEST.parents[2] / "partners"
    for guide in ("README.md", "README.id.md"):
        quoted = re.findall(r"sha256:([0-9a-f]{64})", (guides / guide).read_text())
        assert quoted, guide
        assert set(quoted) <= ids, f"partners/{guide} quotes an id the manifest does not have"


def test_the_allow_list_setting() -> None:
    edge = EdgeSettings.from_env({"HUB_TRUSTED_DOCUMENTS_ONLY": "lks_partner, opd_officer"})
    assert edge.trusted_documents_only == {"lks_partner", "opd_officer"}
    assert edge.trusted_only(("lks_partner",)) and edge.trusted_only(("auditor", "opd_officer"))
    assert not edge.trusted_only(("auditor",)) and not EdgeSettings().trusted_only(("x",))
    every = EdgeSettings.from_env({"HUB_TRUSTED_DOCUMENTS_ONLY": "*"})
    assert every.trusted_only(("auditor",)) and not every.trusted_only(("anonymous",))
    with pytest.raises(SettingsError, match="HUB_TRUSTED_DOCUMENTS_ONLY"):
        EdgeSettings.from_env({"HUB_TRUSTED_DOCUMENTS_ONLY": "LKS Partner"})


def test_hub_documents_export_writes_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "manifest.json"
    done = CliRunner().invoke(cli, ["documents", "export", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == MANIFEST.read_bytes()
    # A document that does not validate against the schema is refused, naming its file.
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "bad.graphql").write_text("query Bad { noSuchField }\n")
    done = CliRunner().invoke(
        cli, ["documents", "export", "--from", str(tmp_path / "ops"), "--out", str(out)]
    )
    assert done.exit_code == 1
    assert "bad.graphql" in done.output and "noSuchField" in done.output


async def test_a_redis_that_does_not_answer_never_refuses_a_request(
    city_database_url: str,
) -> None:
    # Nothing listens on port 1: every read is a miss and every write is dropped (logged).
    edge = EdgeSettings(
        rate_limits=False, cost_in_response=False, redis_url="redis://127.0.0.1:1/0"
    )
    api = await make_api(city_database_url, edge=edge)
    try:
        foundation = api.as_("lks_partner")
        sha = sha256(FREE)
        missed = await send(foundation, extensions=apq(sha))
        assert (missed.status_code, codes(missed.json())) == (200, ["PERSISTED_QUERY_NOT_FOUND"])
        ran = await send(foundation, query=FREE, extensions=apq(sha))
        assert ran.status_code == 200 and "errors" not in ran.json(), ran.text
        # Trusted documents need no store at all.
        assert "errors" not in (await send(foundation, documentId=stats_id())).json()
    finally:
        await close_api(api)
