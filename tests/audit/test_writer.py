"""Group commit: concurrent requests share transactions, every event is durable, or it raises."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.checkpoints import CheckpointPolicy, Sealer
from hub.audit.models import AuditCheckpoint, AuditEventRecord, event_citizens_table
from hub.audit.recorder import AuditWriteError, GroupCommitWriter, append
from hub.db import create_engine, session_factory, transaction
from tests.audit.conftest import make_event, verify


async def test_concurrent_writes_share_commits(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    writer = GroupCommitWriter(sessions, sealer=sealer, max_batch=64)
    seqs = await asyncio.gather(*(writer.write(make_event(n, citizens=[n])) for n in range(200)))
    await writer.close()
    assert sorted(seqs) == list(range(1, 201))
    assert writer.stats.events == 200 and writer.stats.failures == 0
    assert writer.stats.commits < 200 and writer.stats.largest_batch <= 64
    async with transaction(sessions) as session:
        assert await session.scalar(select(func.count()).select_from(AuditEventRecord)) == 200
    result = await verify(sessions, sealer)
    assert result.ok and result.events == 200


async def test_each_write_returns_after_its_commit(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    writer = GroupCommitWriter(sessions, sealer=sealer)
    seq = await writer.write(make_event(1))
    # A different session sees it at once: the commit happened before `write` returned.
    async with transaction(sessions) as session:
        assert await session.get(AuditEventRecord, seq) is not None
    await writer.close()
    with pytest.raises(AuditWriteError, match="closed"):
        await writer.write(make_event(2))


async def test_a_failed_write_raises(tmp_path: Path, sealer: Sealer) -> None:
    # A database without the audit tables stands for one that refuses the write.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")
    writer = GroupCommitWriter(session_factory(engine), sealer=sealer)
    try:
        results = await asyncio.gather(
            *(writer.write(make_event(n)) for n in range(5)), return_exceptions=True
        )
    finally:
        await writer.close()
        await engine.dispose()
    assert all(isinstance(result, AuditWriteError) for result in results)
    assert writer.stats.events == 0 and writer.stats.failures == 5


async def test_one_bad_event_fails_alone(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    writer = GroupCommitWriter(sessions, sealer=sealer)
    with pytest.raises(AuditWriteError, match="unserialisable"):
        await writer.write(make_event(0, variables={"x": object()}))
    # An event only the database rejects: the same citizen twice (slipped past the
    # normalisation) breaks the primary key of `audit_event_citizens`.
    bad = make_event(1)
    object.__setattr__(bad, "citizens", (*make_event(1, citizens=[5]).citizens,) * 2)
    results = await asyncio.gather(
        writer.write(make_event(2)), writer.write(bad), writer.write(make_event(3)),
        return_exceptions=True,
    )  # fmt: skip
    await writer.close()
    assert isinstance(results[1], AuditWriteError)
    assert sorted(r for r in results if isinstance(r, int)) == [1, 2]
    assert (await verify(sessions, sealer)).ok


async def test_two_processes_appending_keep_one_chain(
    empty_database_url: str, sealer: Sealer
) -> None:
    # Two engines stand for two worker processes, each with its own group-commit writer;
    # a checkpoint every 50 events, so that most batches append without the lock.
    sealer = Sealer(
        sealer.signer,
        policy=CheckpointPolicy(every=50),
        clock=sealer.clock,
        verifiers=sealer.verifiers,
    )
    engines = [create_engine(empty_database_url) for _ in range(2)]
    writers = [GroupCommitWriter(session_factory(e), sealer=sealer, max_batch=16) for e in engines]
    races: list[int] = []
    writers[1].on_head_race.append(lambda: races.append(1))
    try:
        # One after the other first: the first append starts the checkpoint timer (locked),
        # then each writer's head is stale when it appends again.
        first = [await writers[n % 2].write(make_event(n)) for n in range(4)]
        seqs = await asyncio.gather(
            *(writers[n % 2].write(make_event(n, citizens=[n % 7])) for n in range(4, 120))
        )
        for writer in writers:
            await writer.close()
        assert first == [1, 2, 3, 4] and sorted(seqs) == list(range(5, 121))
        assert all(writer.stats.events > 0 for writer in writers)
        if engines[0].dialect.name == "postgresql":
            # The set the second writer lost (its fourth event) was retried from the head
            # read again; each checkpoint was sealed by a locked transaction.
            assert writers[1].stats.unlocked > 0 and writers[1].stats.head_races > 0
            assert len(races) == writers[1].stats.head_races, "each race told to the metrics"
        result = await verify(session_factory(engines[0]), sealer)
        assert result.ok and result.events == 120 and result.sealed_through
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_lost_race_retries_from_the_head_its_statement_saw(
    empty_database_url: str, sealer: Sealer
) -> None:
    """Two workers appending in turn: each finds its kept head stale every time. The failed
    compare-and-set returns the head that won, so the retry reads nothing first."""
    engines = [create_engine(empty_database_url) for _ in range(2)]
    if engines[0].dialect.name != "postgresql":
        for engine in engines:
            await engine.dispose()
        pytest.skip("the unlocked append is PostgreSQL's")
    sealer = Sealer(
        sealer.signer,
        policy=CheckpointPolicy(every=1000),
        clock=sealer.clock,
        verifiers=sealer.verifiers,
    )
    writers = [GroupCommitWriter(session_factory(e), sealer=sealer) for e in engines]
    head_reads: list[str] = []

    def count(_: Any, __: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith("SELECT audit_chain_head."):
            head_reads.append(statement)

    try:
        # The first appends start the checkpoint timer (locked) and give each writer a head.
        for n in range(4):
            await writers[n % 2].write(make_event(n))
        for engine in engines:
            event.listen(engine.sync_engine, "before_cursor_execute", count)
        for n in range(4, 24):
            await writers[n % 2].write(make_event(n, citizens=[n]))
        races = sum(writer.stats.head_races for writer in writers)
        assert races >= 19, races  # every append after the other's lost one race
        assert head_reads == [], "a retry read the head again"
        for writer in writers:
            await writer.close()
        result = await verify(session_factory(engines[0]), sealer)
        assert result.ok and result.events == 24
    finally:
        for engine in engines:
            await engine.dispose()


async def test_unlocked_appends_chain_with_mutations_and_checkpoints(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    # On PostgreSQL the writer appends by compare-and-set from the head it last left; a
    # mutation appending in its own transaction moves the head under it, so its next set
    # fails and is retried from the head read again. Checkpoints fall every 5 events
    # whichever path appended them.
    writer = GroupCommitWriter(sessions, sealer=sealer)
    number = 0
    for _ in range(4):
        for _ in range(3):
            number += 1
            await writer.write(make_event(number, citizens=[number]))
        number += 1
        async with transaction(sessions) as session:
            await append(session, [make_event(number)], sealer=sealer)
    await writer.close()
    async with transaction(sessions) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        checkpoints = list(await session.scalars(select(AuditCheckpoint.seq)))
    if postgres:
        assert writer.stats.unlocked > 0 and writer.stats.head_races > 0
    else:
        assert writer.stats.unlocked == 0
    assert sorted(checkpoints) == [5, 10, 15]
    result = await verify(sessions, sealer)
    assert result.ok and result.events == 16 and result.sealed_through == 15


async def test_folded_and_unfolded_appends_make_one_chain(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL the locked transaction writes a batch in one statement after the head's
    # lock (events, the citizens they touched and the head's new end, in a WITH); too many
    # parameters, or SQLite, take the statement-per-table path. Both write the same rows:
    # the chain verifies across. (The writer's unlocked path is off here, as it is for a
    # batch whose append makes a checkpoint due.)
    from hub.audit import recorder

    async with transaction(sessions) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        engine = session.get_bind()
    statements: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async def locked_only(*_: Any) -> None:
        return None

    monkeypatch.setattr(GroupCommitWriter, "_append_unlocked", locked_only)
    event.listen(engine, "before_cursor_execute", count)
    try:
        writer = GroupCommitWriter(sessions, sealer=None)
        await writer.write(make_event(1, citizens=[1, 2]))
        folded = len(statements)
        monkeypatch.setattr(recorder, "_MAX_STATEMENT_PARAMETERS", 0)
        statements.clear()
        await writer.write(make_event(2, citizens=[3]))
        unfolded = len(statements)
        monkeypatch.setattr(recorder, "_MAX_STATEMENT_PARAMETERS", 30_000)
        await writer.write(make_event(3))
        await writer.close()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Lock, events, citizens, head (plus the transaction's own statements, if any).
    assert unfolded - folded == (2 if postgres else 0)
    async with transaction(sessions) as session:
        touched = await session.scalar(select(func.count()).select_from(event_citizens_table))
    assert touched == 3
    result = await verify(sessions, sealer)
    assert result.ok and result.events == 3


async def test_a_connection_lost_while_idle_is_replaced(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    # The writer keeps one connection between batches on PostgreSQL; a database restart
    # (here: every other backend of the database terminated) must not fail the next write.
    writer = GroupCommitWriter(sessions, sealer=None)
    try:
        assert await writer.write(make_event(1)) == 1
        async with transaction(sessions) as session:
            if session.get_bind().dialect.name != "postgresql":
                pytest.skip("the writer keeps a connection on PostgreSQL only")
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        assert await writer.write(make_event(2)) == 2
        assert writer.stats.failures == 0
    finally:
        await writer.close()
    assert (await verify(sessions, sealer)).ok
