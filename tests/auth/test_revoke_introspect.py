"""POST /oauth/revoke (RFC 7009) and POST /oauth/introspect (RFC 7662)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.models import RevokedToken
from hub.organizations import service
from tests.support.auth import token_for
from tests.support.clock import FakeClock

MakeClient = Callable[..., Awaitable[service.IssuedClient]]
Db = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


def _basic(issued: service.IssuedClient) -> tuple[str, str]:
    """client_secret_basic credentials of `issued`."""
    assert issued.secret is not None
    return issued.client.client_id, issued.secret


async def test_an_opd_service_introspects_a_partner_token(
    http: httpx.AsyncClient, make_client: MakeClient
) -> None:
    partner = await make_client("DINSOS", "dinsos_admin")
    checker = await make_client("DINKES", "opd_officer")
    token = await token_for(http, partner)
    response = await http.post("/oauth/introspect", data={"token": token}, auth=_basic(checker))
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == partner.client.client_id
    assert body["org"] == "DINSOS"
    assert body["roles"] == ["dinsos_admin"]
    assert body["scope"] == "dinsos_admin"
    assert body["token_type"] == "Bearer"
    assert {"exp", "iat", "iss", "aud", "sub", "jti"} <= set(body)


async def test_introspection_of_garbage_or_expired_tokens_is_inactive(
    http: httpx.AsyncClient, make_client: MakeClient, clock: FakeClock
) -> None:
    checker = await make_client("DINKES", "opd_officer")
    token = await token_for(http, checker)
    garbage = await http.post("/oauth/introspect", data={"token": "garbage"}, auth=_basic(checker))
    assert garbage.json() == {"active": False}
    clock.advance(3600)
    # The checker's secret is still good; its old token is not.
    expired = await http.post("/oauth/introspect", data={"token": token}, auth=_basic(checker))
    assert expired.json() == {"active": False}


async def test_introspection_requires_client_authentication(
    http: httpx.AsyncClient, make_client: MakeClient
) -> None:
    partner = await make_client("DINSOS", "dinsos_admin")
    token = await token_for(http, partner)
    anonymous = await http.post("/oauth/introspect", data={"token": token})
    assert anonymous.status_code in (400, 401)
    assert anonymous.json()["error"] == "invalid_client"
    missing = await http.post("/oauth/introspect", data={}, auth=_basic(partner))
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


async def test_revocation_stops_the_token_at_once_and_is_recorded(
    http: httpx.AsyncClient, make_client: MakeClient, db: Db
) -> None:
    officer = await make_client("DINKES", "opd_officer")
    token = await token_for(http, officer)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/graphql", headers=headers)).status_code == 200
    revoked = await http.post(
        "/oauth/revoke",
        data={"token": token, "token_type_hint": "access_token"},
        auth=_basic(officer),
    )
    assert revoked.status_code == 200
    refused = await http.get("/graphql", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["message"] == "the token has been revoked"
    introspected = await http.post("/oauth/introspect", data={"token": token}, auth=_basic(officer))
    assert introspected.json() == {"active": False}
    # Revoking twice, or a token the hub never issued, still answers 200 (RFC 7009 §2.2).
    again = await http.post("/oauth/revoke", data={"token": token}, auth=_basic(officer))
    assert again.status_code == 200
    unknown = await http.post("/oauth/revoke", data={"token": "nope"}, auth=_basic(officer))
    assert unknown.status_code == 200

    async def rows(session: AsyncSession) -> list[str]:
        return list((await session.scalars(select(RevokedToken.jti))).all())

    assert len(await db(rows)) == 1
    # Other tokens of the same client keep working.
    fresh = await token_for(http, officer)
    ok = await http.get("/graphql", headers={"Authorization": f"Bearer {fresh}"})
    assert ok.status_code == 200


async def test_a_client_cannot_revoke_another_clients_token(
    http: httpx.AsyncClient, make_client: MakeClient
) -> None:
    owner = await make_client("DINKES", "opd_officer")
    other = await make_client("OMBUDSMAN-JABAR", "auditor")
    token = await token_for(http, owner)
    response = await http.post("/oauth/revoke", data={"token": token}, auth=_basic(other))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    still = await http.get("/graphql", headers={"Authorization": f"Bearer {token}"})
    assert still.status_code == 200
