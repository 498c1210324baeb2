"""PostgreSQL pools: a connection idle for a while is pinged before use, a busy one is not."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import db
from hub.db import create_engine


async def _terminate_others(engine: AsyncEngine) -> None:
    """What a database restart does to the pool: every other connection is gone."""
    async with engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )


async def test_an_idle_connection_is_pinged_and_replaced(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite opens its file per connection; nothing to ping")
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.2)
    engine = create_engine(empty_database_url, pool_size=1)
    pings: list[str] = []

    def count(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        pings.append(statement)

    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        # Back at once: handed out again without a ping (no statement but the query's).
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 2")) == 2
        assert pings == ["SELECT 2"]
        # Idle past the threshold while the database dropped it: pinged, replaced, answered.
        other = create_engine(empty_database_url, pool_size=1)
        try:
            await _terminate_others(other)
        finally:
            await other.dispose()
        await asyncio.sleep(0.3)
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 3")) == 3
    finally:
        await engine.dispose()
