"""Retention: moving old events off the live table into a verified, signed archive file.

This is the only path that deletes audit rows, and it keeps the chain verifiable across the
cut. In three short transactions, so appenders wait only for the last one:

1. under the head lock, choose the cut — the last event before `before` — and make sure a
   signed checkpoint seals it (verifying the few events since the previous checkpoint);
2. verify the live chain from its anchor through the cut, write the archive (an export of
   those events with their checkpoints, see `hub.audit.export`) to a temporary file,
   fsync it, verify the file again offline with the public keys, and rename it in place;
3. delete the archived events and their citizen rows and move the head's anchor to the cut.
   On PostgreSQL the triggers allow the delete only after `SET LOCAL hub.audit_archiving =
   'on'`; on SQLite only for seqs up to the anchor, which is therefore raised first.

The live chain's first event then links to the hash sealed by the checkpoint at the cut,
which stays in `audit_checkpoints`; the archive ends with that same hash, and
`hub audit verify ARCHIVE… LIVE-EXPORT` checks that the files join up.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.checkpoints import Sealer
from hub.audit.export import ExportError, export_events, verify_export
from hub.audit.head import AuditChainError, lock_head, update_head
from hub.audit.models import (
    AuditCheckpoint,
    AuditEventCitizen,
    AuditEventRecord,
    event_citizens_table,
    events_table,
)
from hub.audit.verify import verify_database
from hub.db import transaction


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """An archive written and cut from the live table."""

    path: Path
    first_seq: int
    last_seq: int
    last_hash: str


def retention_cutoff(now: dt.datetime, *, retention_days: int) -> dt.datetime:
    """The moment before which events may be archived under the retention setting."""
    return now - dt.timedelta(days=retention_days)


async def _seal_cut(
    session: AsyncSession, *, before: dt.datetime, sealer: Sealer
) -> tuple[int, int, str] | None:
    """Step 1: the seqs to archive and the hash sealed at the cut, or None if nothing is due."""
    head = await lock_head(session)
    first = head.archived_through_seq + 1
    keep = await session.scalar(
        select(func.min(AuditEventRecord.seq)).where(
            AuditEventRecord.occurred_at >= before, AuditEventRecord.seq >= first
        )
    )
    last = (keep - 1) if keep is not None else head.last_seq
    if last < first:
        return None
    start = await session.scalar(
        select(func.max(AuditCheckpoint.seq)).where(
            AuditCheckpoint.seq < last, AuditCheckpoint.seq > head.archived_through_seq
        )
    )
    if await session.get(AuditCheckpoint, last) is None:
        result = await verify_database(
            session, verifiers=sealer.verifiers, origin=sealer.origin, start=start, stop=last
        )
        if not result.ok:
            raise ExportError(result)
    checkpoint = await sealer.ensure_checkpoint(session, seq=last)
    if last > head.last_checkpoint_seq:
        await update_head(
            session, last_checkpoint_seq=last, last_checkpoint_at=checkpoint.created_at
        )
    return first, last, checkpoint.last_hash


async def archive_events(
    sessions: async_sessionmaker[AsyncSession],
    *,
    before: dt.datetime,
    directory: Path,
    sealer: Sealer,
) -> ArchiveResult | None:
    """Archive every live event older than `before` into `directory`; None if there is none.

    It commits its own transactions (see the module docstring); raise `ExportError` when the
    chain does not verify, and `AuditChainError` when another archiver ran at the same time.
    """
    async with transaction(sessions) as session:
        cut = await _seal_cut(session, before=before, sealer=sealer)
    if cut is None:
        return None
    first, last, last_hash = cut

    await anyio.Path(directory).mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-{first:012d}-{last:012d}.jsonl"
    temporary = path.with_name(f".{path.name}.tmp")
    async with transaction(sessions) as session:
        result = await verify_database(
            session, verifiers=sealer.verifiers, origin=sealer.origin, stop=last
        )
        if not result.ok:
            raise ExportError(result)
        with temporary.open("w", encoding="utf-8") as stream:
            await export_events(
                session, stream, first_seq=first, last_seq=last, sealer=sealer, verify=False
            )
            stream.flush()
            os.fsync(stream.fileno())
    with temporary.open(encoding="utf-8") as stream:
        written = verify_export(stream, public_keys=sealer.verifiers)
    if not written.ok or written.last_hash != last_hash:
        temporary.unlink(missing_ok=True)
        raise ExportError(written)
    os.replace(temporary, path)

    async with transaction(sessions) as session:
        await _cut(session, first=first, last=last, last_hash=last_hash)
    return ArchiveResult(path=path, first_seq=first, last_seq=last, last_hash=last_hash)


async def _cut(session: AsyncSession, *, first: int, last: int, last_hash: str) -> None:
    """Step 3: delete events `first..last` and anchor the live chain at `last`."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Delete before locking the head: old rows do not conflict with appenders, so they
        # wait only for the head update at the end, not for the whole delete.
        await session.execute(text("SET LOCAL hub.audit_archiving = 'on'"))
    else:
        head = await lock_head(session)
        _check_anchor(head.archived_through_seq, first)
        await update_head(session, archived_through_seq=last, archived_through_hash=last_hash)
    await session.execute(delete(event_citizens_table).where(AuditEventCitizen.event_seq <= last))
    await session.execute(delete(events_table).where(AuditEventRecord.seq <= last))
    if postgres:
        head = await lock_head(session)
        _check_anchor(head.archived_through_seq, first)
        await update_head(session, archived_through_seq=last, archived_through_hash=last_hash)


def _check_anchor(archived_through: int, first: int) -> None:
    """Refuse the cut if another archiver moved the anchor since step 1."""
    if archived_through != first - 1:
        raise AuditChainError("another archive ran at the same time; run it again")
