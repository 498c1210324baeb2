"""Exports as JSON Lines, and their offline verification with only the public key.

An export holds a contiguous run of events, `first_seq..last_seq`, one JSON object a line:

    {"type": "header", "format": "satu-pintu-hub/audit-export/v1", "origin": …,
     "first_seq": …, "last_seq": …, "anchor_seq": …, "anchor_hash": …,
     "from": …, "to": …, "exported_at": …, "seal": "<signed note>"}
    {"type": "checkpoint", "seq": <anchor_seq>, …}        (when one seals the anchor)
    {"type": "event", "hash": …, <the canonical members of hub.audit.chain>}
    {"type": "checkpoint", "seq": …, "last_hash": …, "event_count": …, "created_at": …,
     "note": "<signed note>"}                              (right after the event it seals)
    …

The `seal` is a checkpoint note signed at export time over `last_seq` with the extension
line `export <first_seq>`: it seals every event in the file, so a line edited, removed,
added or moved, or a truncated file, fails verification even between stored checkpoints.
`anchor_hash` is the `prev_hash` of the first event; for an archive it is the last hash of
the previous archive, and `verify_exports` checks that consecutive files join up.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.chain import GENESIS_HASH
from hub.audit.checkpoints import Sealer
from hub.audit.head import read_head
from hub.audit.models import AuditCheckpoint, AuditEventRecord
from hub.audit.notes import NoteError, NoteVerifier, checkpoint_body, open_checkpoint
from hub.audit.rows import iter_records
from hub.audit.verify import ChainVerifier, Verification, check_checkpoint, verify_database

FORMAT = "satu-pintu-hub/audit-export/v1"


class ExportError(RuntimeError):
    """The live chain failed verification, so nothing was exported."""

    def __init__(self, verification: Verification) -> None:
        super().__init__(
            f"the audit chain is broken at seq {verification.first_bad_seq}: {verification.problem}"
        )
        self.verification = verification


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export holds."""

    first_seq: int | None
    last_seq: int | None
    events: int
    checkpoints: int
    anchor_seq: int
    anchor_hash: str
    last_hash: str | None


