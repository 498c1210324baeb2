"""Exports verify offline with the public key alone; any edit to the file is found."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.checkpoints import Sealer
from hub.audit.export import ExportError, export_events, seq_range, verify_export
from hub.audit.notes import NoteVerifier
from hub.db import transaction
from tests.audit.conftest import START, append_events, tamper


async def _export(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer, first: int, last: int
) -> list[str]:
    """The lines of an export of `first..last`."""
    stream = io.StringIO()
    async with transaction(sessions) as session:
        await export_events(session, stream, first_seq=first, last_seq=last, sealer=sealer)
    return stream.getvalue().splitlines()


@pytest.fixture
async def lines(sessions: async_sessionmaker[AsyncSession], sealer: Sealer) -> list[str]:
    """An export of events 3..12 of a 14-event chain sealed at 5 and 10."""
    await append_events(sessions, 14, sealer=sealer)
    return await _export(sessions, sealer, 3, 12)


def _pem(sealer: Sealer) -> list[str]:
    """The published public key, PEM."""
    return [sealer.verifiers[0].public_pem()]


def test_an_export_verifies_with_the_public_key_only(lines: list[str], sealer: Sealer) -> None:
    header = json.loads(lines[0])
    assert (header["first_seq"], header["last_seq"], header["anchor_seq"]) == (3, 12, 2)
    kinds = [json.loads(line)["type"] for line in lines[1:]]
    assert kinds.count("event") == 10 and kinds.count("checkpoint") == 2
    for keys in (_pem(sealer), [sealer.verifiers[0].vkey()]):
        result = verify_export(lines, public_keys=keys)
        assert result.ok, result.problems
        assert (result.first_seq, result.last_seq, result.events) == (3, 12, 10)
        assert result.sealed_through == 12 and result.checkpoints == 2


def test_a_wrong_key_fails(lines: list[str], sealer: Sealer) -> None:
    other = NoteVerifier(sealer.origin, Ed25519PrivateKey.generate().public_key())
    result = verify_export(lines, public_keys=[other.public_pem()])
    assert not result.ok and "seal is invalid" in (result.problem or "")


def _edit(lines: list[str], seq: int, **changes: object) -> list[str]:
    """`lines` with the event `seq` changed."""
    edited = []
    for line in lines:
        record = json.loads(line)
        if record.get("type") == "event" and record["seq"] == seq:
            record.update(changes)
            line = json.dumps(record)
        edited.append(line)
    return edited


@pytest.mark.parametrize(
    ("change", "first_bad"),
    [
        ("edit", 7),
        ("delete", 7),
        ("swap", 7),
        ("truncate", 9),
        ("append", 13),
        ("edit-checkpoint", 10),
    ],
)
def test_tampered_files_fail_at_the_first_bad_seq(
    lines: list[str], sealer: Sealer, change: str, first_bad: int
) -> None:
    events = {
        json.loads(line).get("seq"): index for index, line in enumerate(lines) if '"event"' in line
    }
    if change == "edit":
        lines = _edit(lines, 7, purpose="AUDIT")
    elif change == "delete":
        del lines[events[7]]
    elif change == "swap":
        lines[events[7]], lines[events[8]] = lines[events[8]], lines[events[7]]
    elif change == "truncate":
        lines = lines[: events[8] + 1]
    elif change == "append":
        record = json.loads(lines[events[12]])
        record.update(seq=13, prev_hash=record["hash"])
        lines = [*lines, json.dumps(record)]
    else:
        checkpoint = events[10] + 1
        record = json.loads(lines[checkpoint])
        record["last_hash"] = "0" * 64
        lines[checkpoint] = json.dumps(record)
    result = verify_export(lines, public_keys=_pem(sealer))
    assert result.first_bad_seq == first_bad, result.problems


def test_a_replaced_seal_fails(lines: list[str], sealer: Sealer) -> None:
    # The intruder truncates after 10 and puts the stored checkpoint 10's note as the seal.
    header = json.loads(lines[0])
    checkpoint = next(
        json.loads(line) for line in lines if '"checkpoint"' in line and '"seq":10' in line
    )
    header.update(last_seq=10, seal=checkpoint["note"])
    cut = [
        json.dumps(header),
        *lines[1 : 1 + [json.loads(x).get("seq") for x in lines[1:]].index(10) + 2],
    ]
    result = verify_export(cut, public_keys=_pem(sealer))
    assert not result.ok and "does not match its header" in (result.problem or "")


async def test_export_by_time_and_refusal_of_a_broken_chain(
    sessions: async_sessionmaker[AsyncSession], sealer: Sealer
) -> None:
    import datetime as dt

    await append_events(sessions, 8, sealer=sealer)
    async with transaction(sessions) as session:
        assert await seq_range(session, since=START + dt.timedelta(seconds=3), until=None) == (3, 8)
        assert await seq_range(
            session, since=START + dt.timedelta(seconds=2), until=START + dt.timedelta(seconds=5)
        ) == (2, 4)
        assert await seq_range(session, since=START + dt.timedelta(days=1), until=None) is None
    await tamper(sessions, "UPDATE audit_events SET reason = 'x' WHERE seq = 2")
    with pytest.raises(ExportError, match="seq 2"):
        await _export(sessions, sealer, 1, 4)
    # A range far from the damage still exports: it is checked from checkpoint 5 on.
    assert verify_export(await _export(sessions, sealer, 6, 8), public_keys=_pem(sealer)).ok
