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
from strawberry.dataloader import DataLoader

from hub.audit.events import CitizenAccessLog
from hub.audit.runtime import AuditRecorder
from hub.auth.resource import Principal
from hub.auth.state import AuthState
from hub.authz.catalog import Level, Purpose
from hub.authz.policy import Access, Policy, PolicyStore
from hub.authz.rows import row_filter
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
    #: Which citizens' personal fields the response returns in full, for the audit trail.
    personal_reads: CitizenAccessLog = field(default_factory=CitizenAccessLog)
    #: Advice for the client, answered in the response's `extensions.warnings`.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: Called after a mutation's transaction commits (e.g. to drop caches in this process).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    #: The document's static cost and the caller's limit (`hub.graphql.cost`).
    cost: Any = None
    #: Root fields resolve concurrently, but one session runs one statement at a time.
    db_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: dict[BatchLoad, DataLoader[Any, Any]] = field(default_factory=dict)

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

    def record_personal_read(self, citizen_id: int, levels: dict[str, Level]) -> None:
        """Note which of a citizen's personal fields this response selects in full."""
        shown = {
            name
            for name, level in levels.items()
            if level is Level.FULL and f"Citizen.{name}" in self.selected_fields
        }
        if shown:
            self.personal_reads.add(citizen_id, *shown)

    def row_filter(self, type_name: str) -> ColumnElement[bool]:
        """The SQL condition for the records of `type_name` the caller may reach."""
        return row_filter(self.principal, self.access, type_name)

    async def rows(self, statement: Select[Any]) -> list[Row[Any]]:
        """Run `statement` on the request's session and return all rows."""
        async with self.db_lock:
            return list((await self.session.execute(statement)).all())

    async def scalar(self, statement: Select[Any]) -> Any:
        """Run `statement` on the request's session and return the first column of the first row."""
        async with self.db_lock:
            return await self.session.scalar(statement)
