"""The audit trail seen from outside: every request leaves an event, auditors can read it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hub.audit.models import AuditEventRecord
from hub.audit.verify import verify_database
from hub.db import create_engine, session_factory
from tests.support.api import Api

PROFILE = "query Profile($nik: NIK!) { citizen(nik: $nik) { fullName nik household { address } } }"
EVENTS = """query($f: AuditEventFilter) { auditEvents(first: 20, filter: $f) {
  nodes { decision reason kind clientId organizationCode purpose operationType operationName
          documentSha256 variables citizenCount citizens { citizen fields } } } }"""


async def _events(api: Api, **where: Any) -> list[AuditEventRecord]:
    engine = create_engine(str(api.app.state.settings.database_url))
    try:
        async with session_factory(engine)() as session:
            statement = select(AuditEventRecord).order_by(AuditEventRecord.seq)
            for name, value in where.items():
                statement = statement.where(getattr(AuditEventRecord, name) == value)
            return list(await session.scalars(statement))
    finally:
        await engine.dispose()


async def _a_nik(api: Api) -> str:
    data = await api.as_("dinsos_admin").data("{ citizens(first: 1) { nodes { nik } } }")
    return str(data["citizens"]["nodes"][0]["nik"])


async def test_a_profile_read_is_recorded_and_shows_in_the_access_report(fresh_city: Api) -> None:
    nik = await _a_nik(fresh_city)
    opd = fresh_city.as_("opd_officer", purpose="ELIGIBILITY_CHECK")
    await opd.data(PROFILE, {"nik": nik})

    auditor = fresh_city.as_("auditor", purpose="AUDIT")
    report = await auditor.data(
        "query($nik: NIK!) { accessReport(nik: $nik) { totalCount nodes { organizationCode "
        "clientId purpose operationName fields roles } } }",
        {"nik": nik},
    )
    entries = report["accessReport"]["nodes"]
    opd_entry = next(e for e in entries if e["organizationCode"] == "DINKES")
    assert opd_entry == {
        "organizationCode": "DINKES",
        "clientId": opd.identity.client_id,
        "purpose": "ELIGIBILITY_CHECK",
        "operationName": "Profile",
        "fields": ["fullName", "nik"],
        "roles": ["opd_officer"],
    }
    # The NIK itself is never stored in clear: the variables hold a keyed hash.
    events = await _events(fresh_city, client_id=opd.identity.client_id)
    assert events[-1].variables["nik"] != nik
    assert nik not in str(events[-1].variables)


async def test_refusals_are_recorded_as_denied(fresh_city: Api) -> None:
    auditor = fresh_city.as_("auditor", purpose=None)
    await auditor.query("{ citizens(first: 1) { nodes { id } } }")
    await fresh_city.client.post(
        "/graphql", json={"query": "{ me { clientId } }"}, headers={"authorization": "Bearer x.y.z"}
    )
    denied = await _events(fresh_city, decision="DENIED")
    reasons = [e.reason for e in denied]
    assert "FORBIDDEN: Query.citizens" in reasons
    assert any(r and r.startswith("401 refused: ") for r in reasons), reasons


async def test_token_requests_are_recorded(fresh_city: Api) -> None:
    admin = fresh_city.as_("dinsos_admin")
    created = await admin.data(
        'mutation { createClient(input: {organization: "DINSOS", roles: [DINSOS_ADMIN]}) '
        "{ client { clientId } secret } }"
    )
    client_id = created["createClient"]["client"]["clientId"]
    secret = created["createClient"]["secret"]
    for password in (secret, "wrong"):
        await fresh_city.client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, password)
        )
    tokens = await _events(fresh_city, kind="TOKEN", client_id=client_id)
    assert [(e.decision, e.operation_name) for e in tokens] == [
        ("ALLOWED", "token"),
        ("DENIED", "token"),
    ]
    assert tokens[1].reason is not None and tokens[1].reason.startswith("401 invalid_client: ")
    # The mutation that created the client was recorded with its data, in one commit.
    created_events = await _events(fresh_city, operation_type="mutation")
    assert created_events[-1].operation_name == "createClient"
    assert secret not in str(created_events[-1].variables)


async def test_a_read_the_trail_cannot_record_returns_no_data(fresh_city: Api) -> None:
    await fresh_city.app.state.recorder.writer.close()  # the trail is now unwritable
    response = await fresh_city.as_("dinsos_admin").post("{ citizens(first: 1) { nodes { nik } } }")
    assert response.status_code == 503 and response.headers["retry-after"]
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"


async def test_organisations_see_their_own_events_and_auditors_see_all(fresh_city: Api) -> None:
    await fresh_city.as_("lks_partner").data("{ me { clientId } }")
    await fresh_city.as_("opd_officer").data("{ me { clientId } }")
    lks = (await fresh_city.as_("lks_partner").data(EVENTS))["auditEvents"]["nodes"]
    assert lks and {e["organizationCode"] for e in lks} == {
        fresh_city.identities["lks_partner"].organization_code
    }
    everyone = (await fresh_city.as_("auditor", purpose=None).data(EVENTS))["auditEvents"]["nodes"]
    assert {"DINKES", fresh_city.identities["lks_partner"].organization_code} <= {
        e["organizationCode"] for e in everyone
    }


async def test_the_chain_verifies_after_a_busy_session(fresh_city: Api) -> None:
    nik = await _a_nik(fresh_city)
    for who in ("dinsos_admin", "opd_officer", "lks_partner", "auditor"):
        await fresh_city.as_(who).query(PROFILE, {"nik": nik})
    await fresh_city.app.state.recorder.seal_if_due(force=True)
    integrity = await fresh_city.as_("auditor", purpose=None).data(
        "{ auditIntegrity { ok firstBadSeq lastSeq lastCheckpointSeq lastCheckpoint unsealed } }"
    )
    status = integrity["auditIntegrity"]
    assert status["ok"] and status["firstBadSeq"] is None
    assert status["lastCheckpoint"].startswith("bandung.go.id/satu-pintu-hub/audit\n")
    engine = create_engine(str(fresh_city.app.state.settings.database_url))
    async with session_factory(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(AuditEventRecord))
        verification = await verify_database(
            session,
            verifiers=fresh_city.app.state.recorder.verifiers(),
            origin=fresh_city.app.state.recorder.origin,
        )
    await engine.dispose()
    assert verification.ok and verification.events == count
