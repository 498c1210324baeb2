"""The audit trail as the request path holds it: one `AuditRecorder` per process.

recorder = AuditRecorder.from_settings(audit_settings, sessions=sessions,
                                       var_dir=settings.var_dir,
                                       production=settings.is_production)
await recorder.start()                       # app startup: periodic sealing
event = recorder.event(occurred_at=…, decision="ALLOWED", document=query,
                       variables=variables, citizens=access_log.snapshot(), …)
await recorder.record(event)                 # reads: durable on return, else raises
await recorder.record_in(session, event)     # mutations: inside their transaction
await recorder.close()                       # app shutdown
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.checkpoints import CheckpointPolicy, Clock, Sealer
from hub.audit.events import AuditEvent, document_digest
from hub.audit.keys import (
    AuditKeyRing,
    AuditKeyStore,
    PepperStore,
    key_store_from_settings,
    pepper_store_from_settings,
)
from hub.audit.notes import NoteVerifier
from hub.audit.recorder import GroupCommitWriter, append
from hub.audit.redact import PERSONAL_KEYS, redact_variables
from hub.audit.settings import AuditSettings
from hub.db import transaction, utcnow

log = logging.getLogger(__name__)


class AuditRecorder:
    """Builds events and makes them durable: group commit for reads, in-transaction for writes."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        ring: AuditKeyRing,
        pepper: bytes,
        origin: str,
        policy: CheckpointPolicy | None = None,
        clock: Clock = utcnow,
        max_batch: int = 500,
        personal_keys: Iterable[str] = PERSONAL_KEYS,
    ) -> None:
        self.sessions = sessions
        self.ring = ring
        self.origin = origin
        self.clock = clock
        self.sealer = Sealer(
            ring.signer(origin), policy=policy, clock=clock, verifiers=ring.verifiers(origin)
        )
        self.writer = GroupCommitWriter(sessions, sealer=self.sealer, max_batch=max_batch)
        self._pepper = pepper
        self._personal_keys = frozenset(personal_keys)
        self._ticker: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls,
        settings: AuditSettings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        var_dir: Path,
        production: bool,
        clock: Clock = utcnow,
        key_store: AuditKeyStore | None = None,
        pepper_store: PepperStore | None = None,
    ) -> AuditRecorder:
        """A recorder with the keys and pepper the settings name (stores may be injected)."""
        keys = key_store or key_store_from_settings(
            settings, var_dir=var_dir, production=production
        )
        pepper = pepper_store or pepper_store_from_settings(
            settings, var_dir=var_dir, production=production
        )
        return cls(
            sessions=sessions,
            ring=keys.load(),
            pepper=pepper.load(),
            origin=settings.origin,
            policy=CheckpointPolicy(settings.checkpoint_every, settings.checkpoint_seconds),
            clock=clock,
            max_batch=settings.max_batch,
        )

    def verifiers(self) -> list[NoteVerifier]:
        """Verifiers of every key in the ring, for `verify_database`."""
        return self.ring.verifiers(self.origin)

    def redact(self, variables: Any) -> Any:
        """`variables` with personal values replaced by keyed hashes."""
        return redact_variables(variables, pepper=self._pepper, personal_keys=self._personal_keys)

    def event(
        self,
        *,
        document: str | None = None,
        document_sha256: str | None = None,
        variables: Any = None,
        **fields: Any,
    ) -> AuditEvent:
        """An `AuditEvent` from the raw document and variables (digested and redacted here).

        `document_sha256` names the document when its text is unknown (an APQ hash the hub
        has not seen). `fields` are `AuditEvent`'s other fields (`occurred_at`, `decision`,
        `client_id`, …).
        """
        return AuditEvent(
            document_sha256=document_digest(document) if document is not None else document_sha256,
            variables=self.redact(variables) if variables is not None else None,
            **fields,
        )

    async def record(self, event: AuditEvent) -> int:
        """Make `event` durable through group commit; raise `AuditWriteError` if it is not."""
        return await self.writer.write(event)

    async def record_in(self, session: AsyncSession, event: AuditEvent) -> int:
        """Append `event` in the caller's transaction (commits with the mutation's data)."""
        (seq,) = await append(session, [event], sealer=self.sealer)
        return seq

    async def seal_if_due(self, *, force: bool = False) -> int | None:
        """Write a checkpoint when one is due (or when anything is unsealed, if `force`)."""
        async with transaction(self.sessions) as session:
            checkpoint = await self.sealer.seal_if_due(session, force=force)
        return None if checkpoint is None else checkpoint.seq

    async def start(self) -> None:
        """Start the task that seals quiet periods (no appends to trigger a checkpoint)."""
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="audit-sealer")

    async def _tick(self) -> None:
        """Every few seconds, seal if the time limit has passed since the last checkpoint."""
        interval = max(1.0, min(self.sealer.policy.seconds / 4, 15.0))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.seal_if_due()
            except Exception:  # a failed seal is retried next tick; appends go on
                log.exception("periodic audit checkpoint failed")

    async def close(self) -> None:
        """Stop sealing, write what is queued, and seal it."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.writer.close()
        try:
            await self.seal_if_due(force=True)
        except Exception:  # shutdown goes on; the next start seals what is left
            log.exception("final audit checkpoint failed")
