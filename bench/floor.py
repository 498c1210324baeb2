"""The floor: `lks_needs_feed`'s page fetched by one hand-written SQL query, no GraphQL.

`GET /bench/floor?org=<organisation id>&first=50` answers with the same JSON the hub gives
for `schema/operations/lks_needs_feed.graphql` (global ids, severity names, masked NIK,
initials, age band, waiting days, the page info), from one statement joining needs with
citizens, regions and categories under the same row rule as `_open_in_service_area` in
`hub/authz/rows.py` and in the same order (severity desc, reported_at, id). There is no
token, no policy, no audit and no executor: what is left is HTTP, one query, and orjson.
The hub's throughput is reported as a fraction of this one's.

On PostgreSQL the statement runs on the asyncpg connection underneath the hub's own pool
(the floor and the hub share one pool per worker); on SQLite through SQLAlchemy `text()`.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from hub.authz.masking import initials, mask_number
from hub.registry.types import age_band, age_on

FLOOR_PATH = "/bench/floor"
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")

#: One statement: the page first (plus one row, to know whether another page follows),
#: then its citizens, categories and regions, as the hub's loaders fetch them. The page's
#: ids are chosen off the URGENT index alone (it includes the service area's columns,
#: migration 0014), as the hub's own page does (`hub.graphql.lists._page`).
FEED_SQL = """
SELECT n.id, n.severity, n.description, n.reported_at, n.opened_at, n.fulfilled_at,
       n.closed_at, n.category_code, cat.label_id, n.kelurahan_code, kel.name,
       n.kecamatan_code, kec.name, c.nik, c.full_name, c.birth_date, c.sex
FROM (
  SELECT * FROM needs
  WHERE id IN (
    SELECT id FROM needs
    WHERE status = 'OPEN'
      AND kecamatan_code IN (
        SELECT a.kecamatan_code FROM organization_areas AS a WHERE a.organization_id = {org})
      AND (category_code IN (
             SELECT oc.category_code FROM organization_categories AS oc
             WHERE oc.organization_id = {org})
           OR ppks_code IN (
             SELECT oc.category_code FROM organization_categories AS oc
             WHERE oc.organization_id = {org}))
    ORDER BY severity DESC, reported_at, id
    LIMIT {limit})
) AS n
JOIN citizens AS c ON c.id = n.citizen_id
JOIN need_categories AS cat ON cat.code = n.category_code
JOIN regions AS kel ON kel.code = n.kelurahan_code
JOIN regions AS kec ON kec.code = n.kecamatan_code
ORDER BY n.severity DESC, n.reported_at, n.id
"""

Fetch = Callable[[int, int], Awaitable[Sequence[Sequence[Any]]]]


def _global_id(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def _cursor(severity: int, reported_at: dt.datetime, need_id: int) -> str:
    """The hub's cursor format for the URGENT order (see `hub.pagination.encode_cursor`)."""
    values = [severity, {"t": reported_at.isoformat()}, need_id]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode()


def _aware(value: Any) -> Any:
    """A timestamp as an aware UTC datetime (SQLite returns naive text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _date(value: Any) -> dt.date:
    """A date (SQLite returns text)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def render_page(rows: Sequence[Sequence[Any]], first: int, now: dt.datetime) -> bytes:
    """The GraphQL-shaped JSON body of one page of the feed."""
    today = now.date()
    nodes = []
    last: tuple[int, dt.datetime, int] | None = None
    for row in rows[:first]:
        (need_id, severity, description, reported_at, opened_at, fulfilled_at, closed_at,
         category_code, category_label, kel_code, kel_name, kec_code, kec_name,
         nik, full_name, birth_date, sex) = row  # fmt: skip
        reported = _aware(reported_at)
        start = _aware(opened_at) or reported
        end = _aware(fulfilled_at) or _aware(closed_at) or now
        nodes.append(
            {
                "id": _global_id("Need", need_id),
                "severity": SEVERITIES[severity - 1],
                "waitingDays": max(0, (end - start).days),
                "description": description,
                "category": {"code": category_code, "labelId": category_label},
                "kelurahan": {"code": kel_code, "name": kel_name},
                "kecamatan": {"code": kec_code, "name": kec_name},
                "citizen": {
                    "nik": mask_number(nik),
                    "fullName": initials(full_name),
                    "ageBand": age_band(age_on(_date(birth_date), today)),
                    "sex": sex,
                },
            }
        )
        last = (severity, reported, need_id)
    page_info = {
        "hasNextPage": len(rows) > first,
        "endCursor": _cursor(*last) if last else None,
    }
    return orjson.dumps({"data": {"needs": {"pageInfo": page_info, "nodes": nodes}}})


def fetcher(engine: AsyncEngine) -> Fetch:
    """How the floor runs its one statement on `engine`'s backend."""
    if engine.dialect.name == "postgresql":
        sql = FEED_SQL.format(org="$1", limit="$2")

        async def fetch_asyncpg(org: int, limit: int) -> Sequence[Sequence[Any]]:
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                driver: Any = raw.driver_connection
                rows: Sequence[Sequence[Any]] = await driver.fetch(sql, org, limit)
                return rows

        return fetch_asyncpg

    statement = text(FEED_SQL.format(org=":org", limit=":limit"))

    async def fetch_sqlalchemy(org: int, limit: int) -> Sequence[Sequence[Any]]:
        async with engine.connect() as connection:
            result = await connection.execute(statement, {"org": org, "limit": limit})
            return result.all()

    return fetch_sqlalchemy


def floor_endpoint(engine: AsyncEngine) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint serving the floor from `engine`."""
    fetch = fetcher(engine)

    async def floor(request: Request) -> Response:
        try:
            org = int(request.query_params["org"])
            first = min(100, max(1, int(request.query_params.get("first", "50"))))
        except (KeyError, ValueError):
            return Response(b'{"errors":[{"message":"org and first"}]}', 400)
        rows = await fetch(org, first + 1)
        body = render_page(rows, first, dt.datetime.now(dt.UTC))
        return Response(body, media_type="application/json")

    return floor
