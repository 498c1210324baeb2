"""Property: the counters equal a count of the rows, after any sequence of writes; the row
rules compiled to sets reach the same needs as the rules themselves.

`need_counts` and `contribution_months` are kept by triggers (migration 0011). On a seeded
city, random changes go through every kind of writer: the services (pledge, release,
expiry, fulfilment, report, verify), a script's plain UPDATE and INSERT, and a transaction
that rolls back. After them the counters must equal a GROUP BY of the rows, and a
foundation's or an agency's `totalCount` read off the counters
(`hub.authz.rows.need_count_statement`) must equal COUNT(*) under today's row rule
(`row_filter`) and under the rule written in plain SQL (`tests.authz.reach`), under random
filters.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hub.actor import Actor
from hub.auth.resource import Principal
from hub.authz.policy import Access, load_policy, policy_dir
from hub.authz.rows import need_count_statement, need_filter_as_sets, row_filter
from hub.db import transaction
from hub.graphql.schema import build_schema, operations_of
from hub.needs import service
from hub.needs.errors import NeedError
from hub.needs.models import Need
from hub.needs.queries import NeedFilters, filtered_statement
from hub.organizations.models import Organization
from hub.settings import Settings
from tests.authz.reach import FOUNDATION_REACH, run
from tests.support.city import NOW, City

POLICY = load_policy(policy_dir(), operations_of(build_schema(Settings())))
STATUSES = ("REPORTED", "VERIFIED", "OPEN", "PLEDGED", "FULFILLED", "REFERRED", "CLOSED")
STEPS = 60
#: The writes drawn from, pledges twice as often (they feed release, fulfil and expiry).
KINDS = ("pledge", "pledge", "release", "fulfil", "expire", "report", "verify", "script")
KINDS += ("rollback", "contribution")
SCRIPTS = (
    "UPDATE needs SET severity = 5 - severity WHERE id % 31 = :r",
    "UPDATE needs SET ppks_code = NULL WHERE id % 31 = :r",
    "UPDATE needs SET ppks_code = 'PPKS_FAKIR_MISKIN' WHERE id % 31 = :r",
    "UPDATE needs SET category_code = 'FOOD' WHERE id % 31 = :r",
    "UPDATE needs SET status = 'OPEN' WHERE status = 'VERIFIED' AND id % 31 = :r",
    "UPDATE needs SET kecamatan_code = (SELECT min(code) FROM regions "
    "WHERE level = 'KECAMATAN') WHERE id % 31 = :r",
    "UPDATE needs SET description = 'diubah' WHERE id % 31 = :r",
)


class _Rollback(Exception):
    """Raised inside a transaction to roll it back."""


async def _random_need(city: City, rng: random.Random, status: str) -> int | None:
    ids = [row[0] for row in await city.all(select(Need.id).where(Need.status == status))]
    return rng.choice(ids) if ids else None


async def _step(city: City, rng: random.Random, now: dt.datetime, foundations: list[int]) -> None:
    """One random write; refusals (a need that moved, a holder that is not the caller) are
    part of the game and change nothing."""
    kind = rng.choice(KINDS)
    try:
        async with transaction(city.sessions) as session:
            if kind in ("pledge", "rollback"):
                need = await _random_need(city, rng, "OPEN")
                if need is not None:
                    actor = Actor(organization_id=rng.choice(foundations))
                    await service.pledge_need(session, actor=actor, need_id=need, now=now)
                if kind == "rollback":
                    raise _Rollback
            elif kind in ("release", "fulfil"):
                need = await _random_need(city, rng, "PLEDGED")
                if need is not None:
                    actor = await city.pledger(need)
                    if kind == "release":
                        await service.release_pledge(
                            session, actor=actor, need_id=need, reason="tak jadi", now=now
                        )
                    else:
                        await service.close_need(
                            session,
                            actor=actor,
                            need_id=need,
                            outcome=service.CloseOutcome.FULFILLED,
                            reason=None,
                            now=now,
                        )
            elif kind == "expire":
                await service.expire_pledges(session, now=now + dt.timedelta(days=15))
            elif kind == "report":
                citizen = await session.scalar(
                    text("SELECT id FROM citizens ORDER BY id LIMIT 1 OFFSET :n"),
                    {"n": rng.randrange(1000)},
                )
                agency = await session.scalar(
                    select(Organization.id).where(Organization.kind == "OPD").limit(1)
                )
                await service.report_need(
                    session,
                    actor=Actor(organization_id=int(agency)),
                    citizen_id=int(citizen),
                    category_code=rng.choice(["FOOD", "HEALTH"]),
                    ppks_code=rng.choice([None, "PPKS_FAKIR_MISKIN"]),
                    description="kebutuhan baru",
                    severity=rng.randint(1, 4),
                    now=now,
                )
            elif kind == "verify":
                need = await _random_need(city, rng, "REPORTED")
                if need is not None:
                    agency = await session.scalar(
                        select(Organization.id).where(Organization.code == "DINSOS")
                    )
                    await service.verify_need(
                        session,
                        actor=Actor(organization_id=int(agency)),
                        need_id=need,
                        note=None,
                        now=now,
                    )
            elif kind == "script":
                # A script moves needs between cells with plain SQL, several at once, one
                # key column at a time.
                await session.execute(text(rng.choice(SCRIPTS)), {"r": rng.randrange(31)})
            else:
                await session.execute(
                    text(
                        "UPDATE contributions SET amount_rupiah = amount_rupiah + 1000, "
                        "delivered_on = :day WHERE id % 23 = :r"
                    ),
                    {"r": rng.randrange(23), "day": (now - dt.timedelta(days=40)).date()},
                )
    except (NeedError, _Rollback):
        pass


async def _cells(city: City) -> tuple[set[Any], set[Any]]:
    counted = await city.all(
        text(
            "SELECT status, kecamatan_code, category_code, ppks_code, severity, n "
            "FROM need_counts WHERE n <> 0"
        )
    )
    grouped = await city.all(
        text(
            "SELECT status, kecamatan_code, category_code, coalesce(ppks_code, ''), severity, "
            "count(*) FROM needs GROUP BY status, kecamatan_code, category_code, "
            "coalesce(ppks_code, ''), severity"
        )
    )
    return {tuple(r) for r in counted}, {tuple(r) for r in grouped}


async def _months(city: City) -> tuple[set[Any], set[Any]]:
    month = (
        "to_char(delivered_on, 'YYYY-MM')"
        if city.backend == "postgresql"
        else "strftime('%Y-%m', delivered_on)"
    )
    counted = await city.all(
        text(
            "SELECT organization_id, category_code, month, amount_rupiah, contributions "
            "FROM contribution_months WHERE contributions <> 0 OR amount_rupiah <> 0"
        )
    )
    grouped = await city.all(
        text(
            f"SELECT organization_id, category_code, {month}, sum(amount_rupiah), count(*) "
            f"FROM contributions GROUP BY organization_id, category_code, {month}"
        )
    )
    return {tuple(r) for r in counted}, {tuple(r) for r in grouped}


def _principal(org_id: int, code: str, kind: str, role: str) -> tuple[Principal, Access]:
    principal = Principal(
        client_id="counts",
        client_pk=0,
        organization_id=org_id,
        organization_code=code,
        organization_kind=kind,
        roles=(role,),
        token_id="counts",
    )
    return principal, POLICY.access([role])


def _random_filters(rng: random.Random, kecamatan: list[str], codes: list[str]) -> NeedFilters:
    def some(values: list[str] | tuple[str, ...]) -> list[str] | None:
        return rng.sample(list(values), rng.randint(1, 3)) if rng.random() < 0.4 else None

    return NeedFilters(
        kecamatan_codes=some(kecamatan),
        category_codes=some(codes),
        ppks_codes=some(codes),
        statuses=some(STATUSES),
        min_severity=rng.choice([None, None, 2, 3, 4]),
    )


async def _check_counts(city: City, rng: random.Random, foundations: list[int]) -> None:
    kecamatan = [r[0] for r in await city.all(text("SELECT DISTINCT kecamatan_code FROM needs"))]
    codes = [r[0] for r in await city.all(text("SELECT code FROM need_categories"))]
    orgs = {
        r[0]: (r[1], r[2])
        for r in await city.all(select(Organization.id, Organization.code, Organization.kind))
    }
    agency = next(i for i, (code, _) in orgs.items() if code == "DINKES")
    callers = [_principal(o, orgs[o][0], "LKS", "lks_partner") for o in foundations]
    callers.append(_principal(agency, "DINKES", "OPD", "opd_officer"))
    for principal, access in callers:
        for filters in [NeedFilters(), *(_random_filters(rng, kecamatan, codes) for _ in range(6))]:
            counted = need_count_statement(principal, access, filters)
            assert counted is not None
            rows = filtered_statement(filters).where(row_filter(principal, access, "Need"))
            expected = await city.scalar(select(func.count()).select_from(rows.subquery()))
            assert await city.scalar(counted) == expected, (principal.organization_code, filters)
            # The rule compiled to index-driven sets reaches exactly the same needs.
            as_sets = filtered_statement(filters).where(need_filter_as_sets(principal, access))
            assert {r.id for r in await city.all(as_sets)} == {r.id for r in await city.all(rows)}
        if principal.organization_kind == "LKS":
            now = dt.datetime.now(dt.UTC)
            plain = await run(
                city.url, FOUNDATION_REACH["Need"], org=principal.organization_id, now=now
            )
            assert await city.scalar(need_count_statement(principal, access, NeedFilters())) == len(
                plain
            )


@pytest.mark.parametrize("seed", [1, 2])
async def test_counters_equal_the_rows_after_random_writes(city_db: City, seed: int) -> None:
    rng = random.Random(seed)
    # Foundations with an area and categories, so that their cells are not empty.
    foundations = [
        int(r[0])
        for r in await city_db.all(
            text(
                "SELECT o.id FROM organizations o WHERE o.kind = 'LKS' AND o.status = 'ACTIVE' "
                "AND EXISTS (SELECT 1 FROM organization_areas a WHERE a.organization_id = o.id) "
                "ORDER BY o.id LIMIT 4"
            )
        )
    ]
    counted, grouped = await _cells(city_db)
    assert counted == grouped and counted
    changes_before = await city_db.scalar(text("SELECT count(*) FROM need_status_changes"))
    now = NOW
    for step in range(STEPS):
        await _step(city_db, rng, now + dt.timedelta(minutes=step), foundations)
    # The writes happened (a game of refusals only would prove nothing).
    assert await city_db.scalar(text("SELECT count(*) FROM need_status_changes")) > (
        changes_before + STEPS // 2
    )
    counted, grouped = await _cells(city_db)
    assert counted == grouped
    counted_months, grouped_months = await _months(city_db)
    assert counted_months == grouped_months and counted_months
    await _check_counts(city_db, rng, foundations)


async def test_a_filter_the_cells_do_not_key_falls_back_to_counting_rows() -> None:
    principal, access = _principal(1, "X", "LKS", "lks_partner")
    assert need_count_statement(principal, access, NeedFilters(kelurahan_codes=["x"])) is None
    assert need_count_statement(principal, access, NeedFilters(citizen_id=1)) is None
    assert need_count_statement(principal, access, NeedFilters(organization_id=1)) is None
