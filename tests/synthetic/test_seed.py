"""Synthetic Bandung: deterministic, structurally valid, consistent, and refusing to overwrite."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
import typer
from sqlalchemy import Row, func, insert, select
from typer.testing import CliRunner

from hub.cli.seed import seed_command
from hub.db import Base, create_engine
from hub.regions.reference import bandung_regions
from hub.synthetic import SeedError, SeedSummary, seed_city
from hub.synthetic.clock import ACTIVITY_WINDOW, REFERENCE_TIME
from hub.synthetic.writer import COLUMNS
from tests.support.databases import DatabaseFactory

CITIZENS = 3000
SEED = 11
KECAMATAN = {r.code for r in bandung_regions() if r.level == "KECAMATAN"}
KELURAHAN = {r.code: r.parent_code for r in bandung_regions() if r.level == "KELURAHAN"}
Tables = dict[str, list[Row[Any]]]


async def _populate(url: str) -> None:
    """Seed the module's city into a template database."""
    await seed_city(url, citizens=CITIZENS, seed=SEED)


async def _read(url: str, names: tuple[str, ...]) -> Tables:
    """Every row of the named tables, ordered by primary key."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result: Tables = {}
            for name in names:
                table = Base.metadata.tables[name]
                query = select(table).order_by(*table.primary_key.columns)
                result[name] = list((await connection.execute(query)).all())
            return result
    finally:
        await engine.dispose()


def _digest(tables: Tables) -> str:
    """A SHA-256 over every row of the tables, in name and key order."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        for row in tables[name]:
            digest.update(repr((name, tuple(row))).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
async def seeded_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    """A database seeded with the module's city, shared read-only by this module."""
    url = await databases.fresh("synthetic", _populate)
    yield url
    await databases.drop(url)


@pytest.fixture(scope="module")
async def city(seeded_url: str) -> Tables:
    """All rows of the seeded city."""
    return await _read(seeded_url, (*COLUMNS, "programs"))


def _age(birth: dt.date) -> int:
    """Whole years between `birth` and the reference date."""
    today = REFERENCE_TIME.date()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def test_tuple_layouts_cover_every_column() -> None:
    for name, columns in COLUMNS.items():
        assert set(columns) == set(Base.metadata.tables[name].c.keys()), name
        assert len(columns) == len(set(columns)), name


async def test_summary_counts_match_the_tables_and_ids_continue(empty_database_url: str) -> None:
    calls: list[tuple[str, int, int]] = []
    summary = await seed_city(
        empty_database_url,
        citizens=2500,
        seed=3,
        on_progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    assert isinstance(summary, SeedSummary) and summary.seconds > 0
    assert summary.counts["citizens"] == 2500
    assert summary.counts["organizations"] == 300
    tables = await _read(empty_database_url, tuple(COLUMNS))
    lks = [o for o in tables["organizations"] if o.kind == "LKS"]
    assert len(lks) == 300
    ids = {o.id for o in lks}
    # The standing agencies and their categories were there before the seed.
    tables["organizations"] = lks
    tables["organization_categories"] = [
        c for c in tables["organization_categories"] if c.organization_id in ids
    ]
    assert summary.counts == {name: len(rows) for name, rows in tables.items()}
    assert all(summary.counts[name] > 0 for name in COLUMNS)
    assert calls[-1] == ("finishing", 1, 1)
    assert ("citizens", 2500, 2500) in calls
    # Sequences were moved past the assigned ids: a later insert gets the next id.
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            table = Base.metadata.tables["need_status_changes"]
            result = await connection.execute(
                insert(table).returning(table.c.id),
                {"need_id": 1, "to_status": "OPEN", "changed_at": REFERENCE_TIME},
            )
            assert result.scalar_one() == summary.counts["need_status_changes"] + 1
    finally:
        await engine.dispose()


async def test_same_seed_gives_the_same_city(
    empty_database_url: str, databases: DatabaseFactory
) -> None:
    other = await databases.fresh("empty")
    try:
        for url in (empty_database_url, other):
            await seed_city(url, citizens=2000, seed=5)
        names = tuple(COLUMNS)
        first, second = await _read(empty_database_url, names), await _read(other, names)
    finally:
        await databases.drop(other)
    assert len(first["citizens"]) == 2000
    assert _digest(first) == _digest(second)


async def test_another_seed_gives_another_city(empty_database_url: str, city: Tables) -> None:
    await seed_city(empty_database_url, citizens=CITIZENS, seed=SEED + 1)
    other = await _read(empty_database_url, ("citizens",))
    assert _digest(other) != _digest({"citizens": city["citizens"]})


def test_niks_are_unique_and_well_formed(city: Tables) -> None:
    citizens = city["citizens"]
    assert len(citizens) == CITIZENS
    assert len({c.nik for c in citizens}) == CITIZENS
    for c in citizens:
        assert re.fullmatch(r"\d{16}", c.nik), c.nik
        assert f"{c.nik[:2]}.{c.nik[2:4]}.{c.nik[4:6]}" in KECAMATAN, c.nik
        day, month, year = int(c.nik[6:8]), int(c.nik[8:10]), int(c.nik[10:12])
        assert (day > 40) == (c.sex == "F"), c.nik
        day -= 40 if day > 40 else 0
        assert (day, month, year) == (c.birth_date.day, c.birth_date.month, c.birth_date.year % 100)
        assert int(c.nik[12:]) >= 1


def test_kk_numbers_are_unique_and_match_the_household(city: Tables) -> None:
    households = city["households"]
    issued = {k.household_id: k for k in city["household_kk_numbers"]}
    assert len({h.kk_number for h in households}) == len(households) == len(issued)
    assert len({h.dtks_id for h in households}) == len(households)
    for h in households:
        assert re.fullmatch(r"\d{16}", h.kk_number)
        assert h.kk_number[:6] == h.kecamatan_code.replace(".", "")
        kk = issued[h.id]
        assert kk.kk_number == h.kk_number and kk.valid_until is None
        assert h.kk_number[6:12] == kk.valid_from.strftime("%d%m%y")
        assert int(h.kk_number[12:]) >= 1


def test_households_cover_every_kelurahan(city: Tables) -> None:
    households = city["households"]
    assert {h.kelurahan_code for h in households} == set(KELURAHAN)
    for h in households:
        assert KELURAHAN[h.kelurahan_code] == h.kecamatan_code
        assert 1 <= h.welfare_decile <= 10 and h.source == "SEED"
        assert re.fullmatch(r"\d{3}", h.rt) and re.fullmatch(r"\d{3}", h.rw)
        assert re.fullmatch(r"Jl\. .+ No\. \d+", h.address)
    deciles = Counter(h.welfare_decile for h in households)
    assert deciles[1] > deciles[10]
    sizes = Counter(c.household_id for c in city["citizens"])
    assert set(sizes.values()) <= set(range(1, 9))
    assert 2.9 <= len(city["citizens"]) / len(households) <= 3.5


def test_families_are_plausible(city: Tables) -> None:
    members: dict[int, list[Row[Any]]] = defaultdict(list)
    for c in city["citizens"]:
        members[c.household_id].append(c)
        age = _age(c.birth_date)
        assert 0 <= age <= 98
        if c.occupation == "Pelajar":
            assert 5 <= age <= 18
        if c.education in ("D3", "S1", "S2"):
            assert age >= 21
        if c.phone is not None:
            assert age >= 17 and re.fullmatch(r"08\d{9,11}", c.phone)
    for family in members.values():
        head, *others = family
        assert head.relationship == "HEAD" and _age(head.birth_date) >= 20
        assert all(o.relationship != "HEAD" for o in others)
        for other in others:
            if other.relationship == "SPOUSE":
                assert other.sex != head.sex
            if other.relationship == "PARENT":
                assert _age(other.birth_date) >= _age(head.birth_date) + 20
            if other.relationship == "CHILD":
                assert _age(other.birth_date) <= _age(head.birth_date) - 15
            if other.relationship == "GRANDCHILD":
                assert _age(other.birth_date) <= _age(head.birth_date) - 30
    share = sum(c.has_disability for c in city["citizens"]) / CITIZENS
    assert 0.01 <= share <= 0.04
    share = sum(c.has_chronic_illness for c in city["citizens"]) / CITIZENS
    assert 0.05 <= share <= 0.12


def test_needs_have_consistent_histories(city: Tables) -> None:
    organizations = {o.id: o for o in city["organizations"]}
    dinsos = next(o.id for o in city["organizations"] if o.code == "DINSOS")
    households = {h.id: h for h in city["households"]}
    citizens = {c.id: c for c in city["citizens"]}
    changes: dict[int, list[Row[Any]]] = defaultdict(list)
    for change in city["need_status_changes"]:
        changes[change.need_id].append(change)
    pledges: dict[int, list[Row[Any]]] = defaultdict(list)
    for pledge in city["pledges"]:
        pledges[pledge.need_id].append(pledge)
    delivered = {c.need_id: c for c in city["contributions"] if c.need_id is not None}
    needs = city["needs"]
    assert 0.10 <= len(needs) / CITIZENS <= 0.17
    assert {n.status for n in needs} == {
        "REPORTED", "VERIFIED", "OPEN", "PLEDGED", "FULFILLED", "REFERRED", "CLOSED",
    }  # fmt: skip
    for n in needs:
        household = households[citizens[n.citizen_id].household_id]
        assert (n.kecamatan_code, n.kelurahan_code) == (
            household.kecamatan_code,
            household.kelurahan_code,
        )
        assert organizations[n.reported_by_organization_id].kind in (
            "OPD",
            "LKS",
        )
        assert REFERENCE_TIME - dt.timedelta(seconds=ACTIVITY_WINDOW) <= n.reported_at
        times = [n.reported_at, n.verified_at, n.opened_at, n.fulfilled_at or n.closed_at]
        present = [t for t in times if t is not None]
        assert present == sorted(present) and present[-1] <= n.updated_at <= REFERENCE_TIME
        assert (n.verified_at is None) == (n.verified_by_organization_id is None)
        assert n.verified_by_organization_id in (None, dinsos)
        history = changes[n.id]
        assert history[0].from_status is None and history[0].to_status == "REPORTED"
        assert history[0].changed_at == n.reported_at
        for before, after in itertools.pairwise(history):
            assert after.from_status == before.to_status
            assert after.changed_at >= before.changed_at
        assert history[-1].to_status == n.status and history[-1].changed_at == n.updated_at
        active = [p for p in pledges[n.id] if p.status == "ACTIVE"]
        assert len(active) <= 1
        for p in pledges[n.id]:
            assert p.expires_at == p.pledged_at + dt.timedelta(days=14)
            assert p.ended_at is None or p.pledged_at <= p.ended_at <= p.expires_at
            assert organizations[p.organization_id].kind == "LKS"
            assert organizations[p.organization_id].status == "ACTIVE"
        if n.status in ("REPORTED", "VERIFIED", "OPEN", "CLOSED"):
            assert n.holder_organization_id is None and not active
        if n.status == "PLEDGED":
            assert [p.organization_id for p in active] == [n.holder_organization_id]
            assert active[0].expires_at > REFERENCE_TIME
        if n.status == "FULFILLED":
            assert n.fulfilled_at is not None
            done = [p for p in pledges[n.id] if p.status == "FULFILLED"]
            assert [p.organization_id for p in done] == [n.holder_organization_id]
            contribution = delivered[n.id]
            assert contribution.organization_id == n.holder_organization_id
            assert contribution.citizen_id == n.citizen_id
            assert contribution.kecamatan_code == n.kecamatan_code
            assert contribution.delivered_on == n.fulfilled_at.date()
        if n.status == "REFERRED":
            assert organizations[n.holder_organization_id].kind == "OPD"


def test_contributions_are_well_formed(city: Tables) -> None:
    contributions = city["contributions"]
    assert any(c.need_id is None for c in contributions)
    keys = {(c.organization_id, c.idempotency_key) for c in contributions}
    assert len(keys) == len(contributions)
    for c in contributions:
        assert re.fullmatch(r"[0-9a-f]{64}", c.evidence_sha256)
        assert c.amount_rupiah >= 0 and isinstance(c.amount_rupiah, int)
        assert (c.quantity is None) == (c.unit is None)
        assert c.kind in ("CASH", "IN_KIND", "SERVICE")
        assert c.delivered_on <= REFERENCE_TIME.date()


def test_foundations_serve_categories_and_kecamatan(city: Tables) -> None:
    lks = [o for o in city["organizations"] if o.kind == "LKS"]
    assert [o.code for o in lks] == [f"LKS-{n:04d}" for n in range(1, 301)]
    assert len({o.registration_number for o in lks}) == 300
    assert len({o.name for o in lks}) == 300
    assert all(o.name.startswith(("Yayasan", "LKS", "Panti", "Rumah", "IPWL")) for o in lks)
    assert Counter(o.status for o in lks)["ACTIVE"] > 240
    ids = {o.id for o in lks}
    categories = Counter(
        c.organization_id for c in city["organization_categories"] if c.organization_id in ids
    )
    areas = Counter(a.organization_id for a in city["organization_areas"])
    assert set(categories) == set(areas) == ids
    assert set(categories.values()) <= {1, 2, 3, 4}
    assert set(areas.values()) <= set(range(1, 7))
    assert {a.kecamatan_code for a in city["organization_areas"]} <= KECAMATAN


def test_enrolments_follow_the_programmes(city: Tables) -> None:
    citizens = {c.id: c for c in city["citizens"]}
    households = {h.id: h for h in city["households"]}
    enrolments = city["enrolments"]
    assert {e.program_code for e in enrolments} == {p.code for p in city["programs"]}
    for e in enrolments:
        citizen = citizens[e.citizen_id]
        assert citizen.birth_date <= e.started_on <= REFERENCE_TIME.date()
        assert e.ended_on is None or e.started_on <= e.ended_on <= REFERENCE_TIME.date()
        assert households[citizen.household_id].welfare_decile <= 6
        if e.program_code == "PIP":
            assert 6 <= _age(citizen.birth_date) <= 18


async def test_refuses_a_registry_that_is_not_empty(seeded_url: str) -> None:
    with pytest.raises(SeedError, match=f"already holds {CITIZENS} citizens.*fresh database"):
        await seed_city(seeded_url, citizens=10, seed=1)


async def test_refuses_fewer_than_one_citizen(empty_database_url: str) -> None:
    with pytest.raises(SeedError, match="at least 1"):
        await seed_city(empty_database_url, citizens=0, seed=1)


async def test_cli_migrates_seeds_and_prints_counts(empty_database_url: str) -> None:
    app = typer.Typer()
    app.command()(seed_command)
    args = ["--citizens", "300", "--seed", "2", "--database-url", empty_database_url]
    # The command runs its own event loop, so it must run outside this test's loop.
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    assert "citizens" in result.output and "300" in result.output
    again = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert again.exit_code == 1 and "already holds 300 citizens" in again.output
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            table = Base.metadata.tables["citizens"]
            assert await connection.scalar(select(func.count()).select_from(table)) == 300
    finally:
        await engine.dispose()
