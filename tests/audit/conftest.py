"""Fixtures of the audit tests: sessions on a fresh database, keys in memory, a fake clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import hub.audit.models  # noqa: F401  (until hub.models imports it: registers the tables)
from hub.audit.checkpoints import CheckpointPolicy, Sealer
from hub.audit.events import AuditEvent, CitizenAccess
from hub.audit.keys import MemoryAuditKeyStore
from hub.audit.recorder import append
from hub.audit.settings import DEFAULT_ORIGIN
from hub.audit.verify import Verification, verify_database
from hub.db import transaction
from tests.support.clock import FakeClock

START = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FakeClock:
    """The injectable clock of the sealer."""
    return FakeClock(START)


@pytest.fixture
def key_store() -> MemoryAuditKeyStore:
    """The checkpoint key, in memory."""
    return MemoryAuditKeyStore()


@pytest.fixture
def sealer(key_store: MemoryAuditKeyStore, clock: FakeClock) -> Sealer:
    """Seals every 5 events or 60 seconds."""
    ring = key_store.load()
    return Sealer(
        ring.signer(DEFAULT_ORIGIN),
        policy=CheckpointPolicy(every=5, seconds=60),
        clock=clock.now,
        verifiers=ring.verifiers(DEFAULT_ORIGIN),
    )


def make_event(number: int, *, citizens: Iterable[int] = (), **fields: Any) -> AuditEvent:
    """A plausible read event, distinct per `number`."""
    values: dict[str, Any] = {
        "occurred_at": START + dt.timedelta(seconds=number),
        "decision": "ALLOWED",
        "request_id": f"req-{number}",
        "client_id": "dinsos-test",
        "organization_code": "DINSOS",
        "roles": ("dinsos_admin",),
        "purpose": "SERVICE_DELIVERY",
        "operation_type": "query",
        "operation_name": "Citizens",
        "document_sha256": "ab" * 32,
        "variables": {"first": 10, "nik": "hmac-sha256:" + "cd" * 32},
        "citizens": tuple(CitizenAccess(cid, ("fullName", "nik")) for cid in citizens),
        "result_size": 100 + number,
        "duration_us": 1500,
    }
    values.update(fields)
    return AuditEvent(**values)


async def append_events(
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    *,
    sealer: Sealer | None = None,
    start: int = 1,
    citizens: Iterable[int] = (101, 102),
) -> list[int]:
    """Append `count` events, one transaction each, and return their seqs."""
    seqs: list[int] = []
    for number in range(start, start + count):
        async with transaction(sessions) as session:
            seqs += await append(session, [make_event(number, citizens=citizens)], sealer=sealer)
    return seqs


async def verify(sessions: async_sessionmaker[AsyncSession], sealer: Sealer) -> Verification:
    """Verify the whole live chain."""
    async with transaction(sessions) as session:
        return await verify_database(session, verifiers=sealer.verifiers, origin=sealer.origin)


async def tamper(sessions: async_sessionmaker[AsyncSession], *statements: str) -> None:
    """Run `statements` as an intruder with full database rights, past the triggers."""
    async with transaction(sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            names = await session.scalars(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%'")
            )
            for name in list(names):
                await session.execute(text(f'DROP TRIGGER "{name}"'))
            await session.execute(text("PRAGMA defer_foreign_keys = ON"))
        for statement in statements:
            await session.execute(text(statement))
