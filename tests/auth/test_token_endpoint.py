"""POST /oauth/token: the client credentials grant with each client authentication."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import httpx2
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.state import AuthState
from hub.organizations import service
from tests.support.auth import ISSUER, build_app, fetch_token
from tests.support.clock import FakeClock

MakeClient = Callable[..., Awaitable[service.IssuedClient]]
Db = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


def _decode(part: str) -> dict[str, Any]:
    """The JSON object in a base64url segment."""
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a JWT, unverified."""
    header, payload, _ = token.split(".")
    return _decode(header), _decode(payload)


async def test_client_secret_basic_issues_an_rfc9068_token(
    http: httpx.AsyncClient, make_client: MakeClient, clock: FakeClock
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    assert issued.secret is not None
    response = await fetch_token(http, issued.client.client_id, issued.secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "opd_officer"
    header, claims = _claims(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"]
    now = int(clock.time())
    assert claims == {
        "iss": ISSUER,
        "aud": "satu-pintu-hub",
        "sub": issued.client.client_id,
        "client_id": issued.client.client_id,
        "org": "DINKES",
        "org_kind": "OPD",
        "roles": ["opd_officer"],
        "scope": "opd_officer",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": claims["jti"],
    }
    whoami = await http.get("/graphql", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert whoami.status_code == 200
    assert whoami.json()["organization_code"] == "DINKES"


async def test_client_secret_post(http: httpx.AsyncClient, make_client: MakeClient) -> None:
    issued = await make_client("DINSOS", "dinsos_admin", "opd_officer")
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued.client.client_id,
            "client_secret": issued.secret,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "dinsos_admin opd_officer"


async def test_scope_narrows_the_roles_and_cannot_widen_them(
    http: httpx.AsyncClient, make_client: MakeClient
) -> None:
    issued = await make_client("DINSOS", "dinsos_admin", "opd_officer")
    assert issued.secret is not None
    narrow = await fetch_token(http, issued.client.client_id, issued.secret, scope="opd_officer")
    assert narrow.status_code == 200
    assert _claims(narrow.json()["access_token"])[1]["roles"] == ["opd_officer"]
    wide = await fetch_token(http, issued.client.client_id, issued.secret, scope="auditor")
    assert wide.status_code == 400
    assert wide.json()["error"] == "invalid_scope"


async def test_wrong_secret_and_unknown_client_are_refused(
    http: httpx.AsyncClient, make_client: MakeClient
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    wrong = await fetch_token(http, issued.client.client_id, "not-the-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic ")
    unknown = await fetch_token(http, "nobody-000000000000", "whatever")
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"


async def test_malformed_requests_are_refused(
    http: httpx.AsyncClient, make_client: MakeClient
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    assert issued.secret is not None
    auth = (issued.client.client_id, issued.secret)
    as_json = await http.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=auth)
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    repeated = await http.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=auth,
    )
    assert repeated.status_code == 400
    assert repeated.json()["error_description"] == "grant_type is repeated"
    hostile = await http.post(
        "/oauth/token",
        content="grant_type=client_credentials&%22%5C=1&%22%5C=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=auth,
    )
    assert hostile.status_code == 400
    assert hostile.json()["error_description"] == "a parameter is repeated"
    password = await fetch_token(http, *auth, grant_type="password")
    assert password.status_code == 400
    assert password.json()["error"] == "unsupported_grant_type"


async def test_pending_and_suspended_organisations_get_no_token(
    http: httpx.AsyncClient, make_client: MakeClient, db: Db
) -> None:
    async def onboard(session: AsyncSession) -> None:
        await service.create_organization(
            session, code="LKS-0001", kind="LKS", name="Yayasan Contoh"
        )

    await db(onboard)
    issued = await make_client("LKS-0001", "lks_partner")
    assert issued.secret is not None
    pending = await fetch_token(http, issued.client.client_id, issued.secret)
    assert pending.status_code == 401
    assert pending.json()["error_description"] == "the organisation LKS-0001 is not approved yet"

    async def approve(session: AsyncSession) -> None:
        await service.approve_organization(session, code="LKS-0001")

    await db(approve)
    assert (await fetch_token(http, issued.client.client_id, issued.secret)).status_code == 200

    async def suspend(session: AsyncSession) -> None:
        await service.suspend_organization(session, code="LKS-0001")

    await db(suspend)
    suspended = await fetch_token(http, issued.client.client_id, issued.secret)
    assert suspended.status_code == 401
    assert suspended.json()["error_description"] == "the organisation LKS-0001 is suspended"


async def test_a_standard_oauth2_client_library_obtains_a_token(
    auth: AuthState, make_client: MakeClient
) -> None:
    issued = await make_client("OMBUDSMAN-JABAR", "auditor")
    transport = httpx2.ASGITransport(app=build_app(auth))
    async with AsyncOAuth2Client(
        issued.client.client_id,
        issued.secret,
        token_endpoint_auth_method="client_secret_basic",
        transport=transport,
        base_url=ISSUER,
    ) as client:
        token = await client.fetch_token(f"{ISSUER}/oauth/token", grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        # The library then sends the token itself.
        whoami = await client.get(f"{ISSUER}/graphql")
    assert whoami.status_code == 200
    assert whoami.json()["roles"] == ["auditor"]


def _agency_key() -> tuple[ECKey, dict[str, Any]]:
    """An agency's key pair: the private key it keeps and the public JWK it registers."""
    key = ECKey.generate_key("P-256", private=True)
    return key, dict(key.as_dict(private=False))


async def test_private_key_jwt_with_a_standard_client_library(
    auth: AuthState, make_client: MakeClient
) -> None:
    private, public = _agency_key()
    issued = await make_client("DINKES", "opd_officer", public_jwk=public, with_secret=False)
    assert issued.secret is None
    transport = httpx2.ASGITransport(app=build_app(auth))
    token_url = f"{ISSUER}/oauth/token"
    async with AsyncOAuth2Client(
        issued.client.client_id,
        private,
        token_endpoint_auth_method=PrivateKeyJWT(token_url, alg="ES256"),
        transport=transport,
        base_url=ISSUER,
    ) as client:
        token = await client.fetch_token(token_url, grant_type="client_credentials")
        whoami = await client.get(f"{ISSUER}/graphql")
    assert token["scope"] == "opd_officer"
    assert whoami.json()["client_id"] == issued.client.client_id


async def test_private_key_jwt_refuses_a_replayed_or_foreign_assertion(
    http: httpx.AsyncClient, make_client: MakeClient, auth: AuthState
) -> None:
    from authlib.oauth2.rfc7523 import private_key_jwt_sign

    private, public = _agency_key()
    issued = await make_client("DINKES", "opd_officer", public_jwk=public, with_secret=False)
    token_url = f"{ISSUER}/oauth/token"
    assertion = private_key_jwt_sign(
        private, issued.client.client_id, token_url, alg="ES256", expires_in=300
    )
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    first = await http.post("/oauth/token", data=form)
    assert first.status_code == 200, first.text
    replay = await http.post("/oauth/token", data=form)
    assert replay.status_code == 400
    assert replay.json()["error_description"] == "the assertion jti was used before"

    stranger, _ = _agency_key()
    forged = private_key_jwt_sign(
        stranger, issued.client.client_id, token_url, alg="ES256", expires_in=300
    )
    refused = await http.post("/oauth/token", data={**form, "client_assertion": forged})
    assert refused.status_code in (400, 401)
    assert refused.json()["error"] == "invalid_client"

    wrong_audience = private_key_jwt_sign(
        private, issued.client.client_id, "https://elsewhere.example/token", alg="ES256"
    )
    refused = await http.post("/oauth/token", data={**form, "client_assertion": wrong_audience})
    assert refused.json()["error"] == "invalid_client"


async def test_a_secretless_client_cannot_use_a_secret(
    http: httpx.AsyncClient, make_client: MakeClient
) -> None:
    _, public = _agency_key()
    issued = await make_client("DINKES", "opd_officer", public_jwk=public, with_secret=False)
    response = await fetch_token(http, issued.client.client_id, "")
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
async def test_plain_http_to_a_non_loopback_host_is_refused(auth: AuthState, path: str) -> None:
    transport = httpx.ASGITransport(app=build_app(auth))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.example") as http:
        response = await http.post(path, data={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "insecure_transport"


async def test_secrets_and_tokens_stay_out_of_the_logs(
    http: httpx.AsyncClient, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    assert issued.secret is not None
    with caplog.at_level(logging.DEBUG):
        response = await fetch_token(http, issued.client.client_id, issued.secret)
        token = response.json()["access_token"]
        await http.post(
            "/oauth/revoke", data={"token": token}, auth=(issued.client.client_id, issued.secret)
        )
    assert caplog.records  # authlib does log at DEBUG, so the check below means something
    assert issued.secret not in caplog.text
    assert token not in caplog.text
