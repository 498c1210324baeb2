"""Group commit: concurrent requests share transactions, every event is durable, or it raises."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.checkpoints import Sealer
from hub.audit.models import AuditEventRecord, event_citizens_table
from hub.audit.recorder import AuditWriteError, GroupCommitWriter
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
    # Two engines stand for two worker processes, each with its own group-commit writer.
    engines = [create_engine(empty_database_url) for _ in range(2)]
    writers = [GroupCommitWriter(session_factory(e), sealer=sealer, max_batch=16) for e in engines]
    try:
        seqs = await asyncio.gather(
            *(writers[n % 2].write(make_event(n, citizens=[n % 7])) for n in range(120))
        )
        for writer in writers:
            await writer.close()
        assert sorted(seqs) == list(range(1, 121))
        assert all(writer.stats.events > 0 for writer in writers)
        result = await verify(session_factory(engines[0]), sealer)
        assert result.ok and result.events == 120 and result.sealed_through
    finally:
        for engine in engines:
            await engine.dispose()


async def test_folded_and_unfolded_appends_make_one_chain(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL a batch is one statement after the head's lock (events, the citizens
    # they touched and the head's new end, in a WITH); too many parameters, or SQLite, take
    # the statement-per-table path. Both write the same rows: the chain verifies across.
    from hub.audit import recorder

    async with transaction(sessions) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        engine = session.get_bind()
    statements: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        writer = GroupCommitWriter(sessions, sealer=None)
        await writer.write(make_event(1, citizens=[1, 2]))
        folded = len(statements)
        monkeypatch.setattr(recorder, "_MAX_FOLDED_PARAMETERS", 0)
        statements.clear()
        await writer.write(make_event(2, citizens=[3]))
        unfolded = len(statements)
        monkeypatch.undo()
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
