"""Each GraphQL operation counted, timed and summarised for the access log.

`MeasureRequests` is the outermost extension: it sees the answer as it leaves (after the
audit trail may have withdrawn it). It counts the operation by root fields, role and outcome,
times it, and leaves a summary on the request (`GRAPHQL_SUMMARY`) for the access log line
(`hub.edge.logs`), which holds no document, no variables and no data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension

from hub.edge.metrics import GRAPHQL_COST, GRAPHQL_LATENCY, GRAPHQL_REQUESTS
from hub.graphql.context import Context

#: Where the summary goes on the request's state.
GRAPHQL_SUMMARY = "hub_graphql"

_DENIED = frozenset({"FORBIDDEN", "PURPOSE_REQUIRED", "BAD_PURPOSE", "UNAUTHENTICATED"})
_UNAVAILABLE = frozenset(
    {"SERVICE_UNAVAILABLE", "AUDIT_UNAVAILABLE", "COMMIT_FAILED", "REQUEST_TIMEOUT"}
)
_OUTCOMES = {"RATE_LIMITED": "rate_limited", "COST_LIMIT": "cost_limit"}


def outcome_of(data: Any, errors: list[GraphQLError]) -> str:
    """ok, partial, denied, rate_limited, cost_limit, invalid, unavailable or error."""
    if not errors:
        return "ok"
    codes = {str((e.extensions or {}).get("code")) for e in errors}
    for code, outcome in _OUTCOMES.items():
        if code in codes:
            return outcome
    if "INTERNAL_ERROR" in codes:
        return "error"
    if codes & _UNAVAILABLE:
        return "unavailable"
    if codes & _DENIED:
        return "denied"
    return "partial" if data is not None else "invalid"


class MeasureRequests(SchemaExtension):
    """Metrics and the access-log summary of every operation."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        execution = self.execution_context
        context = execution.context
        result = execution.result
        errors = list(result.errors or []) if result is not None else []
        data = result.data if result is not None else None
        operation = self._root_fields()
        outcome = outcome_of(data, errors)
        roles = ",".join(context.principal.roles) if isinstance(context, Context) else ""
        GRAPHQL_REQUESTS.labels(operation=operation, role=roles or "-", outcome=outcome).inc()
        GRAPHQL_LATENCY.labels(operation=operation).observe(seconds)
        cost = getattr(context, "cost", None)
        if cost is not None and outcome not in ("cost_limit", "rate_limited"):
            GRAPHQL_COST.observe(cost.requested)
        request = getattr(context, "request", None)
        if request is not None:
            setattr(
                request.state,
                GRAPHQL_SUMMARY,
                {
                    "operation": operation,
                    "outcome": outcome,
                    "codes": sorted({str((e.extensions or {}).get("code")) for e in errors}),
                    "cost": cost.requested if cost is not None else None,
                    # The trusted document's id or APQ hash (a digest, never the text).
                    "document": getattr(context, "document_id", None),
                },
            )

    def _root_fields(self) -> str:
        execution = self.execution_context
        document = execution.graphql_document
        if document is None:
            return "-"
        try:
            operation = get_operation_ast(document, execution.operation_name)
        except Exception:  # an unparseable request has no operation to name
            return "-"
        if operation is None:
            return "-"
        names = sorted(
            {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
        )
        # A schema-bounded label: at most three root fields, then how many more.
        shown = ",".join(names[:3])
        return shown + (f",+{len(names) - 3}" if len(names) > 3 else "") if shown else "-"
