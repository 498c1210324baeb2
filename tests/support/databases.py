"""Throw-away databases for tests: a migrated template, copied per test.

SQLite: the template is a file, copied with `shutil.copyfile`. PostgreSQL (when
`HUB_TEST_DATABASE_URL` names a server database): the template is a database and each test
gets `CREATE DATABASE … TEMPLATE …`, so every test starts from the same state and no test
sees another's writes.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from hub.migrations import upgrade

Populate = Callable[[str], Awaitable[None]]


class DatabaseFactory:
    """Makes fresh databases of one backend from named templates."""

    def __init__(self, server_url: str | None, workdir: Path) -> None:
        self.server_url = server_url
        self.workdir = workdir
        self.run_id = uuid.uuid4().hex[:8]
        self._templates: dict[str, str] = {}
        self._created: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    def _name(self, label: str) -> str:
        return f"hubtest_{self.run_id}_{label}"

    def _url_for(self, name: str) -> str:
        if self.server_url is None:
            return f"sqlite+aiosqlite:///{self.workdir / (name + '.db')}"
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    async def _admin(self, statement: str) -> None:
        assert self.server_url is not None
        engine = create_async_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    async def template(self, label: str, populate: Populate | None = None) -> str:
        """The URL of a migrated (and optionally populated) template, built once."""
        if label not in self._templates:
            name = self._name("tpl_" + label)
            if self.server_url is not None:
                await self._admin(f'CREATE DATABASE "{name}"')
                self._created.append(name)
            url = self._url_for(name)
            await upgrade(url)
            if populate is not None:
                await populate(url)
            self._templates[label] = name
        return self._url_for(self._templates[label])

    async def fresh(self, label: str, populate: Populate | None = None) -> str:
        """A new database copied from the template `label`."""
        await self.template(label, populate)
        source = self._templates[label]
        name = self._name(uuid.uuid4().hex[:10])
        if self.server_url is None:
            shutil.copyfile(self.workdir / (source + ".db"), self.workdir / (name + ".db"))
        else:
            await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
            self._created.append(name)
        return self._url_for(name)

    async def drop(self, url: str) -> None:
        """Drop one database made by `fresh` (PostgreSQL; SQLite files go with the tmpdir)."""
        if self.server_url is None:
            return
        name = make_url(url).database
        if name in self._created:
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._created.remove(name)

    async def drop_all(self) -> None:
        """Drop everything this factory created."""
        for name in list(reversed(self._created)):
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()


def run(coro: Awaitable[object]) -> object:
    """Run a coroutine to completion from a synchronous fixture."""
    return asyncio.run(coro)  # type: ignore[arg-type]
