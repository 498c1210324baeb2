"""Verification of the chain: the engine, and its run over the live database.

The engine (`ChainVerifier`) takes events in seq order and the checkpoints already checked
for signature, and stops at the first event that breaks the chain. Its rules, which an
auditor can re-implement from `hub.audit.chain` and `hub.audit.notes`:

1. seqs follow each other with no gap from the anchor (seq 0 and 64 `0`s for a full chain,
   or the last archived event); a gap is a deleted event, a repeat an inserted one;
2. each event's `prev_hash` is the previous event's `hash`;
3. each event's `hash` is the SHA-256 of its canonical form (so an edited field shows);
4. each event a checkpoint names has the hash the checkpoint signed;
5. no checkpoint names an event beyond the last one (a truncated tail).

Events after the last checkpoint are chained but not yet sealed: an intruder with write
access could rewrite them consistently until the next checkpoint, which is why checkpoints
come every N events or T seconds, and why the head row's count is also compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.chain import GENESIS_HASH, CanonicalFormError, event_hash
from hub.audit.head import Head, read_head
from hub.audit.models import AuditCheckpoint, event_citizens_table
from hub.audit.notes import NoteError, NoteVerifier, open_checkpoint
from hub.audit.rows import iter_records


@dataclass
class Verification:
    """The outcome of verifying a chain or an export."""

    events: int = 0
    checkpoints: int = 0
    #: The chain position the first event continues from.
    anchor_seq: int = 0
    anchor_hash: str = GENESIS_HASH
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    #: The highest seq a valid checkpoint sealed and the events matched.
    sealed_through: int | None = None
    #: The lowest seq found bad, with every problem seen (lowest first).
    first_bad_seq: int | None = None
    problems: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems

    @property
    def problem(self) -> str | None:
        """The first problem, in words."""
        return self.problems[0][1] if self.problems else None

    def fail(self, seq: int, problem: str) -> None:
        """Record a problem found at `seq`."""
        self.problems.append((seq, problem))
        self.problems.sort(key=lambda item: item[0])
        self.first_bad_seq = self.problems[0][0]


def check_checkpoint(
    note: str, *, seq: int, last_hash: str, verifiers: list[NoteVerifier], origin: str
) -> str | None:
    """Why a stored or exported checkpoint is invalid, or None when it is valid."""
    try:
        checkpoint = open_checkpoint(note, verifiers, origin=origin)
    except NoteError as error:
        return f"checkpoint {seq}: {error}"
    if checkpoint.size != seq or checkpoint.last_hash != last_hash:
        return f"checkpoint {seq}: its signed size or hash differs from its row"
    return None


class ChainVerifier:
    """Checks events one by one against the chain rules and the valid checkpoints."""

    def __init__(
        self,
        result: Verification,
        *,
        checkpoints: Mapping[int, str],
    ) -> None:
        self.result = result
        self.checkpoints = dict(checkpoints)
        self.expected_seq = result.anchor_seq + 1
        self.prev_hash = result.anchor_hash
        self.stopped = False

    def check(self, record: Mapping[str, Any]) -> bool:
        """Check the next event (a canonical record plus `hash`); False once one is bad."""
        if self.stopped:
            return False
        result = self.result
        seq = record.get("seq")
        if not isinstance(seq, int) or seq != self.expected_seq:
            # The chain breaks at the position that was due, whatever came instead.
            problem = (
                f"event {self.expected_seq} is missing (the next event found is {seq})"
                if isinstance(seq, int) and seq > self.expected_seq
                else f"event {seq} is out of order or repeated where {self.expected_seq} was due"
            )
            return self.halt(self.expected_seq, problem)
        if record.get("prev_hash") != self.prev_hash:
            return self.halt(seq, f"event {seq} does not link to the hash of event {seq - 1}")
        canonical = {name: value for name, value in record.items() if name != "hash"}
        try:
            computed = event_hash(canonical)
        except (CanonicalFormError, TypeError, ValueError) as error:
            return self.halt(seq, f"event {seq} is malformed: {error}")
        if computed != record.get("hash"):
            return self.halt(seq, f"event {seq} was altered: its content does not match its hash")
        sealed = self.checkpoints.get(seq)
        if sealed is not None:
            if sealed != computed:
                # Consistently rewritten events: any of them since the last good checkpoint
                # may be the altered one, so the first untrustworthy seq is reported.
                low = (result.sealed_through or result.anchor_seq) + 1
                return self.halt(
                    low, f"events {low}..{seq} were rewritten: they differ from checkpoint {seq}"
                )
            result.sealed_through = seq
        if result.first_seq is None:
            result.first_seq = seq
        result.events += 1
        result.last_seq = seq
        result.last_hash = computed
        self.prev_hash = computed
        self.expected_seq = seq + 1
        return True

    def halt(self, seq: int, problem: str) -> bool:
        """Record the problem and refuse further events."""
        self.result.fail(seq, problem)
        self.stopped = True
        return False

    def finish(self, *, expected_last_seq: int | None = None) -> Verification:
        """Check the end of the chain: nothing sealed or announced beyond the last event."""
        result = self.result
        if self.stopped:
            return result
        last = result.last_seq if result.last_seq is not None else result.anchor_seq
        beyond = [seq for seq in self.checkpoints if seq > last]
        if beyond:
            result.fail(last + 1, f"events {last + 1}..{max(beyond)} were sealed but are missing")
        elif expected_last_seq is not None and expected_last_seq > last:
            result.fail(last + 1, f"events {last + 1}..{expected_last_seq} are missing")
        elif expected_last_seq is not None and expected_last_seq < last:
            result.fail(expected_last_seq + 1, f"events after {expected_last_seq} were added")
        sealed = result.sealed_through or result.anchor_seq
        if last > sealed:
            result.warnings.append(
                f"{last - sealed} event(s) after seq {sealed} are not sealed yet"
            )
        return result


async def _valid_checkpoints(
    session: AsyncSession,
    result: Verification,
    *,
    verifiers: list[NoteVerifier],
    origin: str,
    low: int,
    high: int | None,
) -> dict[int, str]:
    """Checkpoints stored for seqs `low..high` whose signatures check; failures recorded."""
    query = select(AuditCheckpoint).where(AuditCheckpoint.seq >= low).order_by(AuditCheckpoint.seq)
    if high is not None:
        query = query.where(AuditCheckpoint.seq <= high)
    valid: dict[int, str] = {}
    for checkpoint in (await session.scalars(query)).all():
        result.checkpoints += 1
        problem = check_checkpoint(
            checkpoint.note,
            seq=checkpoint.seq,
            last_hash=checkpoint.last_hash,
            verifiers=verifiers,
            origin=origin,
        )
        if problem is None:
            valid[checkpoint.seq] = checkpoint.last_hash
        else:
            result.fail(checkpoint.seq, problem)
    return valid


async def verify_database(
    session: AsyncSession,
    *,
    verifiers: list[NoteVerifier],
    origin: str,
    start: int | None = None,
    stop: int | None = None,
) -> Verification:
    """Verify the stored chain, whole by default, or from checkpoint `start` through `stop`.

    A partial run starts from the valid checkpoint at `start` (its signed hash is the
    anchor); `stop` bounds the last event read and skips the end-of-chain checks.
    """
    head = await read_head(session)
    result = Verification(
        anchor_seq=head.archived_through_seq, anchor_hash=head.archived_through_hash
    )
    if start is not None and start > head.archived_through_seq:
        result.anchor_seq = start
        anchored = await session.get(AuditCheckpoint, start)
        if anchored is None:
            result.fail(start, f"no checkpoint at seq {start} to start from")
            return result
        result.anchor_hash = anchored.last_hash
    checkpoints = await _valid_checkpoints(
        session, result, verifiers=verifiers, origin=origin, low=result.anchor_seq, high=stop
    )
    if result.anchor_seq > 0 and checkpoints.pop(result.anchor_seq, None) != result.anchor_hash:
        result.fail(result.anchor_seq, f"no valid checkpoint seals the anchor {result.anchor_seq}")
        return result
    verifier = ChainVerifier(result, checkpoints=checkpoints)
    records = iter_records(session, from_seq=result.anchor_seq + 1, to_seq=stop)
    async with aclosing(records):
        async for record in records:
            if not verifier.check(record):
                break
    if stop is not None:
        return verifier.finish(expected_last_seq=min(stop, head.last_seq))
    verifier.finish(expected_last_seq=head.last_seq)
    await _check_strays(session, result, head)
    return result


async def _check_strays(session: AsyncSession, result: Verification, head: Head) -> None:
    """Record citizen rows outside the live chain (they would show up in access reports)."""
    citizens = event_citizens_table.c
    last = max(head.last_seq, result.last_seq or 0)
    stray = await session.scalar(
        select(func.min(citizens.event_seq)).where(
            or_(citizens.event_seq <= head.archived_through_seq, citizens.event_seq > last)
        )
    )
    if stray is not None:
        result.fail(stray, f"citizen rows name event {stray}, which is not in the live chain")
