"""Agencies push households, people and enrolments through GraphQL, as an OPD integrator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hub.audit.models import AuditEventCitizen, AuditEventRecord
from hub.db import create_engine
from hub.registry.models import Citizen, CitizenHouseholdHistory
from tests.support.api import Api

KK = "3273011511259999"  # issued 15 Nov 2025 in Sukasari; serial 9999, which the seed never reaches
HEAD_NIK = "3273011205809991"  # a man born 12 May 1980
SPOUSE_NIK = "3273014307839992"  # a woman born 3 July 1983 (day + 40)
CHILD_NIK = "3273011003109993"  # says 10 March 2010, while the birth date below is 2010-03-11

PUSH = """
mutation Push($households: [HouseholdInput!]!, $citizens: [CitizenInput!]!,
              $enrolments: [EnrollInput!]!) {
  upsertHouseholds(input: $households) {
    succeeded failed errors { code }
    items { created errors { code message } household { id kkNumber version } }
  }
  upsertCitizens(input: $citizens) {
    succeeded failed errors { code }
    items { created errors { code message } citizen { nik version household { kkNumber } } }
  }
  enrollInPrograms(input: $enrolments) {
    succeeded failed
    items { created errors { code message } enrolment { benefit program { code fundingSource } } }
  }
}"""

CITIZEN = """query($nik: NIK!) { citizen(nik: $nik) {
  id version fullName household { kkNumber members { nik } }
  enrolments { benefit active program { code fundingSource budget } }
  provenance { version changedVia changedFields organizationCode clientId changedAt }
  householdHistory { household { kkNumber } relationship validFrom validTo }
} }"""

UPSERT = """mutation($input: CitizenInput!) { upsertCitizen(input: $input) {
  created changedFields errors { code message }
  citizen { version fullName provenance { version changedVia organizationCode changedFields } }
} }"""


def household(**extra: Any) -> dict[str, Any]:
    return {
        "kkNumber": KK,
        "address": "Jl. Sukasari No. 7",
        "rt": "3",
        "rw": "11",
        "kelurahan": "32.73.01.1001",
        "welfareDecile": 2,
        **extra,
    }


def member(nik: str, name: str, born: str, sex: str, relationship: str) -> dict[str, Any]:
    return {
        "nik": nik,
        "fullName": name,
        "birthDate": born,
        "sex": sex,
        "relationship": relationship,
        "household": {"kkNumber": KK},
    }


async def rows(url: str, statement: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(statement)).all())
    finally:
        await engine.dispose()


async def test_an_agency_pushes_a_household_with_members_and_enrolments_in_one_batch(
    fresh_city: Api, fresh_city_database_url: str
) -> None:
    opd = fresh_city.as_("opd_officer")
    data = await opd.data(
        PUSH,
        {
            "households": [household()],
            "citizens": [
                member(HEAD_NIK, "Asep Sunandar", "1980-05-12", "M", "HEAD"),
                member(SPOUSE_NIK, "Euis Komariah", "1983-07-03", "F", "SPOUSE"),
                member(CHILD_NIK, "Ujang Sunandar", "2010-03-11", "M", "CHILD"),
            ],
            "enrolments": [
                {"nik": HEAD_NIK, "program": "PKH", "startedOn": "2026-11-20", "benefit": 3000000},
                {"nik": SPOUSE_NIK, "program": "PBI_APBD", "startedOn": "2026-11-20",
                 "benefit": 504000},
            ],
        },
    )  # fmt: skip
    households = data["upsertHouseholds"]
    assert (households["succeeded"], households["failed"]) == (1, 0)
    assert households["items"][0]["created"] and households["items"][0]["household"]["version"] == 1
    citizens = data["upsertCitizens"]
    assert (citizens["succeeded"], citizens["failed"]) == (2, 1)
    head, spouse, child = citizens["items"]
    assert head["created"] and spouse["created"]
    assert head["citizen"]["household"]["kkNumber"] == KK
    assert child["citizen"] is None
    assert [e["code"] for e in child["errors"]] == ["INVALID_NIK"]
    assert "do not match the birth date 2010-03-11" in child["errors"][0]["message"]
    enrolments = data["enrollInPrograms"]
    assert (enrolments["succeeded"], enrolments["failed"]) == (2, 0)
    assert enrolments["items"][1]["enrolment"] == {
        "benefit": 504000,
        "program": {"code": "PBI_APBD", "fundingSource": "APBD_KOTA"},
    }

    # The good items were committed; the bad one left nothing behind.
    found = (await opd.data(CITIZEN, {"nik": HEAD_NIK}))["citizen"]
    assert {m["nik"] for m in found["household"]["members"]} == {HEAD_NIK, SPOUSE_NIK}
    assert found["enrolments"][0]["benefit"] == 3000000
    provenance = found["provenance"]
    assert provenance["changedVia"] == "API"
    assert provenance["organizationCode"] == "DINKES"
    assert provenance["clientId"] == opd.identity.client_id
    assert (await opd.data(CITIZEN, {"nik": CHILD_NIK}))["citizen"] is None

    # The request's audit event names the people whose records it wrote.
    (event,) = await rows(
        fresh_city_database_url,
        select(AuditEventRecord.seq, AuditEventRecord.decision)
        .where(AuditEventRecord.operation_name == "Push")
        .order_by(AuditEventRecord.seq.desc())
        .limit(1),
    )
    touched = dict(
        await rows(
            fresh_city_database_url,
            select(AuditEventCitizen.citizen_id, AuditEventCitizen.fields).where(
                AuditEventCitizen.event_seq == event.seq
            ),
        )
    )
    ids = dict(
        await rows(
            fresh_city_database_url,
            select(Citizen.nik, Citizen.id).where(Citizen.nik.in_([HEAD_NIK, SPOUSE_NIK])),
        )
    )
    assert set(touched) == set(ids.values())
    assert {"write:created", "write:enrolment"} <= set(touched[ids[HEAD_NIK]])


async def test_an_update_based_on_an_old_version_is_a_stale_write(fresh_city: Api) -> None:
    opd = fresh_city.as_("opd_officer")
    await opd.data(
        "mutation($h: HouseholdInput!) { upsertHousehold(input: $h) { errors { code } } }",
        {"h": household()},
    )
    created = (
        await opd.data(UPSERT, {"input": member(HEAD_NIK, "Asep", "1980-05-12", "M", "HEAD")})
    )["upsertCitizen"]
    assert created["created"] and created["citizen"]["version"] == 1
    renamed = (
        await opd.data(
            UPSERT, {"input": {"nik": HEAD_NIK, "fullName": "Asep Sunandar", "expectedVersion": 1}}
        )
    )["upsertCitizen"]
    assert renamed["errors"] == [] and renamed["changedFields"] == ["fullName"]
    assert renamed["citizen"]["version"] == 2
    for stale in ({"expectedVersion": 1}, {}):
        refused = (
            await opd.data(UPSERT, {"input": {"nik": HEAD_NIK, "fullName": "Asep S.", **stale}})
        )["upsertCitizen"]
        assert refused["citizen"] is None
        assert [e["code"] for e in refused["errors"]] == ["STALE_WRITE"]
        assert "version 2" in refused["errors"][0]["message"]
    current = (await opd.data(CITIZEN, {"nik": HEAD_NIK}))["citizen"]
    assert current["fullName"] == "Asep Sunandar" and current["version"] == 2


async def test_provenance_shows_who_last_changed_what_and_a_move_keeps_history(
    fresh_city: Api, fresh_city_database_url: str
) -> None:
    opd, dinsos = fresh_city.as_("opd_officer"), fresh_city.as_("dinsos_admin")
    await opd.data(
        "mutation($h: HouseholdInput!) { upsertHousehold(input: $h) { errors { code } } }",
        {"h": household()},
    )
    await opd.data(UPSERT, {"input": member(HEAD_NIK, "Asep", "1980-05-12", "M", "HEAD")})
    other = (await dinsos.data("{ households(first: 1) { nodes { kkNumber } } }"))["households"]
    target = other["nodes"][0]["kkNumber"]
    moved = (
        await dinsos.data(
            UPSERT,
            {
                "input": {
                    "nik": HEAD_NIK,
                    "household": {"kkNumber": target},
                    "relationship": "OTHER",
                    "expectedVersion": 1,
                }
            },
        )
    )["upsertCitizen"]
    assert moved["errors"] == []
    assert moved["citizen"]["provenance"] == {
        "version": 2,
        "changedVia": "API",
        "organizationCode": "DINSOS",
        "changedFields": ["relationship", "household"],
    }
    found = (await opd.data(CITIZEN, {"nik": HEAD_NIK}))["citizen"]
    assert found["household"]["kkNumber"] == target
    assert found["provenance"]["organizationCode"] == "DINSOS"
    (left,) = found["householdHistory"]
    assert left["household"]["kkNumber"] == KK and left["relationship"] == "HEAD"
    assert left["validFrom"] <= left["validTo"]
    history = await rows(
        fresh_city_database_url,
        select(CitizenHouseholdHistory.relationship, CitizenHouseholdHistory.valid_to)
        .join(Citizen, Citizen.id == CitizenHouseholdHistory.citizen_id)
        .where(Citizen.nik == HEAD_NIK),
    )
    assert [relationship for relationship, _ in history] == ["HEAD"]


async def test_a_foundation_may_not_push_records(
    fresh_city: Api, fresh_city_database_url: str
) -> None:
    before = await rows(fresh_city_database_url, select(func.count()).select_from(Citizen))
    body = await fresh_city.as_("lks_partner").query(
        UPSERT, {"input": member(HEAD_NIK, "Asep", "1980-05-12", "M", "HEAD")}
    )
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["permission"] == "Mutation.upsertCitizen"
    assert await rows(fresh_city_database_url, select(func.count()).select_from(Citizen)) == before


async def test_a_batch_takes_one_to_five_hundred_items(fresh_city: Api) -> None:
    opd = fresh_city.as_("opd_officer")
    document = (
        "mutation($c: [CitizenInput!]!) { upsertCitizens(input: $c) "
        "{ succeeded failed items { errors { code } } errors { code message } } }"
    )
    for size in (0, 501):
        payload = (await opd.data(document, {"c": [{"nik": "1"}] * size}))["upsertCitizens"]
        assert payload["items"] == [] and payload["errors"][0]["code"] == "INVALID_INPUT"
        assert "1 to 500 items" in payload["errors"][0]["message"]
