"""Demo credentials: one working client and token per role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.demo import DEMO_LKS, DemoCredential, issue_demo_credentials
from hub.auth.state import AuthState
from tests.support.auth import fetch_token

Db = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


async def test_one_client_and_token_per_role(
    db: Db, auth: AuthState, http: httpx.AsyncClient
) -> None:
    async def issue(session: AsyncSession) -> list[DemoCredential]:
        return await issue_demo_credentials(session, auth)

    first = await db(issue)
    assert [(c.role, c.organization_code) for c in first] == [
        ("dinsos_admin", "DINSOS"),
        ("opd_officer", "DINKES"),
        ("lks_partner", DEMO_LKS),
        ("auditor", "OMBUDSMAN-JABAR"),
    ]
    for credential in first:
        assert credential.client_secret not in repr(credential)
        header, value = credential.authorization.split(": ", 1)
        response = await http.get("/graphql", headers={header: value})
        assert response.status_code == 200, response.text
        assert response.json()["roles"] == [credential.role]
        token = await fetch_token(http, credential.client_id, credential.client_secret)
        assert token.status_code == 200

    # Again: the same clients, with new secrets; the old ones stop.
    async def issue_long(session: AsyncSession) -> list[DemoCredential]:
        return await issue_demo_credentials(session, auth, token_ttl_seconds=8 * 3600)

    second = await db(issue_long)
    assert [c.client_id for c in second] == [c.client_id for c in first]
    assert {c.expires_in for c in second} == {8 * 3600}
    old = await fetch_token(http, first[0].client_id, first[0].client_secret)
    assert old.status_code == 401
