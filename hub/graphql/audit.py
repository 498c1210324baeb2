"""Every GraphQL operation leaves an audit event, durable before its response is sent.

`RecordAndCommit` wraps the whole operation (parsing and validation included). Afterwards:

- a mutation appends its event inside its own transaction and commits both together; if
  either fails, nothing was written and the client is told so (`COMMIT_FAILED`);
- a mutation document commits whole or not at all: when any of its root fields ended in a
  top-level error, every field's writes are rolled back, each field that had resolved is
  reported `NOT_COMMITTED` (`data` is null), and only the audit event is committed. An
  expected failure inside a payload's `errors` is not a top-level error: `attempt()` undid
  that field's writes in its savepoint, and the other fields commit;
- any other operation hands its event to the group-commit writer and waits until it is
  durable; if it cannot be written, the data is withheld (`AUDIT_UNAVAILABLE`): the hub
  fails closed rather than answer a read it cannot account for.

The event says who asked (client, organisation, roles, token, address), why (purpose),
what (operation, SHA-256 of the document: a trusted document's id or the APQ hash when
the request named one, variables with personal values as keyed
hashes), the decision (refusals by the policy are DENIED, with the code and permission),
which citizens' personal fields the response carried in full (and, for registry writes,
whose records it changed: `write:<field>`), its size and duration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from hub.audit.events import AuditEvent, CitizenAccessLog, merge_accesses
from hub.audit.http import AUDITED
from hub.audit.subjects import citizen_accesses
from hub.db import WRITE_TRANSACTION, utcnow
from hub.edge.turns import waiting
from hub.graphql.context import Context

logger = logging.getLogger("hub.graphql")

#: Error codes that mean the hub refused the caller (the event's decision is DENIED).
REFUSALS = frozenset(
    {
        "FORBIDDEN",
        "PURPOSE_REQUIRED",
        "BAD_PURPOSE",
        "UNAUTHENTICATED",
        "RATE_LIMITED",
        "DOCUMENT_NOT_TRUSTED",
    }
)


def _fail(execution: Any, message: str, code: str, request_id: str) -> None:
    """Replace the operation's result by an error and no data."""
    error = GraphQLError(message, extensions={"code": code, "requestId": request_id})
    result = execution.result
    if result is None:
        execution.result = ExecutionResult(data=None, errors=[error])
        return
    # Strawberry returns this very object once the operation ends: change it in place.
    result.data = None
    result.errors = [error]


def _withdraw(execution: Any, request_id: str) -> None:
    """Replace a rolled-back mutation's data by NOT_COMMITTED errors, one per root field
    that did not fail itself, after the errors that made the document fail."""
    result = execution.result
    failed = {error.path[0] for error in result.errors if error.path}
    # `data` may already be null (a failed field's type is non-null): the document says
    # which root fields there were.
    operation = get_operation_ast(execution.graphql_document, execution.operation_name)
    roots = [
        (selection.alias or selection.name).value
        for selection in (operation.selection_set.selections if operation else ())
        if isinstance(selection, FieldNode)
    ]
    resolved = [name for name in dict.fromkeys(roots) if name not in failed]
    if not all(error.path for error in result.errors):
        resolved = []  # refused before execution (validation, policy): no field ran
    result.data = None
    result.errors = [
        *result.errors,
        *(
            GraphQLError(
                f"{name} was not written: another field of this document failed, and a "
                "mutation document commits whole or not at all. Nothing was written.",
                path=[name],
                extensions={"code": "NOT_COMMITTED", "requestId": request_id},
            )
            for name in resolved
        ),
    ]


