"""A city where the test foundation holds, lost and fulfilled needs, and the reach of each
role written out in plain SQL, independently of `hub.authz.rows`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, text

from hub.db import UTCDateTime, create_engine

#: Which records a foundation reaches, by type, in SQL of its own (:org, :now).
_VISIBLE_NEED = """(
  (n.status = 'OPEN'
   AND n.kecamatan_code IN (SELECT kecamatan_code FROM organization_areas WHERE organization_id = :org)
   AND (n.category_code IN (SELECT category_code FROM organization_categories WHERE organization_id = :org)
        OR n.ppks_code IN (SELECT category_code FROM organization_categories WHERE organization_id = :org)))
  OR EXISTS (SELECT 1 FROM pledges p WHERE p.need_id = n.id AND p.organization_id = :org
             AND ((p.status = 'ACTIVE' AND p.expires_at > :now) OR p.status = 'FULFILLED'))
)"""  # noqa: E501
FOUNDATION_REACH = {
    "Need": f"SELECT n.id FROM needs n WHERE {_VISIBLE_NEED}",
    "Citizen": f"SELECT DISTINCT n.citizen_id FROM needs n WHERE {_VISIBLE_NEED}",
    "Household": "SELECT DISTINCT c.household_id FROM citizens c JOIN needs n "
    f"ON n.citizen_id = c.id WHERE {_VISIBLE_NEED}",
    "Contribution": "SELECT id FROM contributions WHERE organization_id = :org",
    "Organization": "SELECT id FROM organizations",
}
EVERYTHING = {
    "Need": "SELECT id FROM needs",
    "Citizen": "SELECT id FROM citizens",
    "Household": "SELECT id FROM households",
    "Contribution": "SELECT id FROM contributions",
    "Organization": "SELECT id FROM organizations",
}
#: An auditor: contributions and organisations, never a need, a person or a household.
AUDITOR_REACH = {
    "Need": None,
    "Citizen": None,
    "Household": None,
    "Contribution": "SELECT id FROM contributions",
    "Organization": "SELECT id FROM organizations",
}
REACH = {
    "dinsos_admin": EVERYTHING,
    "opd_officer": EVERYTHING,
    "lks_partner": FOUNDATION_REACH,
    "auditor": AUDITOR_REACH,
}


async def run(url: str, statement: str, **params: Any) -> list[Any]:
    """Rows of one SQL statement (committed), with datetimes bound as the hub stores them."""
    engine = create_engine(url)
    clause = text(statement)
    if ":now" in statement:
        clause = clause.bindparams(bindparam("now", type_=UTCDateTime()))
    try:
        async with engine.begin() as connection:
            result = await connection.execute(clause, params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


async def reach(url: str, role: str, org: int) -> dict[str, set[int]]:
    """The ids of each type the role reaches, as of now."""
    now = dt.datetime.now(dt.UTC)
    found: dict[str, set[int]] = {}
    for type_name, statement in REACH[role].items():
        rows = [] if statement is None else await run(url, statement, org=org, now=now)
        found[type_name] = {row[0] for row in rows}
    return found


_PLEDGE = (
    "INSERT INTO pledges (need_id, organization_id, status, pledged_at, expires_at, ended_at) "
    "VALUES (:need, :org, :status, :pledged, :expires, :ended)"
)
_HOLD = "UPDATE needs SET status = 'PLEDGED', holder_organization_id = :org WHERE id = :need"
_TIMES = ("pledged", "expires", "ended", "now")


async def stage_foundation_history(url: str, org: int, rival: int) -> dict[str, int]:
    """Give foundation `org` one need it holds, one it lost to `rival`, one it fulfilled.

    Returns the need ids by kind: `held`, `lost`, `fulfilled`.
    """
    now = dt.datetime.now(dt.UTC)
    held, lost, fulfilled = (
        row[0]
        for row in await run(
            url,
            "SELECT n.id FROM needs n WHERE n.status = 'OPEN' AND n.kecamatan_code IN "
            "(SELECT kecamatan_code FROM organization_areas WHERE organization_id = :org) "
            "AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.need_id = n.id) "
            "ORDER BY n.id LIMIT 3",
            org=org,
        )
    )
    times = {"pledged": now - dt.timedelta(days=2), "expires": now + dt.timedelta(days=14)}
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:

            async def execute(sql: str, **params: Any) -> None:
                clause = text(sql).bindparams(
                    *(bindparam(k, type_=UTCDateTime()) for k in _TIMES if k in params)
                )
                await connection.execute(clause, params)

            async def pledge(need: int, by: int, status: str, ended: dt.datetime | None) -> None:
                await execute(_PLEDGE, need=need, org=by, status=status, ended=ended, **times)

            await pledge(held, org, "ACTIVE", None)
            await execute(_HOLD, need=held, org=org)
            # Lost: the foundation released it, and the rival holds it now.
            await pledge(lost, org, "RELEASED", now)
            await pledge(lost, rival, "ACTIVE", None)
            await execute(_HOLD, need=lost, org=rival)
            await pledge(fulfilled, org, "FULFILLED", now)
            await execute(
                "UPDATE needs SET status = 'FULFILLED', fulfilled_at = :now WHERE id = :need",
                need=fulfilled,
                now=now,
            )
    finally:
        await engine.dispose()
    return {"held": held, "lost": lost, "fulfilled": fulfilled}
