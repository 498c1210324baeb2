"""Appending events: seqs, the hash chain, checkpoints every N events or T seconds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.chain import GENESIS_HASH, canonical_bytes, event_hash
from hub.audit.checkpoints import Sealer
from hub.audit.events import AuditEvent, CitizenAccess
from hub.audit.head import read_head
from hub.audit.models import AuditCheckpoint, AuditEventCitizen, AuditEventRecord
from hub.audit.notes import NoteVerifier, open_checkpoint
from hub.audit.recorder import append
from hub.audit.rows import canonical_record
from hub.db import transaction
from tests.audit.conftest import START, append_events, make_event, verify
from tests.support.clock import FakeClock


def test_canonical_form_is_fixed() -> None:
    # A fixed vector: auditors' implementations and future refactors must agree with it.
    event = AuditEvent(
        occurred_at=dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        decision="DENIED",
        reason="no purpose",
        roles=("lks_partner",),
        variables={"b": [1, "é"], "a": None},
        citizens=(CitizenAccess(9, ("nik", "fullName", "nik")), CitizenAccess(3, ("phone",))),
    )
    record = canonical_record(event, seq=1, prev_hash=GENESIS_HASH)
    assert canonical_bytes(record).decode() == (
        '{"citizen_count":2,"citizens":[{"citizen_id":3,"fields":["phone"]},'
        '{"citizen_id":9,"fields":["fullName","nik"]}],"client_id":null,"decision":"DENIED",'
        '"document_sha256":null,"duration_us":null,"kind":"GRAPHQL",'
        '"occurred_at":"2026-01-02T03:04:05.000006Z","operation_name":null,'
        '"operation_type":null,"organization_code":null,"prev_hash":"' + "0" * 64 + '",'
        '"purpose":null,"reason":"no purpose","request_id":null,"result_size":null,'
        '"roles":["lks_partner"],"seq":1,"source_address":null,"token_id":null,'
        '"variables":{"a":null,"b":[1,"é"]}}'
    )
    assert event_hash(record) == event_hash(dict(reversed(record.items())))


async def test_append_assigns_seqs_and_chains(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    async with transaction(sessions) as session:
        assert await append(session, [make_event(1, citizens=[7, 5]), make_event(2)]) == [1, 2]
    async with transaction(sessions) as session:
        assert await append(session, [make_event(3)]) == [3]
        assert await append(session, []) == []
    async with transaction(sessions) as session:
        rows = list(await session.scalars(select(AuditEventRecord).order_by(AuditEventRecord.seq)))
        citizens = list(await session.scalars(select(AuditEventCitizen)))
        head = await read_head(session)
    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert [row.prev_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]
    assert sorted((c.event_seq, c.citizen_id) for c in citizens) == [(1, 5), (1, 7)]
    assert rows[0].citizen_count == 2 and rows[1].citizen_count == 0
    assert (head.last_seq, head.last_hash) == (3, rows[-1].hash)
    result = await verify(sessions, sealer)
    assert result.ok and result.events == 3 and result.last_hash == rows[-1].hash


async def test_a_rolled_back_append_leaves_no_trace(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await append_events(sessions, 2)
    try:
        async with transaction(sessions) as session:
            await append(session, [make_event(3)])
            raise RuntimeError("the mutation failed")
    except RuntimeError:
        pass
    assert await append_events(sessions, 1, start=4) == [3]
    assert (await verify(sessions, sealer)).ok


async def test_checkpoint_every_n_events(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await append_events(sessions, 12, sealer=sealer)
    async with transaction(sessions) as session:
        checkpoints = list(
            await session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
        )
        last = await session.get(AuditEventRecord, 10)
    assert [(c.seq, c.event_count) for c in checkpoints] == [(5, 5), (10, 5)]
    assert last is not None and checkpoints[-1].last_hash == last.hash
    opened = open_checkpoint(checkpoints[-1].note, sealer.verifiers, origin=sealer.origin)
    assert (opened.size, opened.last_hash, opened.signed_at) == (10, last.hash, START)
    result = await verify(sessions, sealer)
    assert result.ok and result.sealed_through == 10
    assert result.warnings == ["2 event(s) after seq 10 are not sealed yet"]


async def test_checkpoint_after_t_seconds(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, clock: FakeClock
) -> None:
    await append_events(sessions, 2, sealer=sealer)  # starts the timer
    clock.advance(59)
    await append_events(sessions, 1, sealer=sealer, start=3)
    async with transaction(sessions) as session:
        assert await session.scalar(select(AuditCheckpoint.seq)) is None
    clock.advance(1)
    await append_events(sessions, 1, sealer=sealer, start=4)
    async with transaction(sessions) as session:
        assert list(await session.scalars(select(AuditCheckpoint.seq))) == [4]
    # A quiet period is sealed by the periodic task, not by the next append.
    await append_events(sessions, 1, sealer=sealer, start=5)
    clock.advance(60)
    async with transaction(sessions) as session:
        assert (await sealer.seal_if_due(session)) is not None
    async with transaction(sessions) as session:
        assert await sealer.seal_if_due(session, force=True) is None  # nothing left to seal
        assert list(await session.scalars(select(AuditCheckpoint.seq))) == [4, 5]


async def test_sealer_refuses_to_sign_an_inconsistent_head(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    from tests.audit.conftest import tamper

    await append_events(sessions, 7, sealer=sealer)  # sealed at 5
    await tamper(sessions, "UPDATE audit_events SET hash = 'x' WHERE seq = 7")
    async with transaction(sessions) as session:
        assert await sealer.seal_if_due(session, force=True) is None
        assert list(await session.scalars(select(AuditCheckpoint.seq))) == [5]
    assert sealer.refused_at == 7
    assert (await verify(sessions, sealer)).first_bad_seq == 7


def test_vkey_round_trip(sealer: Sealer) -> None:
    verifier = sealer.verifiers[0]
    again = NoteVerifier.from_vkey(verifier.vkey())
    assert again.key_id == verifier.key_id and again.name == verifier.name
    pem = NoteVerifier.from_pem(verifier.public_pem(), name=verifier.name)
    assert pem.key_id == verifier.key_id
