"""`seed_city`: fill an empty registry with a deterministic synthetic Kota Bandung.

Families are generated and written in batches, so memory stays flat from two thousand
residents to the city's 2.6 million; ids are assigned here so that rows of one batch can refer
to each other without round trips.

Each batch is one transaction, so a seed cut short (a crash, a database restart) leaves the
foundations and a prefix of the batches, never half a batch. `seed_city(..., resume=True)`
finishes such a registry: the generator is deterministic, so it replays the city from the
same seed, checks that the last batch in the database is the one it generates at that
point, skips what is there and writes the rest. A seed is finished once every need has its
tracking code, the last step (`seed_finished`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from random import Random
from typing import cast

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
from hub.synthetic.organizations import FOUNDATIONS, ORGANIZATION_COLUMNS, make_foundations
from hub.synthetic.people import FamilyMaker, FamilyRows
from hub.synthetic.places import build_city
from hub.synthetic.programmes import PROGRAMMES, EnrolmentMaker
from hub.synthetic.rows import Row
from hub.synthetic.writer import COLUMNS, BatchWriter, next_ids
from hub.tracking.models import TrackingCode
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
    #: Citizens an interrupted seed had already written (`resume=True`), kept as they were.
    resumed_citizens: int = 0


def resume_hint(citizens: int, seed: int) -> str:
    """The command that finishes an interrupted seed of this city."""
    return f"hub seed --resume --citizens {citizens} --seed {seed}"


@dataclass(frozen=True, slots=True)
class _Partial:
    """What an interrupted seed left: its first foundation id, its last household, citizens."""

    first_foundation_id: int
    last_household_id: int
    citizens: int


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


def _not_empty(what: str) -> SeedError:
    return SeedError(
        f"{what}; seed fills an empty registry only. If an earlier `hub seed` was cut short, "
        "finish it with `hub seed --resume` and the same --citizens and --seed; otherwise "
        "use a fresh database"
    )


async def _check_empty(connection: AsyncConnection) -> None:
    """Raise SeedError unless the registry holds no citizens, households or foundations."""
    for model, noun in ((Citizen, "citizens"), (Household, "households")):
        count = await connection.scalar(select(func.count()).select_from(model))
        if count:
            raise _not_empty(f"the registry already holds {count} {noun}")
    taken = await connection.scalar(select(func.count()).where(Organization.code.like("LKS-%")))
    if taken:
        raise _not_empty(f"{taken} foundations with LKS-… codes already exist")


async def _partial(connection: AsyncConnection) -> _Partial | None:
    """What an earlier seed left in the registry, or None when it holds no seeded city."""
    first = await connection.scalar(
        select(func.min(Organization.id)).where(Organization.code.like("LKS-%"))
    )
    citizens = int(await connection.scalar(select(func.count()).select_from(Citizen)) or 0)
    if first is None:
        if citizens:
            raise SeedError(
                f"the registry holds {citizens} citizens but no seeded foundations: it was not "
                "filled by `hub seed`, so there is no seed to resume; use a fresh database"
            )
        return None
    last = await connection.scalar(select(func.max(Household.id)))
    return _Partial(first_foundation_id=first, last_household_id=last or 0, citizens=citizens)


async def seed_finished(connection: AsyncConnection) -> bool:
    """Whether the seed's last step ran: every need holds a tracking code."""
    missing = await connection.scalar(
        select(func.count())
        .select_from(Need)
        .where(~select(TrackingCode.need_id).where(TrackingCode.need_id == Need.id).exists())
    )
    return not missing


async def _check_foundations(connection: AsyncConnection, organizations: list[Row]) -> None:
    """Raise SeedError unless the registry's foundations are the ones this seed makes."""
    code, name = ORGANIZATION_COLUMNS.index("code"), ORGANIZATION_COLUMNS.index("name")
    wanted = {(row[0], row[code], row[name]) for row in organizations}
    rows = await connection.execute(
        select(Organization.id, Organization.code, Organization.name).where(
            Organization.code.like("LKS-%")
        )
    )
    found = {(org_id, org_code, org_name) for org_id, org_code, org_name in rows}
    if found != wanted:
        raise SeedError(
            "the registry's foundations are not the ones this seed makes; resume with the "
            "--seed of the interrupted run, or use a fresh database"
        )


