"""The hub composed with the example agency under Hive Gateway, queried both ways, live.

Real tools only: @theguild/federation-composition composes the hub's subgraph SDL with the
agency's, Hive Gateway serves the supergraph, the hub and the agency run under uvicorn on
loopback. The gateway forwards the caller's token and purpose: masking, row rules and the
audit trail still happen at the hub.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.auth.keys import FileKeyStore
from hub.auth.state import AuthState
from hub.db import create_engine, session_factory
from hub.registry.models import Citizen
from hub.settings import Settings
from tests.federation.audit import events_of
from tests.federation.servers import (
    GATEWAY_DIR,
    ROOT,
    agency_record,
    free_port,
    start,
    start_agency,
    stop,
    wait_until_up,
    write_agency_table,
)
from tests.support import identities
from tests.support.identities import bearer, load_identities

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("node") is None,
        reason="Node.js is not installed: the composition and gateway tests need node 20+",
    ),
    pytest.mark.skipif(
        not (GATEWAY_DIR / "node_modules" / ".bin" / "hive-gateway").exists(),
        reason="federation/gateway/node_modules is missing: run `npm ci` in federation/gateway",
    ),
]

NIK_MASK = re.compile(r"^\d{4}\*{8}\d{4}$")


@dataclass
class Federation:
    """The live gateway, and how to call it as one of the test clients."""

    gateway: str
    database_url: str
    auth: AuthState
    identities: dict[str, identities.TestIdentity]

    async def query(
        self, who: str, document: str, *, purpose: str | None = "SERVICE_DELIVERY"
    ) -> tuple[dict[str, Any], str]:
        """POST `document` to the gateway as `who`; return the body and the request id."""
        request_id = f"gw-{uuid.uuid4().hex}"
        headers = {
            "authorization": bearer(self.auth, self.identities[who]),
            "x-request-id": request_id,
        }
        if purpose:
            headers["x-purpose"] = purpose
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(self.gateway, json={"query": document}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json(), request_id


async def _compose(tmp: Path, hub_url: str, agency_url: str) -> Path:
    """The supergraph of the hub's committed subgraph SDL and the agency's live one."""
    async with httpx.AsyncClient() as client:
        agency_sdl = (await client.post(agency_url, json={"query": "{ _service { sdl } }"})).json()
    (tmp / "opd.graphql").write_text(agency_sdl["data"]["_service"]["sdl"])
    hub_sdl = ROOT / "schema" / "hub.subgraph.graphql"
    (tmp / "subgraphs.json").write_text(
        json.dumps(
            [
                {"name": "hub", "url": hub_url, "sdl": str(hub_sdl)},
                {"name": "opd", "url": agency_url, "sdl": "opd.graphql"},
            ]
        )
    )
    supergraph = tmp / "supergraph.graphql"
    composer = await start(
        ["node", "compose.mjs", str(tmp / "subgraphs.json"), str(supergraph)], {}, cwd=GATEWAY_DIR
    )
    _, errors = await composer.communicate()
    assert composer.returncode == 0, errors.decode()
    return supergraph


@pytest.fixture(scope="module")
async def federation(
    city_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Federation]:
    """A live hub on the shared city (read only), the example agency and Hive Gateway."""
    url = city_database_url
    tmp_path = tmp_path_factory.mktemp("federation")
    hub_port, agency_port, gateway_port = free_port(), free_port(), free_port()
    env = {
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(tmp_path / "var"),
        "HUB_SIGNING_KEY_FILE": str(tmp_path / "signing.pem"),
        # The shared city is read only: no sweeping of lapsed pledges from this server.
        "HUB_PLEDGE_SWEEP_SECONDS": "0",
    }
    FileKeyStore(tmp_path / "signing.pem", create=True).load()
    engine = create_engine(url)
    auth = AuthState.from_settings(Settings.from_env(env), session_factory(engine))
    processes = []
    try:
        hub = await start(
            [sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory", "--port",
             str(hub_port), "--log-level", "warning"],
            env,
        )  # fmt: skip
        processes.append(hub)
        await write_agency_table(url, tmp_path / "records.csv")
        processes.append(await start_agency(tmp_path / "records.csv", agency_port, token=None))
        await wait_until_up(hub, f"http://127.0.0.1:{hub_port}/readyz")
        supergraph = await _compose(
            tmp_path,
            f"http://127.0.0.1:{hub_port}/graphql",
            f"http://127.0.0.1:{agency_port}/graphql",
        )
        gateway = await start(
            ["node", "node_modules/.bin/hive-gateway", "supergraph", str(supergraph),
             "--host", "127.0.0.1", "--port", str(gateway_port), "-c", "gateway.config.mjs"],
            {"SUPERGRAPH": str(supergraph)},
            cwd=GATEWAY_DIR,
        )  # fmt: skip
        processes.append(gateway)
        await wait_until_up(gateway, f"http://127.0.0.1:{gateway_port}/healthcheck")
        yield Federation(
            f"http://127.0.0.1:{gateway_port}/graphql", url, auth, await load_identities(url)
        )
    finally:
        for process in reversed(processes):
            await stop(process)
        await engine.dispose()


async def _citizen_ids_by_nik(url: str, niks: list[str]) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Citizen.nik, Citizen.id).where(Citizen.nik.in_(niks))
            )
            return {nik: cid for nik, cid in rows}
    finally:
        await engine.dispose()


async def test_both_directions_through_the_gateway(federation: Federation) -> None:
    # From the hub to the agency: the hub's citizens, with the agency's clinic visits.
    body, request_id = await federation.query(
        "opd_officer",
        "{ citizens(first: 10) { nodes { nik fullName clinicVisits { clinic { code name } } } } }",
    )
    assert "errors" not in body, body
    people = body["data"]["citizens"]["nodes"]
    for person in people:
        clinic = agency_record(person["nik"])["clinic"]
        assert [v["clinic"]["code"] for v in person["clinicVisits"]] == ([clinic] if clinic else [])
    assert any(p["clinicVisits"] for p in people)
    hub_events = await events_of(federation.database_url, request_id)
    assert hub_events and all(e.purpose == "SERVICE_DELIVERY" for e in hub_events)

    # From the agency to the hub: the agency's clinics, their visitors resolved at the hub.
    body, request_id = await federation.query(
        "opd_officer", "{ clinics { code visits { citizen { nik fullName ageBand } } } }"
    )
    assert "errors" not in body, body
    visitors = [v["citizen"] for c in body["data"]["clinics"] for v in c["visits"]]
    assert visitors and all(v["fullName"] and v["ageBand"] for v in visitors)
    # The hub recorded the gateway's _entities call: every visitor's name, shown in full (the
    # NIK came from the agency, as the key, so the hub did not return it).
    (event,) = await events_of(federation.database_url, request_id)
    ids = await _citizen_ids_by_nik(federation.database_url, [v["nik"] for v in visitors])
    assert event.decision == "ALLOWED" and event.purpose == "SERVICE_DELIVERY"
    assert {cid: sorted(f) for cid, f in event.citizens.items()} == {
        cid: ["Citizen.fullName"] for cid in ids.values()
    }


async def test_a_foundation_through_the_gateway_is_masked_at_the_hub(
    federation: Federation,
) -> None:
    body, request_id = await federation.query(
        "lks_partner",
        "{ needs(first: 5, filter: {status: [OPEN]}) { nodes { citizen { nik fullName "
        "clinicVisits { clinic { code } } } } } }",
    )
    assert "errors" not in body, body
    citizens = [n["citizen"] for n in body["data"]["needs"]["nodes"]]
    assert citizens
    for citizen in citizens:
        assert NIK_MASK.fullmatch(citizen["nik"])  # masked by the hub, as without a gateway
        assert citizen["fullName"].endswith(".")
        assert citizen["clinicVisits"] == []  # a masked NIK joins nothing at the agency
    (event,) = await events_of(federation.database_url, request_id)
    assert event.purpose == "SERVICE_DELIVERY" and event.citizens == {}

    # Starting at the agency, the hub refuses the visitors a foundation may not reach.
    body, request_id = await federation.query(
        "lks_partner", "{ clinics { visits { citizen { nik fullName } } } }"
    )
    visitors = [v["citizen"] for c in body["data"]["clinics"] for v in c["visits"]]
    assert visitors
    assert all(v["fullName"] is None or v["fullName"].endswith(".") for v in visitors)
    (event,) = await events_of(federation.database_url, request_id)
    assert event.citizens == {}

    # No token: the hub refuses the gateway's call; nothing is read.
    async with httpx.AsyncClient() as client:
        response = await client.post(
            federation.gateway, json={"query": "{ citizens(first: 1) { nodes { nik } } }"}
        )
    assert response.json().get("data") in (None, {"citizens": None})
