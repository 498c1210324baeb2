"""How a mutation runs: inside a savepoint, committed with the request, or not at all.

A mutation resolver does its work through `attempt()`: the work runs in a savepoint, so an
expected failure (a domain error with a code) undoes exactly that mutation's writes and
becomes the payload's error, while the request's transaction stays usable. After the whole
operation, `CommitMutations` commits once (with the audit event, when the trail records
it), and only then does the response leave; if the commit fails, the client is told so
and nothing was written.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from hub.graphql.context import Context

logger = logging.getLogger("hub.graphql")

T = TypeVar("T")
E = TypeVar("E", bound=Exception)


async def attempt(
    context: Context,
    work: Callable[[AsyncSession], Awaitable[T]],
    expected: type[E] | tuple[type[E], ...],
) -> T | E:
    """Run `work` in a savepoint; return its result, or the expected error it raised."""
    async with context.db_lock:
        try:
            async with context.session.begin_nested():
                return await work(context.session)
        except expected as error:
            return error


class CommitMutations(SchemaExtension):
    """Commits a mutation's transaction before its response is sent."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or execution.operation_type != OperationType.MUTATION:
            return
        try:
            async with context.db_lock:
                await context.session.commit()
        except Exception:
            logger.exception("commit failed (request %s)", context.request_id)
            execution.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "The change could not be saved; nothing was written. Retry later.",
                        extensions={"code": "COMMIT_FAILED", "requestId": context.request_id},
                    )
                ],
            )
            return
        for hook in context.after_commit:
            hook()
