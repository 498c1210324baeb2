"""A database outage under load: every answer is in its protocol, coded, with its request id.

The hub runs on a SQLite file that is swapped for a directory mid-test (no connection can
open it; the pools are emptied so that none is left open), then put back, while GraphQL
reads, mutations and token requests keep arriving concurrently.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.auth.keys import MemoryKeyStore
from hub.edge.settings import EdgeSettings
from hub.settings import AuthSettings, Settings
from tests.conftest import populate_city
from tests.support.databases import DatabaseFactory
from tests.support.identities import bearer, load_identities

READ = "{ needs(first: 3) { nodes { id status } } }"
WRITE = 'mutation { verifyNeed(id: "TmVlZDo5OTk5OTk=", note: "x") { errors { code } } }'


def _check(response: httpx.Response, phase: str) -> str:
    """Assert the response is protocol-shaped; return its code (`ok` for a success)."""
    assert response.headers.get("x-request-id"), (phase, response.text)
    assert response.headers["content-type"].split(";")[0].endswith("json"), response.text
    body: dict[str, Any] = response.json()
    if response.request.url.path.startswith("/oauth/"):
        assert set(body) >= {"error", "error_description"}, body
        if response.status_code == 503:
            assert body["error"] == "temporarily_unavailable", body
            assert response.headers.get("retry-after") or "audit" in body["error_description"]
            return "temporarily_unavailable"
        assert (response.status_code, body["error"]) == (401, "invalid_client"), body
        return "ok"
    if response.status_code == 200 and "errors" not in body:
        return "ok"
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert all(e["extensions"].get("requestId") for e in body["errors"]), body
    assert codes <= {"SERVICE_UNAVAILABLE", "AUDIT_UNAVAILABLE", "COMMIT_FAILED"}, body
    if body.get("data") is None:
        assert response.status_code == 503 and response.headers["retry-after"], response
    return codes.pop()


def _files(database: Path) -> list[Path]:
    return [Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm")]


def _take_away(database: Path) -> None:
    """Move the file and its WAL aside (open connections keep theirs) and put a directory
    in its place: what "cannot be opened" looks like to SQLite."""
    for path in _files(database):
        if path.exists():
            path.rename(f"{path}.aside")
    database.mkdir()


def _put_back(database: Path) -> None:
    database.rmdir()
    for path in _files(database):
        if Path(f"{path}.aside").exists():
            Path(f"{path}.aside").rename(path)


@pytest.mark.slow
async def test_a_database_outage_is_answered_in_protocol(tmp_path: Path) -> None:
    # SQLite whatever the suite's backend: the outage is made by taking the file away.
    factory = DatabaseFactory(None, tmp_path)
    url = await factory.fresh("outage", populate_city)
    database = Path(url.removeprefix("sqlite+aiosqlite:///"))
    settings = Settings(
        database_url=url,
        var_dir=Path(tempfile.mkdtemp(prefix="hub-outage-")),
        # Both background reads fall due on every request, so the outage reaches them.
        policy_check_seconds=0,
        auth=AuthSettings(status_cache_seconds=0),
        # The wrong secrets sent before, during and after would lock the client out (429):
        # the lockout is tests/edge's subject, not this one's.
        edge=EdgeSettings(rate_limits=False),
    )
    app = create_app(settings, key_store=MemoryKeyStore())
    identities = await load_identities(url)
    authorization = bearer(app.state.auth, identities["dinsos_admin"])
    seen: dict[str, dict[str, int]] = {}
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
    )

    async def one(kind: str, phase: str) -> None:
        if kind == "token":
            response = await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(identities["auditor"].client_id, "not-the-secret"),
            )
        else:
            response = await client.post(
                "/graphql",
                json={"query": READ if kind == "read" else WRITE},
                headers={"authorization": authorization, "x-purpose": "SERVICE_DELIVERY"},
            )
        code = _check(response, phase)
        counts = seen.setdefault(phase, {})
        counts[code] = counts.get(code, 0) + 1

    async def burst(phase: str) -> None:
        await asyncio.gather(*(one(k, phase) for k in ("read", "write", "token") * 4))

    async def empty_pools() -> None:
        await app.state.engine.dispose()
        await app.state.audit_engine.dispose()

    try:
        await burst("before")
        # The file and its WAL move aside together, while requests are in flight (those
        # on an open connection may still finish). The pools are emptied only between
        # bursts: a connection checked out during `dispose()` would be left unclosed.
        in_flight = asyncio.gather(*(burst("during") for _ in range(3)))
        await asyncio.sleep(0)
        _take_away(database)
        await in_flight
        await empty_pools()
        await asyncio.gather(*(burst("during") for _ in range(3)))
        _put_back(database)
        await empty_pools()
        await burst("after")
    finally:
        await client.aclose()
        if app.state.recorder is not None:
            await app.state.recorder.close()
        await empty_pools()
        shutil.rmtree(settings.var_dir, ignore_errors=True)
    assert set(seen["before"]) == {"ok"}, seen
    assert set(seen["after"]) == {"ok"}, seen
    assert set(seen["during"]) - {"ok"}, seen  # the outage was seen, and answered in protocol
    assert "SERVICE_UNAVAILABLE" in seen["during"] and "temporarily_unavailable" in seen["during"]


async def test_an_unreachable_postgresql_is_answered_in_protocol(tmp_path: Path) -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", var_dir=tmp_path
    )
    app = create_app(settings, key_store=MemoryKeyStore())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
        token = await c.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=("someone", "x")
        )
        minted = app.state.auth.tokens.mint(
            client_id="someone", organization_code="DINSOS", organization_kind="OPD", roles=[]
        )
        graphql = await c.post(
            "/graphql",
            json={"query": "{ needs(first: 1) { totalCount } }"},
            headers={"authorization": f"Bearer {minted.access_token}"},
        )
    await app.state.audit_engine.dispose()
    await app.state.engine.dispose()
    assert _check(token, "down") == "temporarily_unavailable"
    assert _check(graphql, "down") == "SERVICE_UNAVAILABLE"
