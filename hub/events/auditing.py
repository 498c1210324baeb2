"""The audit trail of websocket connections: refused connections, subscriptions, events.

Over HTTP `hub.graphql.audit.RecordAndCommit` records each operation when it ends; a
subscription may last for hours, so here it is recorded as it starts (allowed or refused,
durable before its first event), and every event delivered with personal fields in full is
recorded again with the citizens it showed, before it is sent (fail-closed, like a read).
Queries and mutations are refused over the websocket: they have POST /graphql.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from hub.audit.events import AuditEvent, CitizenAccess, Decision
from hub.db import utcnow
from hub.graphql.audit import REFUSALS
from hub.graphql.context import Context
from hub.graphql.edge import refused_code

logger = logging.getLogger("hub.events")


def connection_event(
    context: Context,
    *,
    decision: Decision,
    reason: str | None = None,
    operation_name: str | None = None,
    document: str | None = None,
    variables: Any = None,
    citizens: tuple[CitizenAccess, ...] = (),
    seconds: float = 0.0,
) -> AuditEvent | None:
    """An audit event of the websocket's principal (None when the trail is off)."""
    recorder = context.recorder
    if recorder is None:
        return None
    principal = context.principal
    websocket = context.websocket
    return recorder.event(
        occurred_at=utcnow(),
        decision=decision,
        kind="GRAPHQL",
        reason=reason,
        request_id=context.request_id,
        client_id=principal.client_id or None,
        organization_code=principal.organization_code or None,
        roles=principal.roles,
        token_id=principal.token_id or None,
        source_address=websocket.client.host if websocket and websocket.client else None,
        purpose=context.purpose.value if context.purpose else None,
        operation_type="subscription",
        operation_name=operation_name,
        document=document,
        variables=variables,
        citizens=citizens,
        duration_us=int(seconds * 1_000_000),
    )


async def record(event: AuditEvent | None, context: Context) -> None:
    """Make `event` durable; raise when it cannot be written."""
    if event is not None and context.recorder is not None:
        await context.recorder.record(event)


def _own_code(error: GraphQLError) -> str:
    return str((error.extensions or {}).get("code", "INVALID"))


def _reason(
    errors: list[GraphQLError], code: Callable[[GraphQLError], str] = _own_code
) -> tuple[Decision, str | None]:
    refusal = next((e for e in errors if code(e) in REFUSALS), None)
    if refusal is not None:
        extensions = refusal.extensions or {}
        return "DENIED", f"{code(refusal)}: {extensions.get('permission') or refusal.message}"
    if errors:
        return "ALLOWED", "errors: " + ", ".join(sorted({code(e) for e in errors}))
    return "ALLOWED", None


class WebSocketOperations(SchemaExtension):
    """Over a websocket: subscriptions only, each recorded in the audit trail as it starts."""

    _recorded = False
    _started = 0.0

    async def on_operation(self) -> AsyncIterator[None]:
        started = self._started = time.perf_counter()
        yield
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or context.websocket is None or self._recorded:
            return
        # It never reached execution: the document did not parse or validate.
        result = execution.result
        decision, reason = _reason(list(result.errors or []) if result else [])
        await self._record(context, decision, reason, time.perf_counter() - started)

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        # A document refused before it runs (it does not parse or validate, or is not a
        # trusted one) is the stream's one result, and the transport stops reading the
        # stream once it has it: `on_operation` never gets past its yield. Recorded here,
        # before the refusal is sent.
        context = self.execution_context.context
        if (
            isinstance(result, PreExecutionError)
            and isinstance(context, Context)
            and context.websocket is not None
            and not self._recorded
        ):
            # Coded as the client will get them (CodedErrors codes them after this hook).
            decision, reason = _reason(list(result.errors or []), code=refused_code)
            await self._record(context, decision, reason, time.perf_counter() - self._started)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or context.websocket is None:
            yield
            return
        started = time.perf_counter()
        if execution.operation_type is not OperationType.SUBSCRIPTION:
            error = GraphQLError(
                "Over the websocket the hub runs subscriptions only; send queries and "
                "mutations with POST /graphql.",
                extensions={"code": "BAD_REQUEST"},
            )
            execution.result = ExecutionResult(data=None, errors=[error])
            await self._record(context, "ALLOWED", "errors: BAD_REQUEST", 0.0)
            yield
            return
        try:
            yield
        except GraphQLError as error:
            decision, reason = _reason([error])
            await self._record(context, decision, reason, time.perf_counter() - started)
            raise
        try:
            await record(self._event(context, "ALLOWED", None, 0.0), context)
        except Exception:
            logger.exception("audit failed for a subscription (request %s)", context.request_id)
            raise GraphQLError(
                "The hub could not record this subscription in its audit trail, so it does "
                "not start it. Retry later.",
                extensions={"code": "AUDIT_UNAVAILABLE", "requestId": context.request_id},
            ) from None
        finally:
            self._recorded = True

    def _event(
        self, context: Context, decision: Decision, reason: str | None, seconds: float
    ) -> AuditEvent | None:
        execution = self.execution_context
        return connection_event(
            context,
            decision=decision,
            reason=reason,
            operation_name=execution.operation_name,
            document=execution.query,
            variables=execution.variables or None,
            seconds=seconds,
        )

    async def _record(
        self, context: Context, decision: Decision, reason: str | None, seconds: float
    ) -> None:
        self._recorded = True
        try:
            await record(self._event(context, decision, reason, seconds), context)
        except Exception:  # the operation is refused or failed anyway: nothing is shown
            logger.exception("audit failed for a websocket operation (%s)", context.request_id)
