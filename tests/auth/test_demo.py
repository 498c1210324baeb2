"""Demo credentials: one working client and token per role, kept between runs."""

from __future__ import annotations

import io
import json
import re
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.auth.demo import (
    DEMO_LKS,
    SECRETS_FILE,
    DemoCredential,
    _busiest,
    demo_purpose,
    issue_demo_credentials,
)
from hub.auth.state import AuthState
from hub.cli.demo import DEMO_CITIZENS, DEMO_SEED, example_query, prepare_demo
from hub.db import create_engine, session_factory, transaction
from hub.needs.models import Need
from hub.settings import Settings
from tests.support.auth import fetch_token

Db = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
README = Path(__file__).resolve().parents[2] / "README.md"


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
    assert {c.secret_status for c in first} == {"new"}
    for credential in first:
        assert credential.client_secret not in repr(credential)
        header, value = credential.authorization.split(": ", 1)
        response = await http.get("/graphql", headers={header: value})
        assert response.status_code == 200, response.text
        assert response.json()["roles"] == [credential.role]
        token = await fetch_token(http, credential.client_id, credential.client_secret)
        assert token.status_code == 200

    # Again, knowing the secrets: the same clients and secrets, both still work.
    known = {c.client_id: c.client_secret for c in first}

    async def again(session: AsyncSession) -> list[DemoCredential]:
        return await issue_demo_credentials(
            session, auth, token_ttl_seconds=8 * 3600, known_secrets=known
        )

    second = await db(again)
    assert [(c.client_id, c.client_secret) for c in second] == list(known.items())
    assert {c.secret_status for c in second} == {"kept"}
    assert {c.expires_in for c in second} == {8 * 3600}
    assert (await fetch_token(http, first[0].client_id, first[0].client_secret)).status_code == 200

    # Without them: the same clients with new secrets, said so; the old ones stop at once.
    third = await db(issue)
    assert [c.client_id for c in third] == [c.client_id for c in first]
    assert {c.secret_status for c in third} == {"renewed"}
    old = await fetch_token(http, first[0].client_id, first[0].client_secret)
    assert old.status_code == 401


def test_each_role_is_given_a_purpose_the_policy_allows() -> None:
    assert demo_purpose("dinsos_admin") == "SERVICE_DELIVERY"
    assert demo_purpose("opd_officer") == "SERVICE_DELIVERY"
    assert demo_purpose("lks_partner") == "SERVICE_DELIVERY"
    assert demo_purpose("auditor") == "AUDIT"


# --- `hub demo` end to end, on the city it seeds ----------------------------------------------

_HEADERS_LINE = re.compile(r'^\s+(\{"Authorization": "Bearer [^"]+", "X-Purpose": "[A-Z_]+"\})$')


