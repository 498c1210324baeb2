"""Fixtures shared by every test: fresh databases on SQLite or PostgreSQL.

Set `HUB_TEST_DATABASE_URL` (for example `postgresql+asyncpg://postgres@127.0.0.1/postgres`)
to run the suite against PostgreSQL; without it the suite uses SQLite files.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db import create_engine, session_factory
from tests.support.api import Api, close_api, make_api
from tests.support.databases import DatabaseFactory

#: Fixtures that tests of several domains use: the identity layer (`auth`, `make_client`,
#: `clock`…), a seeded city's services (`city_db`) and partner clients over HTTP (`partner`).
pytest_plugins = ["tests.support.auth", "tests.support.city", "tests.support.partners"]


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseFactory]:
    """The factory of throw-away databases for this test session."""
    factory = DatabaseFactory(
        os.environ.get("HUB_TEST_DATABASE_URL") or None,
        Path(tmp_path_factory.mktemp("databases")),
    )
    yield factory
    if factory.server_url is not None:
        await factory.drop_all()


@pytest.fixture
async def empty_database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    """A migrated database holding only reference data, private to this test."""
    url = await databases.fresh("empty")
    yield url
    await databases.drop(url)


@pytest.fixture
async def sessions(empty_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh migrated database, private to this test."""
    engine = create_engine(empty_database_url)
    yield session_factory(engine)
    await engine.dispose()


CITY_CITIZENS = 2000
CITY_SEED = 7


async def populate_city(url: str) -> None:
    """A small synthetic Bandung: every kelurahan, needs in every status, contributions."""
    from hub.synthetic import seed_city
    from tests.support.identities import create_test_clients

    await seed_city(url, citizens=CITY_CITIZENS, seed=CITY_SEED)
    await create_test_clients(url)


@pytest.fixture(scope="session")
async def city_database_url(databases: DatabaseFactory) -> str:
    """A seeded database shared by read-only tests (never write to it)."""
    return await databases.fresh("city", populate_city)


@pytest.fixture
async def fresh_city_database_url(databases: DatabaseFactory) -> AsyncIterator[str]:
    """A seeded database private to this test, for tests that write."""
    url = await databases.fresh("city", populate_city)
    yield url
    await databases.drop(url)


@pytest.fixture(scope="session")
async def city(city_database_url: str) -> AsyncIterator[Api]:
    """A client of a hub on the shared seeded city (read-only tests), as Dinsos admin."""
    api = await make_api(city_database_url)
    yield api
    await close_api(api)


@pytest.fixture
async def fresh_city(fresh_city_database_url: str) -> AsyncIterator[Api]:
    """A client of a hub on a private seeded city (tests that write or break things)."""
    api = await make_api(fresh_city_database_url)
    yield api
    await close_api(api)


# Per-role clients of the shared seeded city (read-only tests). Every role's default purpose
# is SERVICE_DELIVERY except the auditor's, which states none; `.as_(role, purpose=…)`
# gives any other combination.


@pytest.fixture(scope="session")
def dinsos_admin(city: Api) -> Api:
    """The shared city as a Dinsos administrator."""
    return city.as_("dinsos_admin")


@pytest.fixture(scope="session")
def opd_officer(city: Api) -> Api:
    """The shared city as an agency officer."""
    return city.as_("opd_officer")


@pytest.fixture(scope="session")
def lks_partner(city: Api) -> Api:
    """The shared city as a foundation."""
    return city.as_("lks_partner")


@pytest.fixture(scope="session")
def auditor(city: Api) -> Api:
    """The shared city as an auditor, stating no purpose."""
    return city.as_("auditor", purpose=None)
