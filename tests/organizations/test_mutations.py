"""Dinsos onboards an organisation and its client end to end, through HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hub.db import create_engine
from hub.organizations.models import Organization
from tests.support.api import Api

REGISTER = """mutation($input: RegisterOrganizationInput!) {
  registerOrganization(input: $input) {
    organization { code status kind categories { code } areas { code } }
    errors { code message }
  }
}"""
CREATE_CLIENT = """mutation($org: String!) {
  createClient(input: {organization: $org, roles: [LKS_PARTNER], name: "laptop"}) {
    client { clientId roles organizationCode } secret errors { code message }
  }
}"""


async def _token(api: Api, client_id: str, secret: str) -> Any:
    return await api.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


async def _org_count(api: Api, code: str) -> int:
    engine = create_engine(str(api.app.state.settings.database_url))
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count()).select_from(Organization).where(Organization.code == code)
        )
    await engine.dispose()
    return int(count or 0)


async def test_onboarding_a_foundation_from_registration_to_suspension(fresh_city: Api) -> None:
    admin = fresh_city.as_("dinsos_admin")
    registered = await admin.data(
        REGISTER,
        {
            "input": {
                "code": "LKS-PEDULI",
                "kind": "LKS",
                "name": "Yayasan Peduli Sesama",
                "registrationNumber": "460/123-Dinsos/2026",
                "categories": ["FOOD", "PPKS_LANSIA_TERLANTAR"],
                "kecamatan": ["32.73.02", "32.73.15"],
            }
        },
    )
    org = registered["registerOrganization"]
    assert org["errors"] == []
    assert org["organization"]["status"] == "PENDING"
    assert {c["code"] for c in org["organization"]["categories"]} == {
        "FOOD",
        "PPKS_LANSIA_TERLANTAR",
    }
    assert [a["code"] for a in org["organization"]["areas"]] == ["32.73.02", "32.73.15"]

    approved = await admin.data(
        'mutation { approveOrganization(code: "LKS-PEDULI") { organization { status } } }'
    )
    assert approved["approveOrganization"]["organization"]["status"] == "ACTIVE"

    created = (await admin.data(CREATE_CLIENT, {"org": "LKS-PEDULI"}))["createClient"]
    client_id, secret = created["client"]["clientId"], created["secret"]
    assert created["client"]["roles"] == ["LKS_PARTNER"] and len(secret) >= 40

    token = await _token(fresh_city, client_id, secret)
    assert token.status_code == 200
    me = await fresh_city.client.post(
        "/graphql",
        json={"query": "{ me { organization { code } } }"},
        headers={"authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert me.json()["data"]["me"]["organization"]["code"] == "LKS-PEDULI"

    suspended = await admin.data(
        'mutation { suspendOrganization(code: "LKS-PEDULI") { organization { status } } }'
    )
    assert suspended["suspendOrganization"]["organization"]["status"] == "SUSPENDED"
    refused = await fresh_city.client.post(
        "/graphql",
        json={"query": "{ me { clientId } }"},
        headers={"authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert refused.status_code == 401
    assert (await _token(fresh_city, client_id, secret)).status_code in (400, 401)


async def test_a_refused_registration_writes_nothing(fresh_city: Api) -> None:
    body = await fresh_city.data(
        REGISTER,
        {
            "input": {
                "code": "LKS-SALAH",
                "kind": "LKS",
                "name": "Yayasan Salah Kode",
                "categories": ["FOOD", "NOT_A_CATEGORY"],
                "kecamatan": ["32.73.02"],
            }
        },
    )
    errors = body["registerOrganization"]["errors"]
    assert errors == [
        {
            "code": "INVALID_INPUT",
            "message": "unknown need categories: NOT_A_CATEGORY (see needCategories)",
        }
    ]
    assert body["registerOrganization"]["organization"] is None
    assert await _org_count(fresh_city, "LKS-SALAH") == 0


async def test_rotation_without_overlap_stops_the_old_secret(fresh_city: Api) -> None:
    admin = fresh_city.as_("dinsos_admin")
    created = (
        await admin.data(CREATE_CLIENT, {"org": admin.identities["lks_partner"].organization_code})
    )["createClient"]
    client_id, old = created["client"]["clientId"], created["secret"]
    rotated = await admin.data(
        "mutation($id: String!) { rotateClientSecret(clientId: $id, overlapSeconds: 0) "
        "{ secret client { rotatedAt } errors { code } } }",
        {"id": client_id},
    )
    new = rotated["rotateClientSecret"]["secret"]
    assert rotated["rotateClientSecret"]["client"]["rotatedAt"]
    assert (await _token(fresh_city, client_id, old)).status_code == 401
    assert (await _token(fresh_city, client_id, new)).status_code == 200

    revoked = await admin.data(
        "mutation($id: String!) { revokeClient(clientId: $id) { client { revokedAt } } }",
        {"id": client_id},
    )
    assert revoked["revokeClient"]["client"]["revokedAt"]
    assert (await _token(fresh_city, client_id, new)).status_code == 401


async def test_roles_follow_the_organisation_kind(fresh_city: Api) -> None:
    admin = fresh_city.as_("dinsos_admin")
    lks_client = admin.identities["lks_partner"].client_id
    body = await admin.data(
        "mutation($id: String!) { grantRole(clientId: $id, role: OPD_OFFICER) "
        "{ client { roles } errors { code message } } }",
        {"id": lks_client},
    )
    assert body["grantRole"]["errors"] == [
        {"code": "INVALID_INPUT", "message": "a LKS organisation cannot hold the role opd_officer"}
    ]
    unknown = await admin.data(
        'mutation { revokeClient(clientId: "nope-123") { client { clientId } errors { code } } }'
    )
    assert unknown["revokeClient"]["errors"] == [{"code": "NOT_FOUND"}]


async def test_only_dinsos_may_administer(city: Api) -> None:
    for who in ("opd_officer", "lks_partner", "auditor"):
        body = await city.as_(who, purpose=None).query(
            'mutation { approveOrganization(code: "DINSOS") { errors { code } } }'
        )
        assert body["errors"][0]["extensions"] == {
            "code": "FORBIDDEN",
            "permission": "Mutation.approveOrganization",
        }
