"""A foundation reads a person's delivery details only while it holds the pledge."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import insert, update

from hub.db import create_engine
from hub.graphql.relay import to_global_id
from hub.needs.models import Need, Pledge
from tests.support.api import Api
from tests.support.partners import database_url, sql

DOCUMENT = """query($id: ID!) { node(id: $id) { ... on Need { status
  citizen { nik fullName phone household { address rt rw kkNumber } } } } }"""


async def pledge_open_need(api: Api, *, expires_in: dt.timedelta) -> int:
    """Pledge, as the test foundation, an open need in its area; return the need id."""
    org = api.identity.organization_id
    need = (
        await sql(
            database_url(api),
            "SELECT n.id FROM needs n WHERE n.status = 'OPEN' AND n.kecamatan_code IN "
            "(SELECT kecamatan_code FROM organization_areas WHERE organization_id = :org) "
            "ORDER BY n.id LIMIT 1",
            org=org,
        )
    )[0]["id"]
    now = dt.datetime.now(dt.UTC)
    engine = create_engine(str(api.app.state.settings.database_url))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(Need)
                .where(Need.id == need)
                .values(status="PLEDGED", holder_organization_id=org)
            )
            await connection.execute(
                insert(Pledge).values(
                    need_id=need,
                    organization_id=org,
                    status="ACTIVE",
                    pledged_at=now,
                    expires_at=now + expires_in,
                )
            )
    finally:
        await engine.dispose()
    return int(need)  # type: ignore[call-overload]


async def test_holder_reads_full_details_with_purpose_and_others_never(fresh_city: Api) -> None:
    holder = fresh_city.as_("lks_partner", purpose="SERVICE_DELIVERY")
    need_id = await pledge_open_need(holder, expires_in=dt.timedelta(days=14))
    variables = {"id": to_global_id("Need", need_id)}

    citizen = (await holder.data(DOCUMENT, variables))["node"]["citizen"]
    assert re.fullmatch(r"\d{4}\*{8}\d{4}", citizen["nik"])  # NIK stays masked for an LKS
    assert citizen["fullName"] and "." not in citizen["fullName"]
    assert citizen["household"]["address"].startswith("Jl.")
    assert citizen["household"]["rt"] and citizen["household"]["rw"]

    # Without a stated purpose the same foundation sees the masked form.
    masked = (await holder.as_("lks_partner", purpose=None).data(DOCUMENT, variables))["node"]
    assert masked["citizen"]["household"]["address"] is None
    assert masked["citizen"]["fullName"].endswith(".")

    # Another foundation cannot even find the pledged need.
    other = holder.as_("lks_partner_b", purpose="SERVICE_DELIVERY")
    body = await other.query(DOCUMENT, variables)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["data"] == {"node": None}  # node is nullable (Relay): null, not a null data


async def test_an_expired_pledge_gives_no_details(fresh_city: Api) -> None:
    holder = fresh_city.as_("lks_partner", purpose="SERVICE_DELIVERY")
    need_id = await pledge_open_need(holder, expires_in=dt.timedelta(seconds=-1))
    data = await holder.data(DOCUMENT, {"id": to_global_id("Need", need_id)})
    assert data["node"]["citizen"]["household"]["address"] is None
    assert data["node"]["citizen"]["fullName"].endswith(".")
