"""Concurrent requests at a live hub (uvicorn on a loopback port): pledges cannot collide,
and retried contributions are recorded once.

Each test serves its own seeded database with uvicorn in a thread and fires its requests
at once over real TCP connections, so the database, not the test, decides who wins.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from hub.graphql.relay import to_global_id
from hub.localtime import local_date
from tests.support import documents as doc
from tests.support.api import Api
from tests.support.identities import bearer, load_identities
from tests.support.partners import (
    Partner,
    add_foundations,
    database_url,
    live_hub,
    partner,
    sql,
)

PLEDGERS = 50
RETRIES = 15


async def _open_need(url: str) -> dict[str, Any]:
    """The lowest OPEN need of the seeded city, with its place and category."""
    rows = await sql(
        url,
        "SELECT id, citizen_id, kecamatan_code, category_code FROM needs "
        "WHERE status = 'OPEN' ORDER BY id LIMIT 1",
    )
    return rows[0]


async def test_fifty_foundations_pledge_one_need_at_once_and_one_wins(fresh_city: Api) -> None:
    url = database_url(fresh_city)
    need = await _open_need(url)
    foundations = await add_foundations(
        url, "LKS-RACE", PLEDGERS, kecamatan=need["kecamatan_code"], category=need["category_code"]
    )
    need_id = to_global_id("Need", need["id"])
    async with live_hub(url) as hub:
        client = hub.client()
        partners = [partner(hub.app, client, code, client_id) for code, client_id in foundations]
        bodies = await asyncio.gather(*(p.query(doc.PLEDGE, {"id": need_id}) for p in partners))

    assert all("errors" not in body for body in bodies), [
        b["errors"] for b in bodies if "errors" in b
    ]
    payloads = [body["data"]["pledgeNeed"] for body in bodies]
    won = [(p, who) for p, who in zip(payloads, partners, strict=True) if not p["errors"]]
    assert len(won) == 1
    payload, winner = won[0]
    assert payload["need"]["status"] == "PLEDGED"
    assert payload["need"]["holder"] == {"code": winner.label}
    codes = sorted({e["code"] for p in payloads for e in p["errors"]})
    assert codes == ["NEED_ALREADY_PLEDGED"]
    assert sum(1 for p in payloads if p["errors"]) == PLEDGERS - 1

    # The database agrees: one active pledge, one OPEN -> PLEDGED step, the winner holds it.
    pledges = await sql(
        url,
        "SELECT p.status, o.code FROM pledges p JOIN organizations o ON o.id = p.organization_id "
        "WHERE p.need_id = :need",
        need=need["id"],
    )
    assert pledges == [{"status": "ACTIVE", "code": winner.label}]
    steps = await sql(
        url,
        "SELECT count(*) AS n FROM need_status_changes WHERE need_id = :need "
        "AND from_status = 'OPEN' AND to_status = 'PLEDGED'",
        need=need["id"],
    )
    assert steps[0]["n"] == 1


async def test_retried_contributions_racing_each_other_are_recorded_once(fresh_city: Api) -> None:
    url = database_url(fresh_city)
    identities = await load_identities(url)
    foundation = identities["lks_partner"]
    # A person the foundation may see: one with an OPEN need in its service area.
    person = (
        await sql(
            url,
            "SELECT n.citizen_id FROM needs n WHERE n.status = 'OPEN' AND n.kecamatan_code IN "
            "(SELECT kecamatan_code FROM organization_areas WHERE organization_id = :org) AND "
            "n.category_code IN (SELECT category_code FROM organization_categories "
            "WHERE organization_id = :org) ORDER BY n.id LIMIT 1",
            org=foundation.organization_id,
        )
    )[0]
    contribution = {
        "citizen": to_global_id("Citizen", person["citizen_id"]),
        "category": "FOOD",
        "kind": "CASH",
        "amount": "300000",
        "deliveredOn": local_date(dt.datetime.now(dt.UTC)).isoformat(),
        "idempotencyKey": "retry-7d4e2a90",
    }
    async with live_hub(url) as hub:
        token = bearer(hub.app.state.auth, foundation).removeprefix("Bearer ")
        client = hub.client()
        retrying = Partner(client, token)
        bodies = await asyncio.gather(
            *(retrying.query(doc.RECORD, {"input": contribution}) for _ in range(RETRIES))
        )

    assert all("errors" not in body for body in bodies), [
        b["errors"] for b in bodies if "errors" in b
    ]
    payloads = [body["data"]["recordContribution"] for body in bodies]
    assert all(p["errors"] == [] for p in payloads), payloads
    assert len({p["contribution"]["id"] for p in payloads}) == 1
    assert sorted(p["created"] for p in payloads) == [False] * (RETRIES - 1) + [True]
    rows = await sql(
        url,
        "SELECT count(*) AS n FROM contributions WHERE organization_id = :org "
        "AND idempotency_key = :key",
        org=foundation.organization_id,
        key="retry-7d4e2a90",
    )
    assert rows[0]["n"] == 1
