"""A private seeded city per test, with helpers to find needs and organisations in it.

The seeded city is generated "as of" `REFERENCE_TIME`; tests act one hour later, when every
seeded ACTIVE pledge is still running (the earliest expires about a day after).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.actor import Actor
from hub.db import create_engine, session_factory
from hub.ids import need_ref
from hub.needs.errors import NeedError, NeedErrorCode
from hub.needs.models import Need, NeedStatusChange, Pledge
from hub.organizations.models import Organization
from hub.synthetic.clock import REFERENCE_TIME

NOW = REFERENCE_TIME + dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One step of a need's history."""

    changed_at: dt.datetime
    from_status: str | None
    to_status: str
    organization_id: int | None
    organization_code: str | None
    note: str | None


async def need_timeline(session: AsyncSession, *, need_id: int) -> list[TimelineEntry]:
    """The need's history, oldest first, as the tests read it; raise NEED_NOT_FOUND."""
    changes = NeedStatusChange.__table__
    organizations = Organization.__table__
    rows = (
        await session.execute(
            select(
                changes.c.changed_at,
                changes.c.from_status,
                changes.c.to_status,
                changes.c.organization_id,
                organizations.c.code,
                changes.c.note,
            )
            .select_from(
                changes.outerjoin(organizations, organizations.c.id == changes.c.organization_id)
            )
            .where(changes.c.need_id == need_id)
            .order_by(changes.c.changed_at, changes.c.id)
        )
    ).all()
    if not rows and await session.get(Need, need_id) is None:
        raise NeedError(NeedErrorCode.NEED_NOT_FOUND, f"there is no need {need_ref(need_id)}")
    return [TimelineEntry(*row) for row in rows]


@dataclass
class City:
    """A seeded database private to one test."""

    url: str
    engine: AsyncEngine
    #: For the services under test: on SQLite each transaction takes the write lock first.
    sessions: async_sessionmaker[AsyncSession]
    #: For the helpers' own reads, which may run while a test holds a write session open.
    reads: async_sessionmaker[AsyncSession]

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    async def scalar(self, statement: Any) -> Any:
        """One value, read in a session of its own."""
        async with self.reads() as session:
            return await session.scalar(statement)

    async def all(self, statement: Any) -> list[Any]:
        """All rows, read in a session of its own."""
        async with self.reads() as session:
            return list((await session.execute(statement)).all())

    async def need(self, need_id: int) -> Need:
        """The need as stored now."""
        async with self.reads() as session:
            need = await session.get(Need, need_id)
            assert need is not None
            return need

    async def need_in(self, status: str, *, offset: int = 0) -> int:
        """The id of a seeded need in `status` (the lowest, or the `offset`-th)."""
        need_id = await self.scalar(
            select(Need.id).where(Need.status == status).order_by(Need.id).offset(offset).limit(1)
        )
        assert need_id is not None, f"the seed has no {status} need"
        return int(need_id)

    async def org(self, code: str) -> Actor:
        """The actor of the organisation with this code."""
        org_id = await self.scalar(select(Organization.id).where(Organization.code == code))
        assert org_id is not None, code
        return Actor(organization_id=int(org_id), client_id=None)

    async def foundations(self, count: int) -> list[Actor]:
        """`count` distinct ACTIVE foundations, lowest ids first."""
        ids = await self.all(
            select(Organization.id)
            .where(Organization.kind == "LKS", Organization.status == "ACTIVE")
            .order_by(Organization.id)
            .limit(count)
        )
        assert len(ids) == count
        return [Actor(organization_id=int(row[0])) for row in ids]

    async def pledger(self, need_id: int) -> Actor:
        """The organisation holding the ACTIVE pledge on a need."""
        org_id = await self.scalar(
            select(Pledge.organization_id).where(
                Pledge.need_id == need_id, Pledge.status == "ACTIVE"
            )
        )
        assert org_id is not None
        return Actor(organization_id=int(org_id))

    async def other_foundation(self, *not_these: Actor) -> Actor:
        """An ACTIVE foundation that is none of `not_these`."""
        taken = {a.organization_id for a in not_these}
        for actor in await self.foundations(len(taken) + 1):
            if actor.organization_id not in taken:
                return actor
        raise AssertionError("unreachable")


@pytest.fixture
async def city_db(fresh_city_database_url: str) -> AsyncIterator[City]:
    """The seeded city, private to this test."""
    engine = create_engine(fresh_city_database_url)
    yield City(
        fresh_city_database_url,
        engine,
        session_factory(engine, write=True),
        session_factory(engine),
    )
    await engine.dispose()


@pytest.fixture
async def shared_city_db(city_database_url: str) -> AsyncIterator[City]:
    """The seeded city shared by the whole test session, for tests that only read or are
    refused: they must never commit."""
    engine = create_engine(city_database_url)
    yield City(city_database_url, engine, session_factory(engine), session_factory(engine))
    await engine.dispose()
