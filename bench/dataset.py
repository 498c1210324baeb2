"""The benchmark's city: a dedicated database, seeded once and reused while it fits.

`ensure_city(url, citizens=N)` migrates the database named by `url` (creating it first on a
PostgreSQL server), seeds it with `hub.synthetic.seed_city` when it is empty, and reuses it
when it already holds exactly `N` citizens from a finished seed. A seed cut short (fewer
citizens, or the last step not run) is resumed. A database holding more is refused, unless
`reseed=True`, which drops and recreates it: the harness never deletes data it was not
asked to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from hub.db import create_engine
from hub.migrations import upgrade
from hub.registry.models import Citizen
from hub.synthetic import SeedError, seed_city, seed_finished

#: The dedicated database of `python -m bench.run` when no URL is given.
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hub_bench"
#: The seed of the synthetic city (the same as `hub seed`'s default).
CITY_SEED = 1

Log = Callable[[str], None]


class DatasetError(RuntimeError):
    """The database cannot be used as the benchmark's city."""


@dataclass(frozen=True, slots=True)
class City:
    """The database the run measures, and how it came to be."""

    url: str
    citizens: int
    #: "reused" or "seeded".
    origin: str
    #: Seconds spent seeding (0 when reused).
    seed_seconds: float


def backend(url: str) -> str:
    """`postgresql` or `sqlite`, from a SQLAlchemy URL."""
    return make_url(url).get_backend_name()


async def _server_admin(url: str, statement: str) -> None:
    """Run `statement` outside a transaction on the server's `postgres` database."""
    admin = make_url(url).set(database="postgres")
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _database_exists(url: str) -> bool:
    """Whether the PostgreSQL database named in `url` exists on its server."""
    name = make_url(url).database
    admin = make_url(url).set(database="postgres")
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
    finally:
        await engine.dispose()
    return found is not None


def _remove_file(url: str) -> None:
    """Delete the SQLite file of `url`, if any."""
    database = make_url(url).database
    if database:
        Path(database).unlink(missing_ok=True)


async def _create(url: str, *, drop_first: bool) -> None:
    """Create the database of `url` (dropping it first when asked)."""
    if backend(url) == "postgresql":
        name = make_url(url).database
        if drop_first:
            await _server_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not await _database_exists(url):
            await _server_admin(url, f'CREATE DATABASE "{name}"')
    elif drop_first:
        _remove_file(url)


async def count_citizens(url: str) -> int:
    """How many citizens the migrated database at `url` holds."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(Citizen)) or 0)
    finally:
        await engine.dispose()


async def _seed_finished(url: str) -> bool:
    """Whether the seed in the database ran to its end (see `hub.synthetic.seed_finished`)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await seed_finished(connection)
    finally:
        await engine.dispose()


async def _vacuum_analyze(url: str) -> None:
    """Refresh the planner's statistics and the visibility map (PostgreSQL), so that plans
    match the data: an index-only scan (the stats' median) is chosen only over pages
    VACUUM marked all-visible, and a fresh seed or a previous run's writes leave them unmarked
    (measured: the median's statement 122 ms with a sort → 4.6 ms after VACUUM)."""
    if backend(url) != "postgresql":
        return
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("VACUUM (ANALYZE)"))
    finally:
        await engine.dispose()


async def ensure_city(url: str, *, citizens: int, reseed: bool = False, log: Log = print) -> City:
    """A migrated database at `url` holding a synthetic city of exactly `citizens` residents."""
    await _create(url, drop_first=reseed)
    try:
        await upgrade(url)
    except Exception as error:  # alembic raises several types; any means "not migrated"
        raise DatasetError(
            f"cannot migrate {make_url(url).database} to this checkout's schema "
            f"({type(error).__name__}: {error}); the migrations may have been rewritten since "
            "it was seeded: pass --reseed to drop and rebuild it"
        ) from error
    present = await count_citizens(url)
    finished = await _seed_finished(url)
    if present == citizens and finished:
        log(f"dataset: reusing {make_url(url).database} with {present:,} citizens")
        await _vacuum_analyze(url)
        return City(url=url, citizens=present, origin="reused", seed_seconds=0.0)
    if present and (finished or present > citizens):
        raise DatasetError(
            f"{make_url(url).database} holds {present:,} citizens, not {citizens:,}; pass "
            "--reseed to drop and rebuild it, or --database-url to use another database"
        )
    if present:
        log(
            f"dataset: {make_url(url).database} holds {present:,} of {citizens:,} citizens "
            "from a seed that was cut short: resuming it"
        )
    log(f"dataset: seeding {citizens:,} citizens (seed {CITY_SEED}) into {make_url(url).database}")
    started = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 15 or done == total:
            last[0] = now
            log(f"dataset:   {stage} {done:,}/{total:,} ({now - started:.0f} s)")

    try:
        await seed_city(url, citizens=citizens, seed=CITY_SEED, on_progress=progress, resume=True)
    except SeedError as error:
        raise DatasetError(
            f"{make_url(url).database} cannot be used: {error}; pass --reseed to drop and "
            "rebuild it"
        ) from error
    await _vacuum_analyze(url)
    seconds = time.perf_counter() - started
    log(f"dataset: seeded in {seconds:.0f} s")
    return City(url=url, citizens=citizens, origin="seeded", seed_seconds=seconds)
