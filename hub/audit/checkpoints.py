"""Checkpoints: every N events or T seconds the chain's end is signed with the hub's key.

The `Sealer` decides and writes them, inside the appender's transaction (under the head
lock, so two workers never seal the same events twice) or from a periodic task for quiet
periods. Signing costs well under a millisecond, so sealing inline adds little to the
lock's hold time.

What a checkpoint proves: event `n` had hash `h` when it was signed, so events 1..n cannot
change afterwards without it showing. Events appended since the last checkpoint are
protected only by the append-only triggers and the database's access control: an intruder
able to write the table could rewrite that tail consistently before the next checkpoint,
and no check at signing time could tell (a consistent rewrite verifies). The checkpoint
interval bounds that window. The sealer does refuse to sign when the head row and the last
stored event disagree, which is how a crude edit would show.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.head import Head, lock_head, update_head
from hub.audit.models import AuditCheckpoint, AuditEventRecord, checkpoints_table
from hub.audit.notes import NoteSigner, NoteVerifier, checkpoint_body
from hub.db import utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """When to seal: once `every` events are unsealed, or `seconds` after the last seal."""

    every: int = 1000
    seconds: float = 60.0


class Sealer:
    """Writes signed checkpoints when the policy says so."""

    def __init__(
        self,
        signer: NoteSigner,
        *,
        policy: CheckpointPolicy | None = None,
        clock: Clock = utcnow,
        verifiers: list[NoteVerifier] | None = None,
    ) -> None:
        self.signer = signer
        self.policy = policy or CheckpointPolicy()
        self.clock = clock
        #: Every key of the ring: checkpoints signed by any of them are accepted.
        self.verifiers = verifiers or [signer.verifier()]
        #: The seq where this process found the head inconsistent; it then stops sealing.
        self.refused_at: int | None = None

    @property
    def origin(self) -> str:
        """The origin line of the checkpoints (the signing key's name)."""
        return self.signer.name

    def due(self, head: Head, now: dt.datetime) -> bool:
        """Whether `head` has unsealed events that the policy says to seal now."""
        if head.unsealed <= 0 or self.refused_at is not None:
            return False
        if head.unsealed >= self.policy.every:
            return True
        started = head.last_checkpoint_at
        return started is not None and (now - started).total_seconds() >= self.policy.seconds

    async def after_append(self, session: AsyncSession, head: Head) -> AuditCheckpoint | None:
        """Seal `head` (locked, just appended to) when due; start the timer on a first append."""
        now = self.clock()
        if head.last_checkpoint_at is None and head.unsealed > 0:
            # The T-seconds timer runs from the first event, not from the migration.
            await update_head(session, last_checkpoint_at=now)
            head = replace(head, last_checkpoint_at=now)
        if not self.due(head, now):
            return None
        return await self._seal(session, head, now)

    async def seal_if_due(
        self, session: AsyncSession, *, force: bool = False
    ) -> AuditCheckpoint | None:
        """Lock the head and seal it when due (or whenever unsealed events exist, if `force`)."""
        head = await lock_head(session)
        now = self.clock()
        if head.unsealed <= 0 or not (force or self.due(head, now)):
            return None
        return await self._seal(session, head, now)

    async def _seal(
        self, session: AsyncSession, head: Head, now: dt.datetime
    ) -> AuditCheckpoint | None:
        """Sign and store a checkpoint at the head, unless the head and its event disagree."""
        stored = await session.scalar(
            select(AuditEventRecord.hash).where(AuditEventRecord.seq == head.last_seq)
        )
        if stored != head.last_hash:
            self.refused_at = head.last_seq
            log.error("audit head and event %s disagree; checkpoints stopped", head.last_seq)
            return None
        checkpoint = await self.write_checkpoint(
            session,
            seq=head.last_seq,
            last_hash=head.last_hash,
            previous_seq=head.last_checkpoint_seq,
            now=now,
        )
        await update_head(session, last_checkpoint_seq=head.last_seq, last_checkpoint_at=now)
        return checkpoint

    async def write_checkpoint(
        self,
        session: AsyncSession,
        *,
        seq: int,
        last_hash: str,
        previous_seq: int,
        now: dt.datetime,
    ) -> AuditCheckpoint:
        """Sign and insert the checkpoint of event `seq` (the caller verified the chain)."""
        note = self.signer.sign(checkpoint_body(self.origin, seq, last_hash, signed_at=now))
        values = {
            "seq": seq,
            "last_hash": last_hash,
            "event_count": seq - previous_seq,
            "note": note,
            "created_at": now,
        }
        await session.execute(insert(checkpoints_table).values(**values))
        return AuditCheckpoint(**values)

    async def ensure_checkpoint(self, session: AsyncSession, *, seq: int) -> AuditCheckpoint:
        """The checkpoint at `seq`, signed now if none exists (the caller verified the chain)."""
        existing = await session.get(AuditCheckpoint, seq)
        if existing is not None:
            return existing
        last_hash = await session.scalar(
            select(AuditEventRecord.hash).where(AuditEventRecord.seq == seq)
        )
        if last_hash is None:
            raise ValueError(f"no event {seq} to seal")
        previous = await session.scalar(
            select(func.max(AuditCheckpoint.seq)).where(AuditCheckpoint.seq < seq)
        )
        return await self.write_checkpoint(
            session, seq=seq, last_hash=last_hash, previous_seq=previous or 0, now=self.clock()
        )
