"""A GraphQL client over real HTTP (ASGI) to a hub on a seeded database, one token per role."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from starlette.applications import Starlette

from hub.app import create_app
from hub.auth.keys import MemoryKeyStore
from hub.db import statement_request_id
from hub.edge.settings import EdgeSettings
from hub.settings import Settings
from tests.support.identities import TestIdentity, bearer, load_identities


class GraphQLCaller:
    """POSTs GraphQL documents with the caller's `headers()`; `Api` and `Partner` are ones."""

    client: httpx.AsyncClient

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    async def post(
        self, document: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        """POST a document as this client; return the raw response."""
        return await self.client.post(
            "/graphql",
            json={"query": document, "variables": variables or {}},
            headers={**self.headers(), **headers},
        )

    async def query(
        self, document: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        """POST a document; return the decoded body, asserting HTTP 200."""
        response = await self.post(document, variables, **headers)
        # Without a token, asking for more than trackRequest is RFC 6750's 401.
        assert response.status_code == 200 or (
            self.who == "anonymous" and response.status_code == 401
        ), response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a document that must succeed; return its `data`."""
        body = await self.query(document, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@dataclass
class Api(GraphQLCaller):
    """Posts GraphQL documents as one test client and counts the SQL statements they ran."""

    client: httpx.AsyncClient
    app: Starlette
    identities: dict[str, TestIdentity]
    who: str = "dinsos_admin"
    purpose: str | None = "SERVICE_DELIVERY"
    #: (request id or None for the process's own reads, statement) of every statement run.
    statements: list[tuple[str | None, str]] = field(default_factory=list)

    def as_(self, who: str, *, purpose: str | None = "SERVICE_DELIVERY") -> Api:
        """The same hub, called as another test client (`dinsos_admin`, `lks_partner`, …)."""
        return replace(self, who=who, purpose=purpose)

    @property
    def identity(self) -> TestIdentity:
        return self.identities[self.who]

    def headers(self) -> dict[str, str]:
        """Authorization (a fresh token) and, when set, the purpose of the read.

        `anonymous` sends no token at all (the public side: `trackRequest`).
        """
        headers = (
            {}
            if self.who == "anonymous"
            else {"authorization": bearer(self.app.state.auth, self.identity)}
        )
        if self.purpose is not None:
            headers["x-purpose"] = self.purpose
        return headers

    async def count_statements(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        warm: dict[str, Any] | None = None,
    ) -> int:
        """How many SQL statements the request's own session ran answering `document`.

        A first request (with `warm` as its variables, else `variables`) warms one-off
        reads; a mutation with an idempotency key needs another key there, or the counted
        request is a replay.

        Only statements tagged with this request's id count: the process's background
        reads (the policy version check, the client standing cache) run on other sessions
        whenever they fall due, and so does the audit trail's group commit (counted apart,
        in `audit_statements`).
        """
        await self.data(document, variables if warm is None else warm)
        self.statements.clear()
        request_id = f"count-{uuid.uuid4().hex}"
        response = await self.post(document, variables, **{"x-request-id": request_id})
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, response.text
        return len([s for rid, s in self.statements if rid == request_id and "audit_" not in s])

    @property
    def audit_statements(self) -> int:
        """How many of the last document's statements wrote its audit event."""
        return len([s for _, s in self.statements if "audit_" in s])


async def make_api(database_url: str, **overrides: Any) -> Api:
    """An `Api` on a new app instance for `database_url`, with in-memory signing keys;
    `overrides` replace settings (`request_timeout_seconds=0.001`, …)."""
    # Rate limits and `extensions.cost` are off unless a test asks for them (tests/edge):
    # one shared hub serves the whole session as the same few clients, and tests compare
    # whole response bodies.
    overrides.setdefault("edge", EdgeSettings(rate_limits=False, cost_in_response=False))
    # Development keys (the audit trail's) go to a throw-away folder, not ./var.
    settings = Settings(
        database_url=database_url, var_dir=Path(tempfile.mkdtemp(prefix="hub-")), **overrides
    )
    app = create_app(settings, key_store=MemoryKeyStore())
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
    )
    api = Api(client=client, app=app, identities=await load_identities(database_url))

    def record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        api.statements.append((statement_request_id(conn), statement))

    for engine in (app.state.engine, app.state.audit_engine):
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    return api


async def close_api(api: Api) -> None:
    """Close the client and the app's engines."""
    await api.client.aclose()
    if api.app.state.recorder is not None:
        await api.app.state.recorder.close()
    await api.app.state.audit_engine.dispose()
    await api.app.state.engine.dispose()
    if api.app.state.limiter is not None:
        await api.app.state.limiter.close()