class RecordAndCommit(SchemaExtension):
    """Records the operation's audit event and commits a mutation with it, fail-closed."""

    async def on_operation(self) -> AsyncIterator[None]:
        started = time.perf_counter()
        occurred_at = utcnow()
        yield
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context):
            return
        if context.websocket is not None:
            return  # operations over a websocket: hub/events/auditing.py records them
        try:
            is_mutation = execution.operation_type == OperationType.MUTATION
        except RuntimeError:  # no document: it did not parse
            is_mutation = False
        whole = True
        if is_mutation and execution.result is not None and execution.result.errors:
            # A mutation document commits whole or not at all: one field's top-level error
            # undoes the fields before it (their results are withdrawn, NOT_COMMITTED).
            whole = False
            async with context.db_lock:
                await context.session.rollback()
            _withdraw(execution, context.request_id)
            # The withdrawn results carried no one's data to the client.
            context.personal_reads.clear()
            context.subject_reads.clear()
            context.personal_writes = CitizenAccessLog()  # nothing was written either
        try:
            event = await self._event(context, occurred_at, time.perf_counter() - started)
            if is_mutation:
                async with context.db_lock:
                    if not whole:  # a new transaction, for the event alone
                        await context.session.connection(execution_options=WRITE_TRANSACTION)
                    if event is not None and context.recorder is not None:
                        await context.recorder.record_in(context.session, event)
                    await context.session.commit()
            elif event is not None and context.recorder is not None:
                # The answer is computed: give the connection back before waiting for the
                # group commit, so that waiting requests do not hold the pool.
                async with context.db_lock:
                    await context.session.close()
                # Waiting for durability needs no CPU: another request takes the turn.
                async with waiting():
                    await context.recorder.record(event)
        except Exception:
            logger.exception("audit or commit failed (request %s)", context.request_id)
            if is_mutation:
                _fail(
                    execution,
                    "The change could not be saved; nothing was written. Retry later.",
                    "COMMIT_FAILED",
                    context.request_id,
                )
            else:
                _fail(
                    execution,
                    "The hub could not record this read in its audit trail, so it returns no "
                    "data. Retry later.",
                    "AUDIT_UNAVAILABLE",
                    context.request_id,
                )
            return
        if context.request is not None:
            # The HTTP edge records what never got this far (`AuditHttpMiddleware`).
            context.request.scope.setdefault("state", {})[AUDITED] = True
        if is_mutation and whole:
            for hook in context.after_commit:
                hook()

    async def _event(self, context: Context, occurred_at: Any, seconds: float) -> AuditEvent | None:
        if context.recorder is None:
            return None
        async with context.db_lock:
            citizens = await citizen_accesses(
                context.session, context.personal_reads, context.subject_reads
            )
        execution = self.execution_context
        result = execution.result
        errors = list(result.errors or []) if result is not None else []
        refusal = next((e for e in errors if (e.extensions or {}).get("code") in REFUSALS), None)
        reason = None
        if refusal is not None:
            extensions = refusal.extensions or {}
            reason = f"{extensions['code']}: {extensions.get('permission') or refusal.message}"
        elif context.hidden_by_rows:
            # A lookup the row rules hid answers NOT_FOUND, but it was a refused reach.
            reason = "ROW_RULE: " + ", ".join(dict.fromkeys(context.hidden_by_rows))
        elif errors:
            codes = sorted({str((e.extensions or {}).get("code", "INVALID")) for e in errors})
            reason = "errors: " + ", ".join(codes)
        # Refused before execution (syntax, validation, a limit, input hygiene, the budget):
        # no data and no error of a field. The caller got no answer: DENIED.
        early = bool(errors) and result is not None and result.data is None
        early = early and not any(e.path for e in errors)
        data = result.data if result is not None else None
        principal = context.principal
        request = context.request
        try:
            operation_type = execution.operation_type.value
        except RuntimeError:
            operation_type = None
        return context.recorder.event(
            occurred_at=occurred_at,
            decision="DENIED"
            if refusal is not None or early or context.hidden_by_rows
            else "ALLOWED",
            kind="GRAPHQL",
            reason=reason,
            request_id=context.request_id,
            client_id=principal.client_id,
            organization_code=principal.organization_code or None,
            roles=principal.roles,
            token_id=principal.token_id or None,
            source_address=request.client.host if request and request.client else None,
            purpose=context.purpose.value if context.purpose else None,
            operation_type=operation_type,
            operation_name=execution.operation_name or _root_fields(data),
            document=execution.query,
            # A trusted document's id or an APQ hash is its text's digest: the two agree
            # when the text was found; the id alone names what was asked when it was not.
            document_sha256=context.document_id,
            variables=execution.variables or None,
            # Citizens whose data the response carried, and those a mutation wrote about.
            citizens=merge_accesses(citizens + context.personal_writes.snapshot()),
            result_size=len(orjson.dumps(data)) if data is not None else 0,
            duration_us=int(seconds * 1_000_000),
        )


def _root_fields(data: dict[str, Any] | None) -> str | None:
    """For an anonymous operation, the root fields it asked for (`needs,citizen`)."""
    return ",".join(data) if data else None
