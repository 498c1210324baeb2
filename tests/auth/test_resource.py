"""Bearer validation in front of /graphql: each way a token can be bad gets its own 401."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from joserfc import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.keys import ALGORITHM, MemoryKeyStore, generate_key
from hub.auth.resource import BearerError
from hub.auth.state import AuthState
from hub.organizations import service
from tests.support.auth import token_for
from tests.support.clock import FakeClock

MakeClient = Callable[..., Awaitable[service.IssuedClient]]
Db = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
CHALLENGE = 'Bearer realm="satu-pintu-hub", error="invalid_token", error_description="{}"'


def _b64(data: dict[str, Any]) -> str:
    """Base64url of a JSON object, unpadded."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unb64(part: str) -> dict[str, Any]:
    """The JSON object in a base64url segment."""
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


async def _refused(http: httpx.AsyncClient, token: str | None, description: str) -> None:
    """Assert that /graphql refuses `token` with 401 and `description`."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = await http.post("/graphql", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE.format(description)
    error = response.json()["errors"][0]
    assert error["message"] == description
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "error": "invalid_token"}


@pytest.fixture
async def officer(make_client: MakeClient) -> service.IssuedClient:
    """An OPD officer client of Dinkes."""
    return await make_client("DINKES", "opd_officer")


@pytest.fixture
async def claims(http: httpx.AsyncClient, officer: service.IssuedClient) -> dict[str, Any]:
    """The claims of a genuine token of `officer`, to tamper with."""
    return _unb64((await token_for(http, officer)).split(".")[1])


def _sign(key_store: MemoryKeyStore, claims: dict[str, Any], **header: Any) -> str:
    """A token signed with the hub's current key, with the given claims and header."""
    key = key_store.keys[0]
    head = {"alg": ALGORITHM, "typ": "at+jwt", "kid": key.kid, **header}
    return jwt.encode(head, claims, key, algorithms=[ALGORITHM])


