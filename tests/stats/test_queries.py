"""The city's statistics, checked against the same figures computed by hand from the rows."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from hub.contributions.models import Contribution
from hub.localtime import local_date
from hub.needs.models import Need
from hub.needs.service import CloseOutcome, close_need
from hub.organizations.models import Organization
from hub.stats.queries import (
    PARTNER_FUNDING_POTENTIAL,
    ContributionTotal,
    NeedCounts,
    city_stats,
    fulfilment_time,
)
from tests.support.city import NOW, City


async def _needs(city_db: City) -> list[Need]:
    return [row[0] for row in await city_db.all(select(Need))]


async def test_city_stats_match_a_hand_computation(city_db: City) -> None:
    async with city_db.sessions() as session:
        stats = await city_stats(session, now=NOW)
    assert stats.as_of == NOW

    counts: Counter[tuple[str, str, str]] = Counter(
        (n.kecamatan_code, n.category_code, n.status) for n in await _needs(city_db)
    )
    cells = sorted({(k, c) for k, c, s in counts if s in ("OPEN", "PLEDGED", "FULFILLED")})
    assert stats.needs == [
        NeedCounts(k, c, counts[k, c, "OPEN"], counts[k, c, "PLEDGED"], counts[k, c, "FULFILLED"])
        for k, c in cells
    ]
    assert sum(c.open for c in stats.needs) == sum(
        n for (_, _, s), n in counts.items() if s == "OPEN"
    )

    orgs = dict(
        (row.id, (row.code, row.kind))
        for row in await city_db.all(select(Organization.id, Organization.code, Organization.kind))
    )
    contributions = [row[0] for row in await city_db.all(select(Contribution))]
    assert contributions
    totals: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in contributions:
        cell = totals[c.organization_id, c.category_code, c.delivered_on.strftime("%Y-%m")]
        cell[0] += c.amount_rupiah
        cell[1] += 1
    assert stats.contributions == [
        ContributionTotal(org, orgs[org][0], category, month, amount, count)
        for (org, category, month), (amount, count) in sorted(totals.items())
    ]

    partner = [c for c in contributions if orgs[c.organization_id][1] == "LKS"]
    funding = stats.partner_funding
    assert funding.total_rupiah == sum(c.amount_rupiah for c in partner)
    assert funding.potential_rupiah == PARTNER_FUNDING_POTENTIAL == 1_500_000_000_000
    assert funding.share == pytest.approx(funding.total_rupiah / 1_500_000_000_000)
    monthly: Counter[str] = Counter()
    for c in partner:
        monthly[c.delivered_on.strftime("%Y-%m")] += c.amount_rupiah
    running = 0
    expected = []
    for month in sorted(monthly):
        running += monthly[month]
        expected.append((month, monthly[month], running))
    assert [(m.month, m.amount_rupiah, m.running_total_rupiah) for m in funding.by_month] == (
        expected
    )


def _median_by_hand(needs: list[Need]) -> tuple[float, int]:
    days = [
        (n.fulfilled_at - n.opened_at) / dt.timedelta(days=1)
        for n in needs
        if n.status == "FULFILLED" and n.opened_at and n.fulfilled_at
    ]
    return statistics.median(days), len(days)


async def test_median_days_to_fulfil_on_this_backend(city_db: City) -> None:
    median, count = _median_by_hand(await _needs(city_db))
    assert count % 2 == 0  # the seed's 60: the mean of the two middle values
    async with city_db.sessions() as session:
        native = await fulfilment_time(session)
        portable = await fulfilment_time(session, portable=True)
    for result in (native, portable):
        assert result.fulfilled_needs == count
        assert result.median_days == pytest.approx(median, abs=1e-6)
    # One more fulfilled need makes the count odd: the middle value itself.
    need_id = await city_db.need_in("PLEDGED")
    async with city_db.sessions() as session, session.begin():
        await close_need(
            session,
            actor=await city_db.pledger(need_id),
            need_id=need_id,
            outcome=CloseOutcome.FULFILLED,
            reason=None,
            now=NOW,
        )
    median, count = _median_by_hand(await _needs(city_db))
    assert count % 2 == 1
    async with city_db.sessions() as session:
        for portable_ in (False, True):
            result = await fulfilment_time(session, portable=portable_)
            assert result.fulfilled_needs == count
            assert result.median_days == pytest.approx(median, abs=1e-6)


async def test_the_median_of_nothing_is_none(empty_database_url: str) -> None:
    from hub.db import create_engine, session_factory

    engine = create_engine(empty_database_url)
    try:
        async with session_factory(engine)() as session:
            for portable in (False, True):
                result = await fulfilment_time(session, portable=portable)
                assert (result.median_days, result.fulfilled_needs) == (None, 0)
            stats = await city_stats(session, now=NOW)
        assert (stats.needs, stats.contributions, stats.partner_funding.total_rupiah) == ([], [], 0)
    finally:
        await engine.dispose()


async def test_giving_counts_days_up_to_today_across_the_counters_and_this_month(
    city_db: City,
) -> None:
    # Past months come off `contribution_months`, this month off the contributions: a
    # delivery dated today counts, one later this month or next month does not (yet).
    today = local_date(NOW)
    first = today.replace(day=1)
    later = today + dt.timedelta(days=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    async with city_db.sessions() as session:
        before = await city_stats(session, now=NOW)
        template = (await session.execute(select(Contribution).limit(1))).scalar_one()
        lks = await session.scalar(select(Organization.id).where(Organization.kind == "LKS"))
        for n, day in enumerate([today, first, later, next_month, first - dt.timedelta(days=1)]):
            session.add(
                Contribution(
                    citizen_id=template.citizen_id,
                    organization_id=lks,
                    category_code="FOOD",
                    kind="CASH",
                    amount_rupiah=1000 * (n + 1),
                    delivered_on=day,
                    idempotency_key=f"stats-{n}",
                    kecamatan_code=template.kecamatan_code,
                )
            )
        await session.commit()
        after = await city_stats(session, now=NOW)
    added = after.partner_funding.total_rupiah - before.partner_funding.total_rupiah
    # Today (1000), the first of this month (2000, today too on the 1st) and the last day
    # of the previous month (5000); never tomorrow (3000) nor next month (4000).
    assert added == 1000 + 2000 + 5000
    months = {m.month: m.amount_rupiah for m in after.partner_funding.by_month}
    assert next_month.strftime("%Y-%m") not in months
    assert (
        sum(c.amount_rupiah for c in after.contributions)
        - sum(c.amount_rupiah for c in before.contributions)
        == added
    )