def _readme_queries() -> list[str]:
    """The GraphQL examples of the README's "Trying it" section."""
    section = README.read_text(encoding="utf-8").split("## Trying it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, flags=re.S)


async def _demo(settings: Settings) -> tuple[list[DemoCredential], str]:
    """Run `hub demo`'s preparation; return its credentials and what it printed."""
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    credentials = await prepare_demo(
        settings, citizens=DEMO_CITIZENS, seed=DEMO_SEED, console=console
    )
    return credentials, out.getvalue()


@pytest.fixture
async def demo_settings(empty_database_url: str, tmp_path: Path) -> Settings:
    """The demo's settings on an empty database, its `var/` in a temporary folder."""
    return Settings(database_url=empty_database_url, var_dir=tmp_path / "var")


@pytest.fixture
async def hub(demo_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The hub `hub demo` serves (same settings, so the same signing keys)."""
    app = create_app(demo_settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
    ) as client:
        yield client
    if app.state.recorder is not None:
        await app.state.recorder.close()
    await app.state.audit_engine.dispose()
    await app.state.engine.dispose()


async def _run(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.slow
async def test_what_the_demo_prints_works_as_pasted(
    demo_settings: Settings, hub: httpx.AsyncClient
) -> None:
    credentials, printed = await _demo(demo_settings)
    pasted = [
        json.loads(m.group(1)) for line in printed.splitlines() if (m := _HEADERS_LINE.match(line))
    ]
    assert len(pasted) == len(credentials) == 4, printed
    by_role = {c.role: headers for c, headers in zip(credentials, pasted, strict=True)}
    assert by_role["auditor"]["X-Purpose"] == "AUDIT"
    assert {h["X-Purpose"] for r, h in by_role.items() if r != "auditor"} == {"SERVICE_DELIVERY"}

    # Every role's printed query runs with its printed headers, and finds something.
    foundation = next(c for c in credentials if c.role == "lks_partner")
    for credential in credentials:
        assert credential.client_secret in printed
        query = _example_queries(printed)[credential.role]
        data = await _run(hub, by_role[credential.role], query)
        for name, value in data.items():
            rows = value.get("nodes", value) if isinstance(value, dict) else value
            assert rows, (credential.role, name, data)

    # The README's examples return rows for the demo's own foundation.
    examples = _readme_queries()
    assert len(examples) == 2
    regions = await _run(hub, by_role["lks_partner"], examples[0])
    assert len(regions["regions"]) == 30
    needs = await _run(hub, by_role["lks_partner"], examples[1])
    assert needs["needs"]["totalCount"] >= 10, (foundation.organization_code, needs)
    assert len(needs["needs"]["nodes"]) == 10
    assert {n["kecamatan"]["name"] for n in needs["needs"]["nodes"]} == {"Batununggal"}
    # It is the very query the demo prints for the foundation.
    assert _example_queries(printed)["lks_partner"].strip() == examples[1].strip()


def _example_queries(printed: str) -> dict[str, str]:
    """Each role's "Try:" query, as printed (indentation removed)."""
    queries: dict[str, str] = {}
    role, lines = "", None
    for line in printed.splitlines():
        if (heading := re.match(r"^(\w+) of \S+$", line)) is not None:
            role = heading.group(1)
        elif line == "  Try:":
            lines = queries.setdefault(role, "")
        elif lines is not None and line.startswith("    "):
            queries[role] += line[4:] + "\n"
        else:
            lines = None
    return queries


@pytest.mark.slow
async def test_running_the_demo_again_keeps_the_secrets_it_printed(
    demo_settings: Settings, hub: httpx.AsyncClient
) -> None:
    first, _ = await _demo(demo_settings)
    secrets_file = demo_settings.var_dir / SECRETS_FILE
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600

    # Needs reopen elsewhere meanwhile (lapsed pledges do), so another foundation is now the
    # busiest:
    # the demo still keeps the foundation it chose, and its client.
    foundation = next(c for c in first if c.role == "lks_partner").organization_code
    engine = create_engine(demo_settings.database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            await session.execute(
                update(Need).where(Need.kecamatan_code != "32.73.12").values(status="OPEN")
            )
            busiest = await _busiest(session, None)
    finally:
        await engine.dispose()
    assert busiest is not None
    assert busiest.code != foundation

    second, printed = await _demo(demo_settings)
    assert [(c.client_id, c.client_secret) for c in second] == [
        (c.client_id, c.client_secret) for c in first
    ]
    assert printed.count("the same secret as last time") == 4
    assert "RENEWED" not in printed
    for credential in first:
        token = await hub.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(credential.client_id, credential.client_secret),
        )
        assert token.status_code == 200, (credential.role, token.text)

    # Without the file the demo cannot show the old secrets again: it renews them, and says so.
    secrets_file.unlink()
    third, printed = await _demo(demo_settings)
    assert [c.client_id for c in third] == [c.client_id for c in first]
    assert printed.count("RENEWED: the secret printed before for this client no longer works") == 4
    assert "Secrets renewed for dinsos_admin, opd_officer, lks_partner, auditor" in printed
    old = await hub.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(first[0].client_id, first[0].client_secret),
    )
    assert old.status_code == 401


def test_the_foundation_query_is_the_readmes() -> None:
    from hub.auth.demo import DemoFoundation

    query = example_query("lks_partner", DemoFoundation("LKS-0121", "32.73.12", 12))
    assert query.strip() == _readme_queries()[1].strip()