async def test_a_valid_token_yields_the_principal(
    http: httpx.AsyncClient, officer: service.IssuedClient, auth: AuthState
) -> None:
    token = await token_for(http, officer)
    response = await http.get("/graphql", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == officer.client.client_id
    assert body["client_pk"] == officer.client.id
    assert body["organization_id"] == officer.client.organization_id
    assert body["organization_code"] == "DINKES"
    assert body["organization_kind"] == "OPD"
    assert body["roles"] == ["opd_officer"]
    assert body["token_id"] == _unb64(token.split(".")[1])["jti"]
    principal = await auth.authenticator.authenticate_token(token)
    assert principal.roles == ("opd_officer",)


async def test_missing_token_gets_a_bare_challenge(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = await http.post("/graphql", headers=headers)
        assert response.status_code == 401
        # RFC 6750 §3.1: no error code when no token was presented.
        assert response.headers["www-authenticate"] == 'Bearer realm="satu-pintu-hub"'
        assert "bearer token is required" in response.json()["errors"][0]["message"]


async def test_health_and_the_graphiql_page_stay_open(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).status_code == 200
    page = await http.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.json() == {"page": "graphiql"}
    query = await http.get("/graphql", params={"query": "{me{id}}"})
    assert query.status_code == 401


async def test_the_scheme_is_case_insensitive(
    http: httpx.AsyncClient, officer: service.IssuedClient
) -> None:
    token = await token_for(http, officer)
    response = await http.get("/graphql", headers={"Authorization": f"bearer  {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30", "Zm9v.YmFy.YmF6"],
)
async def test_malformed(http: httpx.AsyncClient, token: str) -> None:
    await _refused(http, token, "the token is malformed (not a compact JWS)")


async def test_empty_bearer(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", headers={"Authorization": "Bearer "})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_expired(
    http: httpx.AsyncClient, officer: service.IssuedClient, clock: FakeClock
) -> None:
    token = await token_for(http, officer)
    clock.advance(900 + 31)  # past exp and the 30 s leeway
    await _refused(http, token, "the token has expired")


async def test_not_yet_valid(
    http: httpx.AsyncClient, officer: service.IssuedClient, clock: FakeClock
) -> None:
    token = await token_for(http, officer)
    clock.advance(-120)  # a verifier whose clock is two minutes behind the issuer's
    await _refused(http, token, "the token is not valid yet")


async def test_wrong_audience(
    http: httpx.AsyncClient, key_store: MemoryKeyStore, claims: dict[str, Any]
) -> None:
    token = _sign(key_store, {**claims, "aud": "another-api"})
    await _refused(http, token, "the token is meant for another audience")


async def test_wrong_issuer(
    http: httpx.AsyncClient, key_store: MemoryKeyStore, claims: dict[str, Any]
) -> None:
    token = _sign(key_store, {**claims, "iss": "https://evil.example"})
    await _refused(http, token, "the token was issued by another issuer")


async def test_alg_none(http: httpx.AsyncClient, claims: dict[str, Any]) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(claims)}."
    await _refused(http, token, "unsigned tokens (alg none) are not accepted")


async def test_algorithm_confusion(
    http: httpx.AsyncClient, key_store: MemoryKeyStore, claims: dict[str, Any]
) -> None:
    # An attacker "signs" with HS256 using the published public key as the HMAC secret.
    head = {"alg": "HS256", "typ": "at+jwt", "kid": key_store.keys[0].kid}
    token = f"{_b64(head)}.{_b64(claims)}.c2lnbmF0dXJl"
    await _refused(http, token, "tokens signed with HS256 are not accepted, only ES256")


async def test_a_hostile_alg_is_not_echoed(http: httpx.AsyncClient, claims: dict[str, Any]) -> None:
    header = _b64({"alg": 'X\\"\r\n', "typ": "at+jwt"})
    token = f"{header}.{_b64(claims)}.c2ln"
    await _refused(http, token, "tokens signed with that algorithm are not accepted, only ES256")


async def test_not_an_access_token(
    http: httpx.AsyncClient, key_store: MemoryKeyStore, claims: dict[str, Any]
) -> None:
    token = _sign(key_store, claims, typ="JWT")
    await _refused(http, token, "the token is not an access token (typ must be at+jwt)")


async def test_unknown_kid(http: httpx.AsyncClient, claims: dict[str, Any]) -> None:
    stranger = generate_key()
    head = {"alg": ALGORITHM, "typ": "at+jwt", "kid": stranger.kid}
    token = jwt.encode(head, claims, stranger, algorithms=[ALGORITHM])
    await _refused(http, token, "the token was signed with an unknown key")


async def test_missing_kid(
    http: httpx.AsyncClient, key_store: MemoryKeyStore, claims: dict[str, Any]
) -> None:
    key = key_store.keys[0]
    token = jwt.encode({"alg": ALGORITHM, "typ": "at+jwt"}, claims, key, algorithms=[ALGORITHM])
    await _refused(http, token, "the token names no signing key (kid)")


async def test_tampered(http: httpx.AsyncClient, officer: service.IssuedClient) -> None:
    header, payload, signature = (await token_for(http, officer)).split(".")
    claims = _unb64(payload)
    claims["roles"] = ["dinsos_admin"]
    await _refused(http, f"{header}.{_b64(claims)}.{signature}", "the token signature is invalid")


async def test_revoked_client(
    http: httpx.AsyncClient, officer: service.IssuedClient, db: Db, clock: FakeClock
) -> None:
    token = await token_for(http, officer)

    async def revoke(session: AsyncSession) -> None:
        await service.revoke_client(session, client_id=officer.client.client_id)

    await db(revoke)
    clock.advance(31)  # the status cache keeps an entry 30 s
    await _refused(http, token, "the client has been revoked")


async def test_suspended_organisation_stops_live_tokens_within_the_cache_ttl(
    http: httpx.AsyncClient, officer: service.IssuedClient, db: Db, clock: FakeClock
) -> None:
    token = await token_for(http, officer)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/graphql", headers=headers)).status_code == 200

    async def suspend(session: AsyncSession) -> None:
        await service.suspend_organization(session, code="DINKES")

    await db(suspend)
    # Served from the status cache until its entry ages out: at most 30 s here.
    clock.advance(20)
    assert (await http.get("/graphql", headers=headers)).status_code == 200
    clock.advance(11)
    await _refused(http, token, "the organisation DINKES is suspended")


async def test_a_withdrawn_role_leaves_live_tokens(
    http: httpx.AsyncClient, make_client: MakeClient, db: Db, clock: FakeClock
) -> None:
    admin = await make_client("DINSOS", "dinsos_admin", "opd_officer")
    headers = {"Authorization": f"Bearer {await token_for(http, admin)}"}

    async def withdraw(session: AsyncSession) -> None:
        await service.revoke_role(session, client_id=admin.client.client_id, role="dinsos_admin")

    await db(withdraw)
    clock.advance(31)
    assert (await http.get("/graphql", headers=headers)).json()["roles"] == ["opd_officer"]


async def test_header_values_can_be_checked_without_a_request(auth: AuthState) -> None:
    with pytest.raises(BearerError) as raised:
        await auth.authenticator.authenticate_header(None)
    assert raised.value.error is None
    assert raised.value.response().status_code == 401
