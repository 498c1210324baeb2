"""A foundation's feed: OPEN needs it serves, most severe and longest waiting first, paginated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select

from hub.actor import Actor
from hub.needs.models import Need
from hub.needs.queries import LksFeed, lks_feed_statement
from hub.needs.service import pledge_need
from hub.organizations.models import OrganizationArea, OrganizationCategory
from hub.pagination import SortKey, paginate, to_page
from tests.support.city import NOW, City


async def _expected(city_db: City, org_id: int, min_severity: int = 1) -> list[int]:
    """The feed computed by hand: filter and sort in Python."""
    categories = {
        r[0]
        for r in await city_db.all(
            select(OrganizationCategory.category_code).where(
                OrganizationCategory.organization_id == org_id
            )
        )
    }
    areas = {
        r[0]
        for r in await city_db.all(
            select(OrganizationArea.kecamatan_code).where(
                OrganizationArea.organization_id == org_id
            )
        )
    }
    needs = [row[0] for row in await city_db.all(select(Need).where(Need.status == "OPEN"))]
    chosen = [
        n
        for n in needs
        if n.kecamatan_code in areas
        and (n.category_code in categories or n.ppks_code in categories)
        and n.severity >= min_severity
    ]

    def key(n: Need) -> tuple[int, dt.datetime, int]:
        return (-n.severity, n.opened_at or n.reported_at, n.id)

    return [n.id for n in sorted(chosen, key=key)]


async def _feed_ids(city_db: City, feed: LksFeed) -> list[int]:
    order = [k.column.desc() if k.descending else k.column.asc() for k in feed.order]
    return [row.id for row in await city_db.all(feed.statement.order_by(*order))]


async def _busiest_foundations(city_db: City, count: int) -> list[int]:
    """Foundations with the longest feeds, to test on something substantial."""
    rows = await city_db.all(
        select(OrganizationArea.organization_id, func.count(Need.id.distinct()).label("size"))
        .join(Need, Need.kecamatan_code == OrganizationArea.kecamatan_code)
        .join(
            OrganizationCategory,
            (OrganizationCategory.organization_id == OrganizationArea.organization_id)
            & or_(
                OrganizationCategory.category_code == Need.category_code,
                OrganizationCategory.category_code == Need.ppks_code,
            ),
        )
        .where(Need.status == "OPEN")
        .group_by(OrganizationArea.organization_id)
        .order_by(func.count(Need.id.distinct()).desc(), OrganizationArea.organization_id)
        .limit(count)
    )
    return [int(row.organization_id) for row in rows]


async def test_the_feed_matches_a_hand_computed_filter_and_order(city_db: City) -> None:
    orgs = await _busiest_foundations(city_db, 4)
    for org_id in orgs:
        feed = lks_feed_statement(organization_id=org_id)
        expected = await _expected(city_db, org_id)
        assert len(expected) >= 5
        assert await _feed_ids(city_db, feed) == expected
        severe = lks_feed_statement(organization_id=org_id, min_severity=3)
        assert await _feed_ids(city_db, severe) == await _expected(city_db, org_id, 3)
    # A foundation matched through a PPKS type only still sees those needs.
    ppks_only = await city_db.scalar(
        select(func.count())
        .select_from(Need)
        .join(OrganizationArea, OrganizationArea.kecamatan_code == Need.kecamatan_code)
        .join(
            OrganizationCategory,
            (OrganizationCategory.organization_id == OrganizationArea.organization_id)
            & (OrganizationCategory.category_code == Need.ppks_code),
        )
        .where(Need.status == "OPEN")
    )
    assert ppks_only > 0


async def test_the_feed_pages_with_keyset_cursors(city_db: City) -> None:
    org_id = (await _busiest_foundations(city_db, 1))[0]
    feed = lks_feed_statement(organization_id=org_id)
    keys = [SortKey(k.column, k.name, k.descending) for k in feed.order]
    seen: list[int] = []
    after: str | None = None
    while True:
        rows: list[Any] = await city_db.all(paginate(feed.statement, keys, first=3, after=after))
        page = to_page(rows, keys, first=3, after=after)
        seen += [row.id for row in page.rows]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == await _expected(city_db, org_id)


async def test_a_pledged_need_leaves_every_feed(city_db: City) -> None:
    org_id = (await _busiest_foundations(city_db, 1))[0]
    feed = lks_feed_statement(organization_id=org_id)
    first = (await _feed_ids(city_db, feed))[0]
    async with city_db.sessions() as session, session.begin():
        await pledge_need(session, actor=Actor(org_id), need_id=first, now=NOW)
    assert first not in await _feed_ids(city_db, feed)


async def test_narrowing_filters(city_db: City) -> None:
    org_id = (await _busiest_foundations(city_db, 1))[0]
    everything = await _feed_ids(city_db, lks_feed_statement(organization_id=org_id))
    stored = {
        row[0].id: row[0] for row in await city_db.all(select(Need).where(Need.id.in_(everything)))
    }
    kecamatan = stored[everything[0]].kecamatan_code
    category = stored[everything[0]].category_code
    narrowed = await _feed_ids(
        city_db,
        lks_feed_statement(
            organization_id=org_id, kecamatan_codes=[kecamatan], category_codes=[category]
        ),
    )
    assert narrowed == [
        i
        for i in everything
        if stored[i].kecamatan_code == kecamatan
        and category in (stored[i].category_code, stored[i].ppks_code)
    ]
    assert narrowed
