"""How a mutation runs: inside a savepoint, committed with the request, or not at all.

A mutation resolver does its work through `attempt()`: the work runs in a savepoint, so an
expected failure (a domain error with a code) undoes exactly that mutation's writes and
becomes the payload's error, while the request's transaction stays usable. After the whole
operation, `hub.graphql.audit.RecordAndCommit` commits once, together with the audit
event, and only then does the response leave.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.actor import Actor
from hub.authz.rows import TABLES
from hub.db import WRITE_TRANSACTION
from hub.graphql.context import Context

logger = logging.getLogger("hub.graphql")

T = TypeVar("T")
E = TypeVar("E", bound=Exception)


async def begin_writing(context: Context) -> None:
    """Begin the request's transaction as a writer, before its first statement.

    On SQLite a transaction that read first cannot take the write lock once another writer
    has committed, and fails instead of waiting; BEGIN IMMEDIATE queues it up front (no
    effect on PostgreSQL). After the first statement the transaction is what it is.
    """
    async with context.db_lock:
        if not context.session.in_transaction():
            await context.session.connection(execution_options=WRITE_TRANSACTION)


async def attempt(
    context: Context,
    work: Callable[[AsyncSession], Awaitable[T]],
    expected: type[E] | tuple[type[E], ...],
) -> T | E:
    """Run `work` in a savepoint; return its result, or the expected error it raised."""
    await begin_writing(context)
    async with context.db_lock:
        try:
            async with context.session.begin_nested():
                return await work(context.session)
        except expected as error:
            return error


def actor_of(context: Context) -> Actor:
    """The organisation and client on whose behalf the request acts."""
    principal = context.principal
    return Actor(organization_id=principal.organization_id, client_id=principal.client_pk)


async def may_see(
    context: Context,
    session: AsyncSession,
    row_type: str,
    pk: int,
    *,
    reach: ColumnElement[bool] | None = None,
) -> bool:
    """True when the record exists and the caller's row rules (or `reach`) reach it."""
    table = TABLES[row_type]
    condition = context.row_filter(row_type) if reach is None else reach
    found = await session.scalar(select(table.c.id).where(table.c.id == pk, condition))
    return found is not None
