"""Apollo Client's PersistedQueryLink, from Node, against a live hub on loopback: the first
request sends the hash alone and gets PersistedQueryNotFound, the link retries with the
text and succeeds; a second run (another process, so no client-side memory) sends the
hash alone and is answered, over POST and over GET. On a role held to the trusted
documents the link sends the manifest's id, and a text of its own is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.audit.models import AuditEventRecord
from hub.db import create_engine, session_factory
from hub.edge.settings import EdgeSettings
from tests.support.identities import bearer, load_identities
from tests.support.partners import live_hub

NODE = shutil.which("node")
NPM = shutil.which("npm")
PROJECT = Path(__file__).parent / "apollo"
MANIFEST = Path(__file__).parents[2] / "schema" / "operations" / "manifest.json"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None or NPM is None, reason="Node.js 20 and npm are not installed"),
]


@pytest.fixture(scope="module")
def installed() -> None:
    """Apollo Client exactly as the committed lock names it (`.ci/run` does this first)."""
    assert NPM is not None
    if not (PROJECT / "node_modules" / "@apollo" / "client").is_dir():
        subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=PROJECT, check=True)


def run_apollo(
    base_url: str, authorization: str, *, get: bool = False, script: str = "apq.mjs"
) -> dict[str, Any]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, script],
        cwd=PROJECT,
        env={
            "PATH": "/usr/bin:/bin",
            "HUB_URL": base_url,
            "HUB_AUTHORIZATION": authorization,
            "APQ_GET": "1" if get else "0",
            "MANIFEST": str(MANIFEST),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def graphql_events(database_url: str, client_id: str) -> list[tuple[str, str | None]]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(AuditEventRecord.decision, AuditEventRecord.reason)
                .where(AuditEventRecord.client_id == client_id)
                .where(AuditEventRecord.kind == "GRAPHQL")
                .order_by(AuditEventRecord.seq)
            )
            return [(d, r) for d, r in rows.all()]
    finally:
        await engine.dispose()


async def test_apollo_clients_persisted_query_link(
    fresh_city_database_url: str, installed: None
) -> None:
    url = fresh_city_database_url
    identity = (await load_identities(url))["lks_partner"]
    async with live_hub(url) as hub:
        authorization = bearer(hub.app.state.auth, identity)
        first = run_apollo(hub.base_url, authorization)
        assert first["error"] is None
        assert first["data"]["me"]["clientId"] == identity.client_id
        # The hash alone (200, PersistedQueryNotFound), then the hash with the text.
        requests = first["requests"]
        assert [(r["withText"], r["status"]) for r in requests] == [(False, 200), (True, 200)]
        sha = requests[0]["hash"]
        assert len(sha) == 64 and requests[1]["hash"] == sha
        # A new process: the hash alone is enough now, by POST and by GET.
        second = run_apollo(hub.base_url, authorization)
        assert second["data"] == first["data"]
        hash_only = {"hash": sha, "withText": False, "status": 200}
        assert second["requests"] == [{"method": "POST", **hash_only}]
        by_get = run_apollo(hub.base_url, authorization, get=True)
        assert by_get["data"] == first["data"]
        assert by_get["requests"] == [{"method": "GET", **hash_only}]
    # The hub's side: four requests, the first refused as not found, three answered.
    assert await graphql_events(url, identity.client_id) == [
        ("DENIED", "errors: PERSISTED_QUERY_NOT_FOUND"),
        ("ALLOWED", None),
        ("ALLOWED", None),
        ("ALLOWED", None),
    ]


async def test_apollo_client_on_a_role_held_to_the_trusted_documents(
    city_database_url: str, installed: None
) -> None:
    """The link's `generateHash` gives the manifest's id by operation name: the hash alone
    runs the hub's copy, with no registration (which the allow-list would refuse)."""
    identity = (await load_identities(city_database_url))["lks_partner"]
    edge = EdgeSettings(trusted_documents_only="lks_partner")
    async with live_hub(city_database_url, edge=edge) as hub:
        authorization = bearer(hub.app.state.auth, identity)
        ran = run_apollo(hub.base_url, authorization, script="trusted.mjs")
        assert ran["error"] is None and ran["asOf"], ran
        stats = next(
            entry
            for entry in json.loads(MANIFEST.read_bytes())["operations"]
            if entry["name"] == "PublicStats"
        )
        assert ran["requests"] == [{"hash": stats["id"], "withText": False, "status": 200}]
        # A text of its own is refused, hash and all: the allow-list holds for the link too.
        free = run_apollo(hub.base_url, authorization)
        assert free["data"] is None and free["error"], free
        assert [(r["withText"], r["status"]) for r in free["requests"]] == [(False, 403)]
