"""The need lifecycle through HTTP: each transition, each refusal with its code, the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from graphql import GraphQLEnumType

from hub.contributions import errors as contribution_errors
from hub.graphql.relay import to_global_id
from hub.graphql.schema import build_schema
from hub.needs import errors as need_errors
from hub.needs.service import EXPIRY_NOTE
from hub.settings import Settings
from tests.support import documents as doc
from tests.support.api import Api
from tests.support.partners import add_foundations, database_url, partner, sql


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def _first(api: Api, where: str, **params: object) -> dict[str, Any]:
    rows = await sql(database_url(api), f"SELECT * FROM needs WHERE {where} ORDER BY id", **params)
    assert rows, where
    return rows[0]


def test_every_service_error_code_has_its_schema_code() -> None:
    # The schema shows the services' own code enums: same codes, each described.
    schema = build_schema(Settings())._schema
    for codes in (need_errors.NeedErrorCode, contribution_errors.ContributionErrorCode):
        shown = schema.get_type(codes.__name__)
        assert isinstance(shown, GraphQLEnumType)
        assert list(shown.values) == [c.name for c in codes]
        assert all(value.description for value in shown.values.values())


async def test_illegal_transitions_say_which_and_why(city: Api) -> None:
    # Refused changes only: the shared city stays as it is.
    admin = city.as_("dinsos_admin")
    open_need = await _first(city, "status = 'OPEN'")
    fulfilled = await _first(city, "status = 'FULFILLED'")
    open_id = to_global_id("Need", open_need["id"])

    verify = (await admin.data(doc.VERIFY, {"id": open_id}))["verifyNeed"]
    assert verify["need"] is None
    assert verify["errors"] == [
        {
            "code": "ILLEGAL_TRANSITION",
            "message": f"need {open_id} is OPEN; verifyNeed needs REPORTED or VERIFIED",
        }
    ]
    close = (await admin.data(doc.CLOSE, {"id": open_id, "outcome": "FULFILLED"}))["closeNeed"]
    assert close["errors"][0]["code"] == "ILLEGAL_TRANSITION"
    assert "closeNeed(FULFILLED) needs PLEDGED or REFERRED" in close["errors"][0]["message"]
    pledge = (await admin.data(doc.PLEDGE, {"id": to_global_id("Need", fulfilled["id"])}))[
        "pledgeNeed"
    ]
    assert pledge["errors"] == [
        {
            "code": "ILLEGAL_TRANSITION",
            "message": f"need {to_global_id('Need', fulfilled['id'])} is FULFILLED; "
            "pledgeNeed needs OPEN",
        }
    ]
    no_reason = (await admin.data(doc.CLOSE, {"id": open_id, "outcome": "NO_LONGER_NEEDED"}))[
        "closeNeed"
    ]
    assert _codes(no_reason) == ["INVALID_INPUT"]
    assert (await _first(city, "id = :id", id=open_need["id"]))["status"] == "OPEN"

    malformed = await admin.query(doc.VERIFY, {"id": "not-an-id"})
    assert malformed["errors"][0]["extensions"]["code"] == "INVALID_ID"


async def test_foundations_act_only_on_what_they_may_see(city: Api) -> None:
    # Refused changes only: the shared city stays as it is.
    lks = city.as_("lks_partner")
    org = lks.identity.organization_id
    elsewhere = await _first(
        city,
        "status = 'OPEN' AND kecamatan_code NOT IN (SELECT kecamatan_code FROM "
        "organization_areas WHERE organization_id = :org)",
        org=org,
    )
    pledged_by_other = await _first(
        city,
        "status = 'PLEDGED' AND holder_organization_id <> :org AND id NOT IN "
        "(SELECT need_id FROM pledges WHERE organization_id = :org)",
        org=org,
    )
    stranger = (
        await sql(
            database_url(city),
            "SELECT id FROM citizens c WHERE NOT EXISTS "
            "(SELECT 1 FROM needs n WHERE n.citizen_id = c.id) ORDER BY id LIMIT 1",
        )
    )[0]

    # A need outside its service area cannot be pledged: it does not exist for the caller.
    pledge = (await lks.data(doc.PLEDGE, {"id": to_global_id("Need", elsewhere["id"])}))[
        "pledgeNeed"
    ]
    assert pledge["errors"] == [
        {
            "code": "NEED_NOT_FOUND",
            "message": f"there is no need {to_global_id('Need', elsewhere['id'])}",
        }
    ]
    # Nor one that was pledged there: only within its area is it told the need was taken.
    taken_elsewhere = await _first(
        city,
        "status = 'PLEDGED' AND kecamatan_code NOT IN (SELECT kecamatan_code FROM "
        "organization_areas WHERE organization_id = :org)",
        org=org,
    )
    pledge = (await lks.data(doc.PLEDGE, {"id": to_global_id("Need", taken_elsewhere["id"])}))[
        "pledgeNeed"
    ]
    assert _codes(pledge) == ["NEED_NOT_FOUND"]
    # Nor can another foundation's pledged need be released or closed.
    other_id = to_global_id("Need", pledged_by_other["id"])
    release = (await lks.data(doc.RELEASE, {"id": other_id, "reason": "salah pilih"}))[
        "releasePledge"
    ]
    close = (await lks.data(doc.CLOSE, {"id": other_id, "outcome": "FULFILLED"}))["closeNeed"]
    assert _codes(release) == _codes(close) == ["NEED_NOT_FOUND"]
    # Nor a need reported for a person it cannot see.
    report = (
        await lks.data(
            doc.REPORT,
            {
                "input": {
                    "citizen": to_global_id("Citizen", stranger["id"]),
                    "category": "FOOD",
                    "description": "Butuh bantuan pangan",
                    "severity": "LOW",
                }
            },
        )
    )["reportNeed"]
    assert _codes(report) == ["CITIZEN_NOT_FOUND"]
    assert (await _first(city, "id = :id", id=elsewhere["id"]))["status"] == "OPEN"
    assert (await _first(city, "id = :id", id=pledged_by_other["id"]))["status"] == "PLEDGED"


async def test_a_foundation_reports_what_it_found_and_inputs_are_checked(fresh_city: Api) -> None:
    lks = fresh_city.as_("lks_partner")
    org = lks.identity.organization_id
    visible = await _first(
        fresh_city,
        "status = 'OPEN' AND kecamatan_code IN (SELECT kecamatan_code FROM organization_areas "
        "WHERE organization_id = :org) AND category_code IN (SELECT category_code FROM "
        "organization_categories WHERE organization_id = :org)",
        org=org,
    )
    citizen = to_global_id("Citizen", visible["citizen_id"])

    def report(**fields: Any) -> dict[str, Any]:
        base = {"citizen": citizen, "category": "HEALTH", "description": "x", "severity": "MEDIUM"}
        return {"input": {**base, **fields}}

    refused = {
        "CATEGORY_NOT_FOUND": report(category="NOT_A_CATEGORY"),
        "INVALID_INPUT": report(category="PPKS_FAKIR_MISKIN"),
    }
    for code, variables in refused.items():
        assert _codes((await lks.data(doc.REPORT, variables))["reportNeed"]) == [code]
    blank = (await lks.data(doc.REPORT, report(description="   ")))["reportNeed"]
    assert blank["errors"] == [
        {"code": "INVALID_INPUT", "message": "the description is empty; it must say something"}
    ]

    done = (
        await lks.data(
            doc.REPORT,
            report(description="Anak demam tinggi tiga hari", ppksType="PPKS_FAKIR_MISKIN"),
        )
    )["reportNeed"]
    assert done["errors"] == []
    assert done["need"]["status"] == "REPORTED"
    assert done["need"]["reportedBy"] == {"code": lks.identity.organization_code}
    assert [h["toStatus"] for h in done["need"]["history"]] == ["REPORTED"]
    count = await sql(
        database_url(fresh_city),
        "SELECT count(*) AS n FROM needs WHERE citizen_id = :c AND reported_by_organization_id "
        "= :org",
        c=visible["citizen_id"],
        org=org,
    )
    assert count[0]["n"] == 1  # the refused reports wrote nothing


async def test_an_agency_receives_a_referral_and_fulfils_it(fresh_city: Api) -> None:
    admin = fresh_city.as_("dinsos_admin")
    dinkes = fresh_city.as_("opd_officer")
    need = await _first(fresh_city, "status = 'OPEN'")
    need_id = to_global_id("Need", need["id"])

    unknown = (await admin.data(doc.REFER, {"id": need_id, "to": "NOPE"}))["referNeed"]
    assert _codes(unknown) == ["ORGANIZATION_NOT_FOUND"]
    lks_code = admin.identities["lks_partner"].organization_code
    to_lks = (await admin.data(doc.REFER, {"id": need_id, "to": lks_code}))["referNeed"]
    assert _codes(to_lks) == ["INVALID_REFERRAL_TARGET"]

    referred = (
        await admin.data(doc.REFER, {"id": need_id, "to": "dinkes", "note": "Perlu puskesmas"})
    )["referNeed"]
    assert referred["errors"] == []
    assert referred["need"]["status"] == "REFERRED"
    assert referred["need"]["holder"] == {"code": "DINKES"}
    assert referred["need"]["history"][-1] == {
        "fromStatus": "OPEN",
        "toStatus": "REFERRED",
        "note": "Perlu puskesmas",
        "organization": {"code": "DINSOS"},
    }
    again = (await admin.data(doc.REFER, {"id": need_id, "to": "DINKES"}))["referNeed"]
    assert _codes(again) == ["INVALID_REFERRAL_TARGET"]

    # The receiving agency finds it among the needs it holds.
    me = (await dinkes.data("{ me { organization { id } } }"))["me"]["organization"]["id"]
    held = await dinkes.data(
        "query($org: ID!) { needs(first: 100, filter: {organization: $org, status: [REFERRED]}) "
        "{ nodes { id holder { code } } } }",
        {"org": me},
    )
    assert {"id": need_id, "holder": {"code": "DINKES"}} in held["needs"]["nodes"]
    closed = (
        await dinkes.data(
            doc.CLOSE, {"id": need_id, "outcome": "FULFILLED", "reason": "Dirawat di puskesmas"}
        )
    )["closeNeed"]
    assert closed["errors"] == []
    assert closed["need"]["status"] == "FULFILLED"
    assert closed["need"]["history"][-1]["organization"] == {"code": "DINKES"}


async def test_pledges_are_released_expire_and_are_taken_again(fresh_city: Api) -> None:
    url = database_url(fresh_city)
    need = await _first(fresh_city, "status = 'OPEN'")
    need_id = to_global_id("Need", need["id"])
    (a_code, a_client), (b_code, b_client) = await add_foundations(
        url, "LKS-CYCLE", 2, kecamatan=need["kecamatan_code"], category=need["category_code"]
    )
    app, client = fresh_city.app, fresh_city.client
    a = partner(app, client, a_code, a_client, purpose=None)
    a_reading = partner(app, client, a_code, a_client)
    b = partner(app, client, b_code, b_client)

    for days in (0, 91):
        refused = (await a.data(doc.PLEDGE, {"id": need_id, "days": days}))["pledgeNeed"]
        assert refused["errors"] == [
            {"code": "INVALID_INPUT", "message": f"days must be between 1 and 90; got {days}"}
        ]
    pledged = (await a.data(doc.PLEDGE, {"id": need_id, "days": 3}))["pledgeNeed"]
    assert pledged["errors"] == []
    window = dt.datetime.fromisoformat(pledged["pledge"]["expiresAt"]) - dt.datetime.fromisoformat(
        pledged["pledge"]["pledgedAt"]
    )
    assert window == dt.timedelta(days=3)
    # Without a stated purpose the holder sees the person masked, even in its own payload.
    assert pledged["need"]["citizen"]["fullName"].endswith(".")
    assert pledged["need"]["citizen"]["phone"] is None
    full = (await a_reading.data(doc.NEED, {"id": need_id}))["node"]["citizen"]
    assert full["phone"] and not full["fullName"].endswith(".")

    taken = (await b.data(doc.PLEDGE, {"id": need_id}))["pledgeNeed"]
    assert _codes(taken) == ["NEED_ALREADY_PLEDGED"]
    assert "PLEDGED by another organisation" in taken["errors"][0]["message"]
    mine_again = (await a.data(doc.PLEDGE, {"id": need_id}))["pledgeNeed"]
    assert "PLEDGED by your organisation" in mine_again["errors"][0]["message"]
    not_b = (await b.data(doc.RELEASE, {"id": need_id, "reason": "bukan milik kami"}))[
        "releasePledge"
    ]
    assert _codes(not_b) == ["NEED_NOT_FOUND"]

    released = (await a.data(doc.RELEASE, {"id": need_id, "reason": "Relawan tidak ada"}))[
        "releasePledge"
    ]
    assert released["errors"] == []
    assert released["need"]["status"] == "OPEN" and released["need"]["holder"] is None
    assert released["need"]["history"][-1]["note"] == "Relawan tidak ada"
    twice = (await a.data(doc.RELEASE, {"id": need_id, "reason": "lagi"}))["releasePledge"]
    assert twice["errors"][0]["message"] == (
        f"need {to_global_id('Need', need['id'])} is OPEN; releasePledge needs PLEDGED"
    )
    assert (await a_reading.data(doc.NEED, {"id": need_id}))["node"]["citizen"]["phone"] is None

    # B pledges, and lets the pledge lapse: its details go, and A may take the need again.
    assert (await b.data(doc.PLEDGE, {"id": need_id}))["pledgeNeed"]["errors"] == []
    await sql(
        url,
        # Lapsed the moment it was made, so the history keeps its order.
        "UPDATE pledges SET expires_at = pledged_at WHERE need_id = :need AND status = 'ACTIVE'",
        need=need["id"],
    )
    lapsed = (await b.data(doc.NEED, {"id": need_id}))["node"]["citizen"]
    assert lapsed["phone"] is None and lapsed["fullName"].endswith(".")
    retaken = (await a.data(doc.PLEDGE, {"id": need_id}))["pledgeNeed"]
    assert retaken["errors"] == []
    assert retaken["need"]["holder"] == {"code": a_code}
    steps = [(h["fromStatus"], h["toStatus"], h["note"]) for h in retaken["need"]["history"]]
    assert steps[-2:] == [("PLEDGED", "OPEN", EXPIRY_NOTE), ("OPEN", "PLEDGED", None)]


async def test_a_need_no_longer_needed_is_closed_with_its_reason(fresh_city: Api) -> None:
    lks = fresh_city.as_("lks_partner")
    org = lks.identity.organization_id
    need = await _first(
        fresh_city,
        "status = 'OPEN' AND kecamatan_code IN (SELECT kecamatan_code FROM organization_areas "
        "WHERE organization_id = :org) AND category_code IN (SELECT category_code FROM "
        "organization_categories WHERE organization_id = :org)",
        org=org,
    )
    need_id = to_global_id("Need", need["id"])
    assert (await lks.data(doc.PLEDGE, {"id": need_id}))["pledgeNeed"]["errors"] == []
    closed = (
        await lks.data(
            doc.CLOSE, {"id": need_id, "outcome": "NO_LONGER_NEEDED", "reason": "Sudah pindah"}
        )
    )["closeNeed"]
    assert closed["errors"] == []
    assert closed["need"]["status"] == "CLOSED"
    assert closed["need"]["history"][-1]["note"] == "Sudah pindah"
    pledges = await sql(
        database_url(fresh_city), "SELECT status FROM pledges WHERE need_id = :n", n=need["id"]
    )
    assert [p["status"] for p in pledges] == ["RELEASED"]
