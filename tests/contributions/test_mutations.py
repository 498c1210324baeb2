"""`recordContribution` through HTTP: refusals with codes, key reuse, duplicate-aid warnings."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from hub.graphql.relay import to_global_id
from hub.localtime import local_date
from tests.support import documents as doc
from tests.support.api import Api
from tests.support.partners import add_foundations, database_url, partner, sql

TODAY = local_date(dt.datetime.now(dt.UTC))


def _input(citizen_id: int, **fields: Any) -> dict[str, Any]:
    base = {
        "citizen": to_global_id("Citizen", citizen_id),
        "category": "FOOD",
        "kind": "IN_KIND",
        "amount": 400_000,
        "quantity": 2,
        "unit": "paket",
        "deliveredOn": TODAY.isoformat(),
        "idempotencyKey": "contrib-test",
    }
    return {"input": {**base, **fields}}


async def _one(api: Api, statement: str, **params: object) -> dict[str, Any]:
    rows = await sql(database_url(api), statement, **params)
    assert rows, statement
    return rows[0]


async def test_refusals_name_the_reason_and_write_nothing(city: Api) -> None:
    # Refused contributions only: the shared city stays as it is.
    lks = city.as_("lks_partner")
    org = lks.identity.organization_id
    open_need = await _one(
        city,
        "SELECT id, citizen_id, category_code FROM needs WHERE status = 'OPEN' AND "
        "kecamatan_code IN (SELECT kecamatan_code FROM organization_areas WHERE "
        "organization_id = :org) AND category_code IN (SELECT category_code FROM "
        "organization_categories WHERE organization_id = :org) ORDER BY id LIMIT 1",
        org=org,
    )
    others = await _one(
        city,
        "SELECT id, citizen_id FROM needs n WHERE status = 'PLEDGED' AND id NOT IN "
        "(SELECT need_id FROM pledges WHERE organization_id = :org) AND NOT EXISTS (SELECT 1 "
        "FROM needs o LEFT JOIN pledges p ON p.need_id = o.id WHERE o.citizen_id = n.citizen_id "
        "AND (o.status = 'OPEN' OR p.organization_id = :org)) ORDER BY id LIMIT 1",
        org=org,
    )
    person, category = open_need["citizen_id"], open_need["category_code"]
    need = to_global_id("Need", open_need["id"])
    cases = {
        # An OPEN need it may see but has not pledged.
        "NEED_NOT_HELD": _input(person, need=need, category=category),
        # A need another foundation holds: not even visible (its person is not, either).
        "NEED_NOT_FOUND": _input(person, need=to_global_id("Need", others["id"])),
        "CITIZEN_NOT_FOUND": _input(others["citizen_id"]),
        "INVALID_INPUT": _input(person, evidenceSha256="abc"),
        "CATEGORY_NOT_FOUND": _input(person, category="NOT_A_CATEGORY"),
    }
    for code, variables in cases.items():
        payload = (await lks.data(doc.RECORD, variables))["recordContribution"]
        assert [e["code"] for e in payload["errors"]] == [code], (code, payload)
        assert payload["contribution"] is None and payload["created"] is None
    future = (
        await lks.data(
            doc.RECORD, _input(person, deliveredOn=(TODAY + dt.timedelta(days=2)).isoformat())
        )
    )["recordContribution"]
    assert "is in the future" in future["errors"][0]["message"]
    cash_zero = (await lks.data(doc.RECORD, _input(person, kind="CASH", amount=0)))[
        "recordContribution"
    ]
    assert cash_zero["errors"] == [
        {"code": "INVALID_INPUT", "message": "a CASH contribution must have an amount above Rp0"}
    ]
    written = await _one(
        city,
        "SELECT count(*) AS n FROM contributions WHERE idempotency_key = 'contrib-test'",
    )
    assert written["n"] == 0


async def test_earlier_help_is_named_and_a_reused_key_is_refused(fresh_city: Api) -> None:
    url = database_url(fresh_city)
    admin = fresh_city.as_("dinsos_admin")
    dinkes = fresh_city.as_("opd_officer")
    # A person enrolled in a programme of some category, and living somewhere.
    enrolments = await sql(
        url,
        "SELECT e.citizen_id, e.started_on, p.code AS program, p.category_code, h.kecamatan_code "
        "FROM enrolments e JOIN programs p ON p.code = e.program_code "
        "JOIN citizens c ON c.id = e.citizen_id JOIN households h ON h.id = c.household_id "
        "WHERE e.ended_on IS NULL ORDER BY e.id LIMIT 100",
    )
    enrolled = next(e for e in enrolments if str(e["started_on"]) <= TODAY.isoformat())
    person, category = enrolled["citizen_id"], enrolled["category_code"]
    before = await _one(
        fresh_city, "SELECT count(*) AS n FROM contributions WHERE citizen_id = :c", c=person
    )
    [(code, client_id)] = await add_foundations(
        url, "LKS-AID", 1, kecamatan=enrolled["kecamatan_code"], category=category
    )
    foundation = partner(fresh_city.app, fresh_city.client, code, client_id)

    # Dinsos reports and opens a need for the person; the foundation pledges it.
    reported = (
        await admin.data(
            doc.REPORT,
            {
                "input": {
                    "citizen": to_global_id("Citizen", person),
                    "category": category,
                    "description": "Perlu bantuan tambahan",
                    "severity": "MEDIUM",
                }
            },
        )
    )["reportNeed"]
    need = reported["need"]["id"]
    assert (await admin.data(doc.VERIFY, {"id": need}))["verifyNeed"]["errors"] == []
    pledged = (await foundation.data(doc.PLEDGE, {"id": need}))["pledgeNeed"]
    assert pledged["errors"] == []
    enrolment = {
        "kind": "ENROLMENT",
        "programCode": enrolled["program"],
        "contributionId": None,
    }
    assert any(
        {k: w[k] for k in enrolment} == enrolment and w["categoryCode"] == category
        for w in pledged["warnings"]
    ), pledged["warnings"]

    # An agency helped the same person in the same category outside any need.
    agency = (
        await dinkes.data(
            doc.RECORD, _input(person, category=category, kind="SERVICE", idempotencyKey="opd-1")
        )
    )["recordContribution"]
    assert agency["errors"] == [] and agency["created"] is True
    assert agency["contribution"]["organization"] == {"code": "DINKES"}

    evidence = hashlib.sha256(b"foto serah terima").hexdigest()
    variables = _input(person, need=need, category=category, evidenceSha256=evidence.upper())
    first = (await foundation.data(doc.RECORD, variables))["recordContribution"]
    assert first["errors"] == [] and first["created"] is True
    assert first["contribution"]["evidenceSha256"] == evidence  # stored in lower case
    found = {(w["kind"], w["organizationCode"]) for w in first["warnings"]}
    assert ("CONTRIBUTION", "DINKES") in found
    earlier = next(w for w in first["warnings"] if w["kind"] == "CONTRIBUTION")
    assert earlier["contributionId"] == agency["contribution"]["id"]
    assert "DINKES" in earlier["message"]

    # A retry answers the same, warnings included; a different payload under the key is refused.
    retry = (await foundation.data(doc.RECORD, variables))["recordContribution"]
    assert retry["created"] is False
    assert retry["contribution"] == first["contribution"]
    assert retry["warnings"] == first["warnings"]
    variables["input"]["amount"] = 500_000
    reused = (await foundation.data(doc.RECORD, variables))["recordContribution"]
    assert [e["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert "amount_rupiah" in reused["errors"][0]["message"]
    count = await _one(
        fresh_city,
        "SELECT count(*) AS n FROM contributions WHERE citizen_id = :c",
        c=person,
    )
    assert count["n"] == before["n"] + 2


#: The benchmark's document (`lks_record_contribution`): the record's id and amount only.
BENCH_RECORD = (
    Path(__file__).parents[2] / "schema/operations/lks_record_contribution.graphql"
).read_text()


async def test_recording_runs_a_fixed_number_of_statements(fresh_city: Api) -> None:
    """The statements of a new record, with and without a need, counted in the request's
    own session (the audit event apart): a regression here is a read that crept in."""
    lks = fresh_city.as_("lks_partner")
    org = lks.identity.organization_id
    [need] = await sql(
        database_url(fresh_city),
        "SELECT id, citizen_id, category_code FROM needs WHERE status = 'OPEN' AND "
        "kecamatan_code IN (SELECT kecamatan_code FROM organization_areas WHERE "
        "organization_id = :org) AND category_code IN (SELECT category_code FROM "
        "organization_categories WHERE organization_id = :org) ORDER BY id LIMIT 1",
        org=org,
    )
    need_id = to_global_id("Need", need["id"])
    assert (await lks.data(doc.PLEDGE, {"id": need_id}))["pledgeNeed"]["errors"] == []
    person, category = need["citizen_id"], need["category_code"]
    # SQLite's BEGIN IMMEDIATE is a statement; asyncpg begins without one.
    begin = 1 if fresh_city.app.state.engine.dialect.name == "sqlite" else 0

    def record(key: str, **fields: Any) -> dict[str, Any]:
        return _input(person, category=category, idempotencyKey=key, **fields)

    # The savepoint and its release, the key, the person's visibility, the person's
    # kecamatan, earlier aid, the insert (returning the row), and one insert of duplicate-aid
    # flags (the warming record is the same help, moments earlier). The category is checked
    # against the process's copy of the taxonomy, with no statement.
    without = await lks.count_statements(BENCH_RECORD, record("s-2"), warm=record("s-1"))
    assert without == begin + 8, lks.statements
    # For a need, also: its visibility, the expiry of lapsed pledges, the need, the pledge.
    held = await lks.count_statements(
        BENCH_RECORD, record("s-4", need=need_id), warm=record("s-3", need=need_id)
    )
    assert held == begin + 12, lks.statements
    # A retry reads the record and its warnings, and checks nothing else.
    replay = await lks.count_statements(BENCH_RECORD, record("s-4", need=need_id))
    assert replay == begin + 4, lks.statements
