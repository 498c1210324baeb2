"""Every kind of tampering with the stored trail is found, at the first bad seq."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.chain import event_hash
from hub.audit.checkpoints import Sealer
from hub.audit.models import AuditEventRecord
from hub.audit.rows import iter_records
from hub.db import transaction
from tests.audit.conftest import append_events, tamper, verify

# 12 events, sealed at 5 and 10 (the sealer seals every 5).
EVENTS = 12


@pytest.fixture
async def chain(sessions: async_sessionmaker[AsyncSession], sealer: Sealer) -> None:
    """A sealed chain of 12 events, each naming citizens 101 and 102."""
    await append_events(sessions, EVENTS, sealer=sealer)
    assert (await verify(sessions, sealer)).ok


def _forge(seq: int, *, copy_of: int, prev_hash: str, hash: str, org: str | None = None) -> str:
    """SQL inserting a copy of event `copy_of` at `seq`, without citizens, chained as given."""
    columns = (
        "occurred_at, kind, request_id, client_id, roles, token_id, source_address, purpose, "
        "operation_type, operation_name, document_sha256, variables, decision, reason, "
        "result_size, duration_us"
    )
    organization = f"'{org}'" if org else "organization_code"
    return (
        f"INSERT INTO audit_events (seq, prev_hash, hash, organization_code, citizen_count, "
        f"{columns}) SELECT {seq}, '{prev_hash}', '{hash}', {organization}, 0, {columns} "
        f"FROM audit_events WHERE seq = {copy_of}"
    )


async def _first_bad(sessions: async_sessionmaker[AsyncSession], sealer: Sealer) -> int | None:
    """The first bad seq the verifier reports (None when the chain verifies)."""
    result = await verify(sessions, sealer)
    assert result.ok == (result.first_bad_seq is None)
    return result.first_bad_seq


@pytest.mark.usefixtures("chain")
async def test_an_edited_field_is_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await tamper(sessions, "UPDATE audit_events SET organization_code = 'LKS-0001' WHERE seq = 7")
    assert await _first_bad(sessions, sealer) == 7


@pytest.mark.usefixtures("chain")
async def test_an_edited_citizen_row_is_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await tamper(
        sessions,
        "UPDATE audit_event_citizens SET citizen_id = 999 WHERE event_seq = 3 AND citizen_id = 102",
    )
    assert await _first_bad(sessions, sealer) == 3


@pytest.mark.usefixtures("chain")
async def test_a_removed_citizen_row_is_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await tamper(
        sessions, "DELETE FROM audit_event_citizens WHERE event_seq = 11 AND citizen_id = 101"
    )
    assert await _first_bad(sessions, sealer) == 11


@pytest.mark.usefixtures("chain")
async def test_a_deleted_event_is_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await tamper(
        sessions,
        "DELETE FROM audit_event_citizens WHERE event_seq = 4",
        "DELETE FROM audit_events WHERE seq = 4",
    )
    result = await verify(sessions, sealer)
    assert result.first_bad_seq == 4 and "event 4 is missing" in (result.problem or "")


@pytest.mark.usefixtures("chain")
async def test_a_forged_event_inserted_in_the_middle_is_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    # The intruder makes room at seq 6 and writes a well-formed event there, correctly
    # chained to event 5: only its successor's link can betray it, so 7 is the first bad seq.
    async with transaction(sessions) as session:
        records = [r async for r in iter_records(session, from_seq=5, to_seq=5)]
    forged = {name: value for name, value in records[0].items() if name != "hash"}
    forged.update(
        seq=6,
        prev_hash=records[0]["hash"],
        organization_code="LKS-0666",
        citizens=[],
        citizen_count=0,
    )
    forged_hash = event_hash(forged)
    # Shift in two steps so the primary key never collides mid-statement.
    await tamper(
        sessions,
        "UPDATE audit_event_citizens SET event_seq = event_seq + 1000 WHERE event_seq >= 6",
        "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 6",
        "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1006",
        "UPDATE audit_event_citizens SET event_seq = event_seq - 999 WHERE event_seq >= 1006",
        _forge(6, copy_of=5, prev_hash=forged["prev_hash"], hash=forged_hash, org="LKS-0666"),
    )
    assert await _first_bad(sessions, sealer) == 7


@pytest.mark.usefixtures("chain")
async def test_a_forged_event_appended_past_the_head_is_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    async with transaction(sessions) as session:
        (last,) = [r async for r in iter_records(session, from_seq=EVENTS, to_seq=EVENTS)]
    forged = {name: value for name, value in last.items() if name != "hash"}
    forged.update(seq=EVENTS + 1, prev_hash=last["hash"], citizens=[], citizen_count=0)
    await tamper(
        sessions,
        _forge(EVENTS + 1, copy_of=EVENTS, prev_hash=last["hash"], hash=event_hash(forged)),
    )
    # A perfectly formed, unsealed event: the chain holds, the head row betrays it.
    result = await verify(sessions, sealer)
    assert result.first_bad_seq == EVENTS + 1 and "were added" in (result.problem or "")


@pytest.mark.usefixtures("chain")
async def test_two_swapped_events_are_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await tamper(
        sessions,
        "UPDATE audit_event_citizens SET event_seq = -8 WHERE event_seq = 8",
        "UPDATE audit_events SET seq = -8 WHERE seq = 8",
        "UPDATE audit_events SET seq = 8 WHERE seq = 9",
        "UPDATE audit_event_citizens SET event_seq = 8 WHERE event_seq = 9",
        "UPDATE audit_events SET seq = 9 WHERE seq = -8",
        "UPDATE audit_event_citizens SET event_seq = 9 WHERE event_seq = -8",
    )
    assert await _first_bad(sessions, sealer) == 8


@pytest.mark.usefixtures("chain")
async def test_a_truncated_tail_is_found_against_the_checkpoint(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    # Events 8..12 go, and the intruder rewinds the head too: checkpoint 10 still names 10.
    async with transaction(sessions) as session:
        seventh = await session.get(AuditEventRecord, 7)
    assert seventh is not None
    await tamper(
        sessions,
        "DELETE FROM audit_event_citizens WHERE event_seq >= 8",
        "DELETE FROM audit_events WHERE seq >= 8",
        f"UPDATE audit_chain_head SET last_seq = 7, last_hash = '{seventh.hash}'",
    )
    result = await verify(sessions, sealer)
    assert result.first_bad_seq == 8 and "sealed but are missing" in (result.problem or "")


@pytest.mark.usefixtures("chain")
async def test_a_truncated_unsealed_tail_is_found_against_the_head(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await tamper(
        sessions,
        "DELETE FROM audit_event_citizens WHERE event_seq >= 12",
        "DELETE FROM audit_events WHERE seq >= 12",
    )
    assert await _first_bad(sessions, sealer) == 12


@pytest.mark.usefixtures("chain")
async def test_a_rewritten_tail_is_found_against_the_checkpoint(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    # The intruder edits event 7 and recomputes every later hash: only checkpoint 10 knows.
    async with transaction(sessions) as session:
        records = [r async for r in iter_records(session, from_seq=7)]
    statements = []
    prev = records[0]["prev_hash"]
    for record in records:
        canonical = {name: value for name, value in record.items() if name != "hash"}
        canonical["prev_hash"] = prev
        if record["seq"] == 7:
            canonical["purpose"] = "AUDIT"
        prev = event_hash(canonical)
        statements.append(
            f"UPDATE audit_events SET purpose = '{canonical['purpose']}', "
            f"prev_hash = '{canonical['prev_hash']}', hash = '{prev}' WHERE seq = {record['seq']}"
        )
    statements.append(f"UPDATE audit_chain_head SET last_hash = '{prev}'")
    await tamper(sessions, *statements)
    result = await verify(sessions, sealer)
    # Any of 6..10 may be the altered one: 6 is the first seq no signature vouches for.
    assert result.first_bad_seq == 6 and "6..10 were rewritten" in (result.problem or "")


@pytest.mark.usefixtures("chain")
async def test_a_forged_checkpoint_is_found(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    await tamper(
        sessions,
        "UPDATE audit_checkpoints SET note = replace(note, '\n10\n', '\n11\n') WHERE seq = 10",
    )
    result = await verify(sessions, sealer)
    assert result.first_bad_seq == 10 and "checkpoint 10" in (result.problem or "")


@pytest.mark.usefixtures("chain")
async def test_the_database_refuses_updates_and_deletes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    statements = [
        "UPDATE audit_events SET purpose = 'AUDIT' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 12",
        "UPDATE audit_event_citizens SET citizen_id = 1 WHERE event_seq = 1",
        "DELETE FROM audit_event_citizens WHERE event_seq = 1",
        "UPDATE audit_checkpoints SET note = '' WHERE seq = 5",
        "DELETE FROM audit_checkpoints WHERE seq = 5",
    ]
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            statements += [
                "TRUNCATE audit_events, audit_event_citizens",
                "TRUNCATE audit_event_citizens",
                "TRUNCATE audit_checkpoints",
            ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(sessions) as session:
                await session.execute(text(statement))
    async with transaction(sessions) as session:
        assert await session.scalar(
            select(AuditEventRecord.purpose).where(AuditEventRecord.seq == 1)
        ) == ("SERVICE_DELIVERY")
