"""The per-request GraphQL context: settings, the request's session, its dataloaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from hub.audit.events import CitizenAccessLog
from hub.audit.runtime import AuditRecorder
from hub.auth.resource import Principal
from hub.auth.state import AuthState
from hub.authz.catalog import Level, Purpose
from hub.authz.policy import Access, Policy, PolicyStore
from hub.authz.rows import row_filter
from hub.events.fanout import Fanout
from hub.organizations.hashing import SecretHasher
from hub.settings import Settings

#: A batch function: the request's context and many keys in, one result per key out.
BatchLoad = Callable[["Context", Sequence[Any]], Awaitable[Sequence[Any]]]


@dataclass
class Context:
    """What every resolver may use; one per request, never shared."""

    settings: Settings
    session: AsyncSession
    request_id: str
    #: Who is calling; the bearer middleware guarantees one on every GraphQL request.
    principal: Principal
    #: The policy in force for this request, and what the caller's roles may do under it.
    policy: Policy
    access: Access
    #: Why personal data is read (X-Purpose), checked before execution.
    purpose: Purpose | None = None
    request: Request | None = None
    #: The identity layer of this process (secret hashing, client status cache).
    auth: AuthState | None = None
    #: Where this process keeps its current policy (to reload it after a change).
    policies: PolicyStore | None = None
    #: The audit trail of this process (None only when switched off for a benchmark).
    recorder: AuditRecorder | None = None
    #: `Type.field` pairs the operation's document selects (filled before execution).
    selected_fields: frozenset[str] = frozenset()
    #: Type -> object id -> personal fields (`Household.address`) returned in full, for the
    #: audit trail; `hub.audit.subjects` turns them into the citizens they are about.
    personal_reads: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    #: Row types of lookups that found a record the row rules hid (audited as DENIED).
    hidden_by_rows: list[str] = field(default_factory=list)
    #: Citizens and pseudo-fields a response touched outside the field layer (a tracking
    #: lookup shows a need's status: `Need.tracking`).
    subject_reads: dict[int, set[str]] = field(default_factory=dict)
    #: The response under construction (headers such as Retry-After go here).
    response: Any = None
    #: The per-address limit on tracking-code lookups (`hub.tracking.limits`).
    tracking_limit: Any = None
    #: Advice for the client, answered in the response's `extensions.warnings`.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: Whose records a mutation wrote, and what (`write:fullName`, `write:enrolment`).
    personal_writes: CitizenAccessLog = field(default_factory=CitizenAccessLog)
    #: Called after a mutation's transaction commits (e.g. to drop caches in this process).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    #: Subscriptions: the websocket, its `connection_init` payload (token, X-Purpose), and
    #: this process's fan-out of events (None over HTTP).
    websocket: WebSocket | None = None
    connection_params: dict[str, Any] | None = None
    fanout: Fanout | None = None
    #: The document's static cost and the caller's limit (`hub.graphql.cost`).
    cost: Any = None
    #: The trusted document's id or the APQ hash the request named (`hub.graphql.documents`).
    document_id: str | None = None
    #: Root fields resolve concurrently, but one session runs one statement at a time.
    db_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: dict[BatchLoad, DataLoader[Any, Any]] = field(default_factory=dict)
    #: What other layers keep for the length of the request (federation's entity batches).
    memo: dict[Hashable, Any] = field(default_factory=dict)

    def loader(self, load: BatchLoad) -> DataLoader[Hashable, Any]:
        """The request's dataloader for the batch function `load`, created on first use."""
        existing = self._loaders.get(load)
        if existing is None:

            async def batch(keys: list[Any]) -> Sequence[Any]:
                async with self.db_lock:
                    return await load(self, keys)

            existing = self._loaders[load] = DataLoader(load_fn=batch)
        return existing

    @property
    def secret_hasher(self) -> SecretHasher | None:
        """The process's secret hasher (None outside a served app: services make one)."""
        return self.auth.hasher if self.auth else None

    def invalidate_client_statuses(self) -> None:
        """Make this process re-read client and organisation standing on the next token."""
        if self.auth is not None:
            self.auth.statuses.invalidate()

    def reload_policy(self) -> None:
        """Make this process load the policy again on the next request."""
        if self.policies is not None:
            self.policies.invalidate()

    def record_personal_read(self, type_name: str, pk: int, levels: dict[str, Level]) -> None:
        """Note which personal fields of one object this response selects in full."""
        shown = {
            qualified
            for name, level in levels.items()
            if level is Level.FULL and (qualified := f"{type_name}.{name}") in self.selected_fields
        }
        if shown:
            self.personal_reads.setdefault(type_name, {}).setdefault(pk, set()).update(shown)

    def record_personal_write(self, citizen_id: int, *fields: str) -> None:
        """Note that this request wrote `fields` of a citizen's record (for the audit trail)."""
        self.personal_writes.add(citizen_id, *(f"write:{f}" for f in fields))

    def row_filter(self, type_name: str) -> ColumnElement[bool]:
        """The SQL condition for the records of `type_name` the caller may reach."""
        return row_filter(self.principal, self.access, type_name)

    async def note_if_hidden(self, type_name: str, exists: Select[Any]) -> None:
        """After a lookup under the row rules found nothing: if `exists` finds the record,
        the rules hid it. The client is still told NOT_FOUND; the trail says DENIED."""
        if await self.scalar(exists.limit(1)) is not None:
            self.hidden_by_rows.append(type_name)

    async def rows(self, statement: Select[Any]) -> list[Row[Any]]:
        """Run `statement` on the request's session and return all rows."""
        async with self.db_lock:
            return list((await self.session.execute(statement)).all())

    async def scalar(self, statement: Select[Any]) -> Any:
        """Run `statement` on the request's session and return the first column of the first row."""
        async with self.db_lock:
            return await self.session.scalar(statement)