async def seq_range(
    session: AsyncSession, *, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[int, int] | None:
    """The live seqs from the first event at or after `since` to the last one before `until`.

    Times are when requests started, which need not grow strictly with seq; an export is a
    contiguous run of seqs so that it chains, and may hold an event a moment outside.
    """
    head = await read_head(session)
    low, high = head.archived_through_seq + 1, head.last_seq
    seq = AuditEventRecord.seq
    if since is not None:
        found = await session.scalar(
            select(func.min(seq)).where(AuditEventRecord.occurred_at >= since, seq >= low)
        )
        low = found if found is not None else high + 1
    if until is not None:
        found = await session.scalar(
            select(func.max(seq)).where(AuditEventRecord.occurred_at < until, seq >= low)
        )
        high = found if found is not None else low - 1
    return (low, high) if low <= high else None


async def _verify_live(
    session: AsyncSession,
    *,
    first_seq: int,
    last_seq: int,
    verifiers: list[NoteVerifier],
    origin: str,
) -> None:
    """Verify the stored chain around `first_seq..last_seq`; raise `ExportError` if broken.

    It runs from the checkpoint before the range (or the anchor) to the one after it (or
    the head), so the exported events are exactly those the hub's signatures cover.
    """
    head = await read_head(session)
    start = await session.scalar(
        select(func.max(AuditCheckpoint.seq)).where(
            AuditCheckpoint.seq < first_seq, AuditCheckpoint.seq > head.archived_through_seq
        )
    )
    stop = await session.scalar(
        select(func.min(AuditCheckpoint.seq)).where(AuditCheckpoint.seq >= last_seq)
    )
    result = await verify_database(
        session, verifiers=verifiers, origin=origin, start=start, stop=stop or head.last_seq
    )
    if not result.ok:
        raise ExportError(result)


def _line(stream: TextIO, value: dict[str, Any]) -> None:
    """Write one JSON Lines record."""
    stream.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def _checkpoint_line(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The export record of a stored checkpoint."""
    return {
        "type": "checkpoint",
        "seq": checkpoint.seq,
        "last_hash": checkpoint.last_hash,
        "event_count": checkpoint.event_count,
        "created_at": checkpoint.created_at.isoformat(),
        "note": checkpoint.note,
    }


async def export_events(
    session: AsyncSession,
    stream: TextIO,
    *,
    first_seq: int,
    last_seq: int,
    sealer: Sealer,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    verify: bool = True,
) -> ExportSummary:
    """Write events `first_seq..last_seq` and their checkpoints to `stream`, sealed now.

    The stored chain is verified first (`ExportError` if broken) unless the caller just
    did so (`verify=False`).
    """
    if verify:
        await _verify_live(
            session,
            first_seq=first_seq,
            last_seq=last_seq,
            verifiers=sealer.verifiers,
            origin=sealer.origin,
        )
    first_prev = await session.scalar(
        select(AuditEventRecord.prev_hash).where(AuditEventRecord.seq == first_seq)
    )
    last_hash = await session.scalar(
        select(AuditEventRecord.hash).where(AuditEventRecord.seq == last_seq)
    )
    if first_prev is None or last_hash is None:
        raise ValueError(f"events {first_seq}..{last_seq} are not in the live table")
    now = sealer.clock()
    seal = sealer.signer.sign(
        checkpoint_body(
            sealer.origin, last_seq, last_hash, signed_at=now, export_first_seq=first_seq
        )
    )
    _line(
        stream,
        {
            "type": "header",
            "format": FORMAT,
            "origin": sealer.origin,
            "first_seq": first_seq,
            "last_seq": last_seq,
            "anchor_seq": first_seq - 1,
            "anchor_hash": first_prev,
            "from": since.isoformat() if since else None,
            "to": until.isoformat() if until else None,
            "exported_at": now.isoformat(),
            "seal": seal,
        },
    )
    checkpoints = {
        checkpoint.seq: checkpoint
        for checkpoint in await session.scalars(
            select(AuditCheckpoint).where(AuditCheckpoint.seq.between(first_seq - 1, last_seq))
        )
    }
    if first_seq - 1 in checkpoints:
        _line(stream, _checkpoint_line(checkpoints[first_seq - 1]))
    events = 0
    async for record in iter_records(session, from_seq=first_seq, to_seq=last_seq):
        _line(stream, {"type": "event", **record})
        events += 1
        if record["seq"] in checkpoints:
            _line(stream, _checkpoint_line(checkpoints[record["seq"]]))
    return ExportSummary(
        first_seq=first_seq,
        last_seq=last_seq,
        events=events,
        checkpoints=len(checkpoints),
        anchor_seq=first_seq - 1,
        anchor_hash=first_prev,
        last_hash=last_hash,
    )


def resolve_verifiers(keys: Sequence[str | NoteVerifier], *, origin: str) -> list[NoteVerifier]:
    """Verifiers from PEM public keys or signed-note verifier keys (`name+id+key`)."""
    verifiers = []
    for key in keys:
        if isinstance(key, NoteVerifier):
            verifiers.append(key)
        elif "BEGIN PUBLIC KEY" in key:
            verifiers.append(NoteVerifier.from_pem(key, name=origin))
        else:
            verifiers.append(NoteVerifier.from_vkey(key))
    return verifiers


class _ExportVerifier:
    """Offline verification of one export, fed line by line."""

    def __init__(self, header: dict[str, Any], keys: Sequence[str | NoteVerifier]) -> None:
        self.origin = str(header.get("origin"))
        self.first_seq = header.get("first_seq")
        self.last_seq = header.get("last_seq")
        self.result = Verification(
            anchor_seq=int(header.get("anchor_seq") or 0),
            anchor_hash=str(header.get("anchor_hash") or GENESIS_HASH),
        )
        self.verifiers = resolve_verifiers(keys, origin=self.origin)
        self.chain = ChainVerifier(self.result, checkpoints={})
        self._open_seal(header.get("seal"))

    def _open_seal(self, seal: Any) -> None:
        """Check the export's seal and expect the last event to have its hash."""
        if self.last_seq is None:
            return
        where = self.first_seq if isinstance(self.first_seq, int) else 0
        try:
            checkpoint = open_checkpoint(str(seal), self.verifiers, origin=self.origin)
        except NoteError as error:
            self.chain.halt(where, f"the export's seal is invalid: {error}")
            return
        if checkpoint.size != self.last_seq or checkpoint.export_first_seq != self.first_seq:
            self.chain.halt(where, "the export's seal does not match its header")
            return
        self.chain.checkpoints[checkpoint.size] = checkpoint.last_hash

    def feed(self, line: str) -> bool:
        """Check one line after the header; False once the file is found bad."""
        try:
            record = json.loads(line)
            kind = record.pop("type")
        except (ValueError, KeyError, AttributeError, TypeError):
            return self.chain.halt(self.chain.expected_seq, "a line is not an export record")
        if kind == "event":
            return self.chain.check(record)
        if kind == "checkpoint":
            return self._checkpoint(record)
        return self.chain.halt(self.chain.expected_seq, f"unknown record type {kind!r}")

    def _checkpoint(self, record: dict[str, Any]) -> bool:
        """Check a stored checkpoint's signature and that it seals the event just read."""
        seq, last_hash = record.get("seq"), record.get("last_hash")
        if not isinstance(seq, int) or not isinstance(last_hash, str):
            return self.chain.halt(self.chain.expected_seq, "a checkpoint record is malformed")
        self.result.checkpoints += 1
        problem = check_checkpoint(
            str(record.get("note")),
            seq=seq,
            last_hash=last_hash,
            verifiers=self.verifiers,
            origin=self.origin,
        )
        if problem is not None:
            return self.chain.halt(seq, problem)
        current = (
            self.result.last_seq if self.result.last_seq is not None else self.result.anchor_seq
        )
        current_hash = (
            self.result.last_hash if self.result.last_hash is not None else self.result.anchor_hash
        )
        if seq != current or last_hash != current_hash:
            return self.chain.halt(seq, f"checkpoint {seq} does not seal the event before it")
        self.result.sealed_through = max(self.result.sealed_through or 0, seq)
        return True

    def finish(self) -> Verification:
        """The verdict once every line was read."""
        return self.chain.finish(
            expected_last_seq=self.last_seq if isinstance(self.last_seq, int) else None
        )


def verify_export(
    lines: Iterable[str], *, public_keys: Sequence[str | NoteVerifier]
) -> Verification:
    """Verify an export offline, with public keys only (PEM or `name+id+key` texts)."""
    iterator = iter(lines)
    try:
        header = json.loads(next(iterator))
    except (StopIteration, ValueError):
        header = None
    if (
        not isinstance(header, dict)
        or header.get("type") != "header"
        or header.get("format") != FORMAT
    ):
        result = Verification()
        result.fail(0, "not an audit export (no header line)")
        return result
    try:
        verifier = _ExportVerifier(header, public_keys)
    except NoteError as error:
        result = Verification()
        result.fail(0, f"unusable public key: {error}")
        return result
    for line in iterator:
        if line.strip() and not verifier.feed(line):
            break
    return verifier.finish()


def verify_export_files(
    paths: Sequence[Path], *, public_keys: Sequence[str | NoteVerifier]
) -> list[Verification]:
    """Verify several exports (archives in order, then the latest) and that they join up."""
    results: list[Verification] = []
    for path in paths:
        with path.open(encoding="utf-8") as stream:
            result = verify_export(stream, public_keys=public_keys)
        if results and results[-1].ok and result.ok:
            previous = results[-1]
            if (previous.last_seq, previous.last_hash) != (result.anchor_seq, result.anchor_hash):
                result.fail(
                    result.anchor_seq + 1, f"{path.name} does not continue the file before it"
                )
        results.append(result)
    return results
