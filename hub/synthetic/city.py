"""`seed_city`: fill an empty registry with a deterministic synthetic Kota Bandung.

Families are generated and written in batches, so memory stays flat from two thousand
residents to the city's 2.6 million; ids are assigned here so that rows of one batch can refer
to each other without round trips.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from random import Random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.db import create_engine, session_factory, transaction
from hub.needs.models import Need
from hub.organizations.models import Organization
from hub.programs.models import Program
from hub.registry.models import Citizen, Household
from hub.synthetic.contributions import ContributionMaker
from hub.synthetic.names import word_lists
from hub.synthetic.needs import AGENCY_OF_DOMAIN, VERIFIER, NeedIds, NeedMaker, NeedRows
from hub.synthetic.organizations import FOUNDATIONS, make_foundations
from hub.synthetic.people import FamilyMaker, FamilyRows
from hub.synthetic.places import build_city
from hub.synthetic.programmes import PROGRAMMES, EnrolmentMaker
from hub.synthetic.rows import Row
from hub.synthetic.writer import COLUMNS, BatchWriter, next_ids
from hub.tracking.service import issue_missing

Progress = Callable[[str, int, int], None]
#: Families per transaction: about 16,000 residents and 50,000 rows in all tables.
FAMILIES_PER_BATCH = 5_000


class SeedError(ValueError):
    """The database cannot be seeded as asked."""


@dataclass(frozen=True)
class SeedSummary:
    """What `seed_city` inserted, per table, and how long it took."""

    counts: dict[str, int]
    seconds: float


@dataclass(slots=True)
class _Batch:
    """Rows of one batch of families, in every table."""

    families: FamilyRows = field(default_factory=lambda: FamilyRows([], [], []))
    enrolments: list[Row] = field(default_factory=list)
    needs: NeedRows = field(default_factory=NeedRows)

    def tables(self) -> dict[str, list[Row]]:
        """The rows by table name."""
        return {
            "households": self.families.households,
            "household_kk_numbers": self.families.kk_numbers,
            "citizens": self.families.citizens,
            "enrolments": self.enrolments,
            "needs": self.needs.needs,
            "need_status_changes": self.needs.status_changes,
            "pledges": self.needs.pledges,
            "contributions": self.needs.contributions,
        }


async def _agencies(connection: AsyncConnection) -> dict[str, int]:
    """Ids of the standing agencies by code; raise SeedError when reference data is missing."""
    rows = await connection.execute(select(Organization.code, Organization.id))
    agencies: dict[str, int] = {code: org_id for code, org_id in rows}
    wanted = {VERIFIER, *AGENCY_OF_DOMAIN.values()}
    missing = sorted(wanted - agencies.keys())
    programmes = set((await connection.scalars(select(Program.code))).all())
    missing += sorted(set(PROGRAMMES) - programmes)
    if missing:
        raise SeedError(
            f"reference data is missing ({', '.join(missing)}); run the migrations first"
        )
    return agencies


async def _check_empty(connection: AsyncConnection) -> None:
    """Raise SeedError unless the registry holds no citizens, households or foundations."""
    for model, noun in ((Citizen, "citizens"), (Household, "households")):
        count = await connection.scalar(select(func.count()).select_from(model))
        if count:
            raise SeedError(
                f"the registry already holds {count} {noun}; seed fills an empty registry "
                "only — use a fresh database"
            )
    taken = await connection.scalar(select(func.count()).where(Organization.code.like("LKS-%")))
    if taken:
        raise SeedError(f"{taken} foundations with LKS-… codes already exist; use a fresh database")


class _Generator:
    """The seeded makers of one city, producing its families batch after batch."""

    def __init__(
        self, rng: Random, seed: int, ids: dict[str, int], agencies: dict[str, int]
    ) -> None:
        """Makers drawing from `rng` in a fixed order, numbering rows from `ids`."""
        city = build_city(rng)
        self.foundations = make_foundations(rng, ids["organizations"], city.kecamatan_names)
        self.families = FamilyMaker(rng, city, word_lists())
        self.enrolments = EnrolmentMaker(rng, ids["enrolments"])
        self.contributions = ContributionMaker(rng, seed, ids["contributions"], self.foundations)
        self.needs = NeedMaker(
            rng,
            NeedIds(ids["needs"], ids["need_status_changes"], ids["pledges"]),
            agencies,
            self.foundations.index,
            self.contributions,
        )
        self.family_id = ids["households"]
        self.citizen_id = ids["citizens"]

    def foundation_rows(self) -> dict[str, list[Row]]:
        """The foundations' rows by table."""
        return {
            "organizations": self.foundations.organizations,
            "organization_categories": self.foundations.categories,
            "organization_areas": self.foundations.areas,
        }

    def batches(self, citizens: int) -> Iterator[tuple[int, dict[str, list[Row]]]]:
        """(citizens made so far, rows by table) for each batch, until `citizens` exist."""
        made = 0
        while made < citizens:
            batch = _Batch()
            for _ in range(FAMILIES_PER_BATCH):
                family = self.families.make(
                    self.family_id, self.citizen_id, citizens - made, batch.families
                )
                self.enrolments.enrol(family, batch.enrolments)
                self.needs.consider(family, batch.needs)
                self.contributions.maybe_gift(family, batch.needs.contributions)
                self.family_id += 1
                self.citizen_id += len(family.members)
                made += len(family.members)
                if made >= citizens:
                    break
            yield made, batch.tables()


async def _tracking_codes(engine: AsyncEngine, rng: Random) -> int:
    """Give every seeded need a tracking code (drawn from the seed: synthetic data only)."""
    now = dt.datetime.now(dt.UTC)
    issued = 0
    async with transaction(session_factory(engine)) as session:
        need_ids = list(await session.scalars(select(Need.id).order_by(Need.id)))
        for start in range(0, len(need_ids), 5000):
            issued += await issue_missing(
                session, need_ids=need_ids[start : start + 5000], now=now, rng=rng
            )
    return issued


async def seed_city(
    database_url: str,
    *,
    citizens: int,
    seed: int,
    on_progress: Progress | None = None,
) -> SeedSummary:
    """Fill the empty, migrated database at `database_url` with `citizens` residents."""
    if citizens < 1:
        raise SeedError(f"citizens must be at least 1, not {citizens}")
    report = on_progress or (lambda _stage, _done, _total: None)
    started = time.perf_counter()
    engine = create_engine(database_url)
    writer = BatchWriter(engine)
    try:
        async with engine.connect() as connection:
            await _check_empty(connection)
            agencies = await _agencies(connection)
            ids = await next_ids(connection)
        generator = _Generator(Random(seed), seed, ids, agencies)
        report("foundations", 0, FOUNDATIONS)
        await writer.write(generator.foundation_rows())
        report("foundations", FOUNDATIONS, FOUNDATIONS)
        report("citizens", 0, citizens)
        for made, rows in generator.batches(citizens):
            await writer.write(rows)
            report("citizens", made, citizens)
        report("finishing", 0, 1)
        await writer.finish()
        codes = await _tracking_codes(engine, Random(seed + 1))
        report("finishing", 1, 1)
    finally:
        await engine.dispose()
    counts = {name: writer.counts[name] for name in COLUMNS}
    counts["tracking_codes"] = codes
    return SeedSummary(counts=counts, seconds=time.perf_counter() - started)
