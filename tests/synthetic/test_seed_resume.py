"""A seed cut short mid-batch (a crash, a database restart) is refused with how to recover,
and `--resume` finishes it into exactly the city an uninterrupted seed makes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from typer.testing import CliRunner

import hub.synthetic.city as city_module
from hub.cli.seed import seed_command
from hub.db import Base, create_engine
from hub.registry.models import Citizen
from hub.synthetic import SeedError, seed_city, seed_finished
from hub.synthetic.writer import COLUMNS, Batch, BatchWriter
from tests.support.databases import DatabaseFactory

CITIZENS = 900
SEED = 5
#: Small batches, so the city takes several and the cut lands in the middle.
FAMILIES_PER_BATCH = 40
#: The write that fails: the foundations are write 1, so two batches of families are kept.
FAILING_WRITE = 4


class Cut(OSError):
    """What the simulated crash raises on SQLite."""


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(city_module, "FAMILIES_PER_BATCH", FAMILIES_PER_BATCH)


@pytest.fixture
async def second_database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    url = await databases.fresh("empty")
    yield url
    await databases.drop(url)


async def _terminate_own_backend(connection: AsyncConnection, url: str) -> None:
    """Kill this connection's PostgreSQL backend from another one, as a restart would."""
    raw = await connection.get_raw_connection()
    pid = raw.driver_connection.get_server_pid()  # type: ignore[union-attr]
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    other = await asyncpg.connect(dsn)
    try:
        await other.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await other.close()


def _cut_mid_batch(monkeypatch: pytest.MonkeyPatch, url: str) -> list[int]:
    """Make the FAILING_WRITE-th batch fail after its first table, inside its transaction."""
    writes = [0]
    original_copy, original_insert = BatchWriter._copy, BatchWriter._insert

    async def first_table_then_fail(
        writer: BatchWriter, connection: AsyncConnection, batch: Batch, original: Any
    ) -> None:
        writes[0] += 1
        if writes[0] != FAILING_WRITE:
            await original(writer, connection, batch)
            return
        first = next(name for name in COLUMNS if batch.get(name))
        await original(writer, connection, {first: batch[first]})
        if writer.use_copy:
            await _terminate_own_backend(connection, url)
            await original(writer, connection, batch)  # fails: the backend is gone
        raise Cut("simulated crash in the middle of a batch")

    async def copy(writer: BatchWriter, connection: AsyncConnection, batch: Batch) -> None:
        await first_table_then_fail(writer, connection, batch, original_copy)

    async def insert(writer: BatchWriter, connection: AsyncConnection, batch: Batch) -> None:
        await first_table_then_fail(writer, connection, batch, original_insert)

    monkeypatch.setattr(BatchWriter, "_copy", copy)
    monkeypatch.setattr(BatchWriter, "_insert", insert)
    return writes


async def _city_digest(url: str) -> tuple[str, int]:
    """A SHA-256 over every seeded row (tracking codes by need and digest), and citizens."""
    engine = create_engine(url)
    digest = hashlib.sha256()
    try:
        async with engine.connect() as connection:
            for name in COLUMNS:
                table = Base.metadata.tables[name]
                rows = await connection.execute(select(table).order_by(*table.primary_key))
                for row in rows:
                    digest.update(repr((name, tuple(row))).encode())
            codes = Base.metadata.tables["tracking_codes"]
            query = select(codes.c.need_id, codes.c.code_sha256).order_by(codes.c.need_id)
            for row in await connection.execute(query):
                digest.update(repr(tuple(row)).encode())
            citizens = await connection.scalar(select(func.count()).select_from(Citizen))
            return digest.hexdigest(), int(citizens or 0)
    finally:
        await engine.dispose()


async def _finished(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await seed_finished(connection)
    finally:
        await engine.dispose()


async def test_an_interrupted_seed_resumes_into_the_uninterrupted_city(
    empty_database_url: str,
    second_database_url: str,
    small_batches: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await seed_city(second_database_url, citizens=CITIZENS, seed=SEED)
    expected, everyone = await _city_digest(second_database_url)

    with monkeypatch.context() as patch:
        writes = _cut_mid_batch(patch, empty_database_url)
        with pytest.raises(Exception) as cut:  # a Cut, or the driver's error
            await seed_city(empty_database_url, citizens=CITIZENS, seed=SEED)
    assert writes[0] == FAILING_WRITE, cut.value
    if make_url(empty_database_url).get_backend_name() == "postgresql":
        assert not isinstance(cut.value, Cut), "the backend should have been killed mid-COPY"
    _, kept = await _city_digest(empty_database_url)
    assert 0 < kept < everyone  # two whole batches, nothing of the third
    assert not await _finished(empty_database_url)

    with pytest.raises(SeedError, match="hub seed --resume"):
        await seed_city(empty_database_url, citizens=CITIZENS, seed=SEED)

    summary = await seed_city(empty_database_url, citizens=CITIZENS, seed=SEED, resume=True)
    assert summary.resumed_citizens == kept
    assert summary.counts["citizens"] == everyone
    assert await _city_digest(empty_database_url) == (expected, everyone)
    assert await _finished(empty_database_url)

    again = await seed_city(empty_database_url, citizens=CITIZENS, seed=SEED, resume=True)
    assert again.resumed_citizens == everyone  # a finished seed resumes to itself
    assert await _city_digest(empty_database_url) == (expected, everyone)


async def test_resume_refuses_another_seed_or_size(
    empty_database_url: str, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        _cut_mid_batch(patch, empty_database_url)
        with pytest.raises(Exception):  # noqa: B017 (a Cut, or the driver's error)
            await seed_city(empty_database_url, citizens=CITIZENS, seed=SEED)

    with pytest.raises(SeedError, match="foundations are not the ones"):
        await seed_city(empty_database_url, citizens=CITIZENS, seed=SEED + 1, resume=True)
    with pytest.raises(SeedError, match="fresh database"):
        await seed_city(empty_database_url, citizens=100, seed=SEED, resume=True)


async def test_resume_of_an_empty_registry_seeds_it(
    empty_database_url: str, small_batches: None
) -> None:
    summary = await seed_city(empty_database_url, citizens=200, seed=SEED, resume=True)
    assert summary.resumed_citizens == 0
    assert summary.counts["citizens"] == 200
    assert await _finished(empty_database_url)


def test_the_command_says_how_to_finish_a_cut_seed(
    empty_database_url: str, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    import typer

    app = typer.Typer()
    app.command()(seed_command)
    with monkeypatch.context() as patch:
        _cut_mid_batch(patch, empty_database_url)
        failed = runner.invoke(
            app,
            ["--citizens", str(CITIZENS), "--seed", str(SEED), "--database-url",
             empty_database_url],
        )  # fmt: skip
    assert failed.exit_code == 1, failed.output
    assert f"hub seed --resume --citizens {CITIZENS} --seed {SEED}" in failed.output

    finished = runner.invoke(
        app,
        ["--resume", "--citizens", str(CITIZENS), "--seed", str(SEED), "--database-url",
         empty_database_url],
    )  # fmt: skip
    assert finished.exit_code == 0, finished.output
    assert "Resumed:" in finished.output
