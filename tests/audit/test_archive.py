"""Retention: archiving old events keeps the chain verifiable across the cut."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.archive import archive_events, retention_cutoff
from hub.audit.checkpoints import Sealer
from hub.audit.export import export_events, verify_export_files
from hub.audit.head import read_head
from hub.audit.models import AuditCheckpoint, AuditEventCitizen, AuditEventRecord
from hub.db import transaction
from tests.audit.conftest import START, append_events, verify


async def test_archive_then_verify_across_the_cut(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, tmp_path: Path
) -> None:
    await append_events(sessions, 14, sealer=sealer)  # event n happened at START + n s
    cut = START + dt.timedelta(seconds=8, milliseconds=500)  # archive 1..8 (no checkpoint at 8)
    archived = await archive_events(sessions, before=cut, directory=tmp_path, sealer=sealer)
    assert archived is not None and (archived.first_seq, archived.last_seq) == (1, 8)
    async with transaction(sessions) as session:
        head = await read_head(session)
        remaining = await session.scalar(select(func.min(AuditEventRecord.seq)))
        citizens = await session.scalar(select(func.min(AuditEventCitizen.event_seq)))
        anchor = await session.get(AuditCheckpoint, 8)
    assert (head.archived_through_seq, head.archived_through_hash) == (8, archived.last_hash)
    assert remaining == 9 and citizens == 9
    assert anchor is not None and anchor.last_hash == archived.last_hash  # signed anchor

    live = await verify(sessions, sealer)
    assert live.ok, live.problems
    assert (live.anchor_seq, live.anchor_hash, live.first_seq) == (8, archived.last_hash, 9)

    # Appending goes on from the anchor, and a second archive continues the first.
    await append_events(sessions, 3, sealer=sealer, start=15)
    second = await archive_events(
        sessions,
        before=START + dt.timedelta(seconds=12, milliseconds=1),
        directory=tmp_path,
        sealer=sealer,
    )
    assert second is not None and (second.first_seq, second.last_seq) == (9, 12)
    assert (await verify(sessions, sealer)).ok
    current = tmp_path / "current.jsonl"
    with current.open("w") as stream:
        async with transaction(sessions) as session:
            await export_events(session, stream, first_seq=13, last_seq=17, sealer=sealer)

    keys = [sealer.verifiers[0].public_pem()]
    results = verify_export_files([archived.path, second.path, current], public_keys=keys)
    assert all(result.ok for result in results), [r.problems for r in results]
    assert [r.last_seq for r in results] == [8, 12, 17]
    # Out of order, the files do not join up.
    swapped = verify_export_files([second.path, archived.path], public_keys=keys)
    assert swapped[1].first_bad_seq == 1 and "does not continue" in (swapped[1].problem or "")
    # Nothing older is left to archive.
    assert await archive_events(sessions, before=cut, directory=tmp_path, sealer=sealer) is None


async def test_an_edited_archive_file_is_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, tmp_path: Path
) -> None:
    await append_events(sessions, 6, sealer=sealer)
    archived = await archive_events(
        sessions, before=START + dt.timedelta(hours=1), directory=tmp_path, sealer=sealer
    )
    assert archived is not None and archived.last_seq == 6
    lines = archived.path.read_text().splitlines()
    record = json.loads(lines[3])
    assert record["type"] == "event"
    record["client_id"] = "someone-else"
    lines[3] = json.dumps(record)
    archived.path.write_text("\n".join(lines) + "\n")
    (result,) = verify_export_files([archived.path], public_keys=[sealer.verifiers[0].vkey()])
    assert result.first_bad_seq == record["seq"]


async def test_only_archived_rows_may_be_deleted(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, tmp_path: Path
) -> None:
    await append_events(sessions, 6, sealer=sealer)
    await archive_events(
        sessions,
        before=START + dt.timedelta(seconds=3, milliseconds=1),
        directory=tmp_path,
        sealer=sealer,
    )
    # After a cut the live rows are as protected as before: the archiver's permission
    # (PostgreSQL: its session setting; SQLite: seqs up to the anchor) does not reach them.
    for statement in ("DELETE FROM audit_events WHERE seq = 6", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(sessions) as session:
                await session.execute(text(statement))
    assert (await verify(sessions, sealer)).ok


def test_retention_cutoff() -> None:
    now = dt.datetime(2031, 3, 1, tzinfo=dt.UTC)
    assert retention_cutoff(now, retention_days=1825) == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
