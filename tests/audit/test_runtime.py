"""`AuditRecorder`: what the request path calls, end to end."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.events import CitizenAccessLog, document_digest
from hub.audit.keys import MemoryAuditKeyStore, MemoryPepperStore
from hub.audit.models import AuditCheckpoint, AuditEventRecord
from hub.audit.runtime import AuditRecorder
from hub.audit.settings import AuditSettings
from hub.db import transaction
from tests.support.clock import FakeClock


async def test_reads_and_mutations_are_recorded(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, tmp_path: Path
) -> None:
    recorder = AuditRecorder.from_settings(
        AuditSettings(checkpoint_every=3),
        sessions=sessions,
        var_dir=tmp_path,
        production=False,
        clock=clock.now,
        key_store=MemoryAuditKeyStore(),
        pepper_store=MemoryPepperStore(b"k" * 32),
    )
    await recorder.start()
    access = CitizenAccessLog()
    access.add(12, "nik", "fullName")
    access.add(12, "phone")
    access.add(3, "nik")
    query = "query Citizen($nik: String!) { citizen(nik: $nik) { fullName } }"
    read = recorder.event(
        occurred_at=clock.now(),
        decision="ALLOWED",
        document=query,
        variables={"nik": "3273154207260001"},
        operation_type="query",
        operation_name="Citizen",
        purpose="SERVICE_DELIVERY",
        citizens=access.snapshot(),
    )
    assert read.document_sha256 == document_digest(query)
    assert read.variables["nik"].startswith("hmac-sha256:")
    assert [(a.citizen_id, a.fields) for a in read.citizens] == [
        (3, ("nik",)),
        (12, ("fullName", "nik", "phone")),
    ]
    assert await recorder.record(read) == 1

    # A mutation: its event commits, or rolls back, with its data.
    denied = recorder.event(occurred_at=clock.now(), decision="DENIED", reason="FORBIDDEN")
    async with transaction(sessions) as session:
        assert await recorder.record_in(session, denied) == 2
    try:
        async with transaction(sessions) as session:
            await recorder.record_in(session, denied)
            raise RuntimeError("the mutation failed")
    except RuntimeError:
        pass
    clock.advance(61)
    assert await recorder.seal_if_due() == 2  # the quiet period is sealed
    assert await recorder.record(denied) == 3
    await recorder.close()
    async with transaction(sessions) as session:
        seqs = list(await session.scalars(select(AuditEventRecord.seq)))
        sealed = list(await session.scalars(select(AuditCheckpoint.seq)))
    assert sorted(seqs) == [1, 2, 3] and sealed == [2, 3]  # close seals what is left
    assert recorder.verifiers()[0].name == recorder.origin