async def _check_replay(
    connection: AsyncConnection, table_rows: dict[str, list[Row]], citizens: int, seed: int
) -> None:
    """Raise SeedError unless the database holds exactly these rows' last household and
    citizen: the proof that the registry is this seed's, cut after this batch."""
    household, citizen = table_rows["households"][-1], table_rows["citizens"][-1]
    found = (
        await connection.execute(
            select(Citizen.nik, Citizen.household_id).where(Citizen.id == citizen[0])
        )
    ).first()
    if found is None or (found.nik, found.household_id) != (citizen[1], household[0]):
        raise SeedError(
            f"the registry's citizens are not those of seed {seed} with {citizens} citizens "
            f"(citizen {citizen[0]} differs); resume with the --citizens and --seed of the "
            "interrupted run, or use a fresh database"
        )


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
    resume: bool = False,
) -> SeedSummary:
    """Fill the empty, migrated database at `database_url` with `citizens` residents.

    With `resume`, the database may instead hold what an interrupted seed of the same
    `citizens` and `seed` left; the seed is then finished (an empty database is seeded).
    """
    if citizens < 1:
        raise SeedError(f"citizens must be at least 1, not {citizens}")
    report = on_progress or (lambda _stage, _done, _total: None)
    started = time.perf_counter()
    engine = create_engine(database_url)
    writer = BatchWriter(engine)
    present = Counter[str]()
    try:
        async with engine.connect() as connection:
            partial = await _partial(connection) if resume else None
            if partial is None:
                await _check_empty(connection)
            agencies = await _agencies(connection)
            ids = await next_ids(connection)
        if partial is not None:
            # The interrupted seed numbered its rows from an empty registry: every table
            # from 1, and the foundations after the standing agencies.
            ids = {name: 1 for name in ids} | {"organizations": partial.first_foundation_id}
        generator = _Generator(Random(seed), seed, ids, agencies)
        if partial is not None:
            async with engine.connect() as connection:
                await _check_foundations(connection, generator.foundations.organizations)
        report("foundations", 0, FOUNDATIONS)
        if partial is None:
            await writer.write(generator.foundation_rows())
        report("foundations", FOUNDATIONS, FOUNDATIONS)
        report("citizens", 0, citizens)
        for made, rows in generator.batches(citizens):
            first_household = cast(int, rows["households"][0][0])
            last_household = cast(int, rows["households"][-1][0])
            if partial is not None and last_household <= partial.last_household_id:
                if last_household == partial.last_household_id:
                    async with engine.connect() as connection:
                        await _check_replay(connection, rows, citizens, seed)
                present.update({name: len(batch) for name, batch in rows.items()})
            elif partial is not None and first_household <= partial.last_household_id:
                raise SeedError(
                    "the registry ends inside a batch of families, which a seed never leaves; "
                    f"it is not an interrupted `hub seed --citizens {citizens} --seed {seed}`: "
                    "use a fresh database"
                )
            else:
                await writer.write(rows)
            report("citizens", made, citizens)
        if partial is not None and present["citizens"] != partial.citizens:
            raise SeedError(
                f"the registry holds {partial.citizens} citizens where seed {seed} with "
                f"{citizens} citizens has {present['citizens']} up to its last household; "
                "use a fresh database"
            )
        report("finishing", 0, 1)
        await writer.finish()
        codes = await _tracking_codes(engine, Random(seed + 1))
        report("finishing", 1, 1)
    finally:
        await engine.dispose()
    counts = {name: writer.counts[name] + present[name] for name in COLUMNS}
    if partial is not None:
        counts["organizations"] = FOUNDATIONS
        counts["organization_categories"] = len(generator.foundations.categories)
        counts["organization_areas"] = len(generator.foundations.areas)
    counts["tracking_codes"] = codes
    return SeedSummary(
        counts=counts,
        seconds=time.perf_counter() - started,
        resumed_citizens=partial.citizens if partial is not None else 0,
    )
