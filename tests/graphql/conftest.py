"""A GraphQL client over real HTTP (ASGI) to a hub on a seeded database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from hub.app import create_app
from hub.settings import Settings


@dataclass
class Api:
    """Posts GraphQL documents and counts the SQL statements each one ran."""

    client: httpx.AsyncClient
    app: Starlette
    statements: list[str] = field(default_factory=list)

    async def query(
        self, document: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        """POST a document; return the decoded body, asserting HTTP 200."""
        response = await self.client.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a document that must succeed; return its `data`."""
        body = await self.query(document, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def count_statements(self, document: str, variables: dict[str, Any] | None = None) -> int:
        """How many SQL statements answering `document` ran."""
        self.statements.clear()
        await self.data(document, variables)
        return len(self.statements)


async def make_api(database_url: str) -> tuple[Api, Starlette]:
    """An `Api` on a new app instance for `database_url`."""
    app = create_app(Settings(database_url=database_url))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test")
    api = Api(client=client, app=app)

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        api.statements.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    return api, app


@pytest.fixture(scope="session")
async def city(city_database_url: str) -> AsyncIterator[Api]:
    """A client of a hub on the shared seeded city (read-only tests)."""
    api, app = await make_api(city_database_url)
    yield api
    await api.client.aclose()
    await app.state.engine.dispose()


@pytest.fixture
async def fresh_city(fresh_city_database_url: str) -> AsyncIterator[Api]:
    """A client of a hub on a private seeded city (tests that write or break things)."""
    api, app = await make_api(fresh_city_database_url)
    yield api
    await api.client.aclose()
    await app.state.engine.dispose()
