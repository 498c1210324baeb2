"""What a GraphQL request may cost, and what it is charged, before it runs.

`Admission` runs inside the operation once the document is valid (so that a refusal is
audited like any answer): it computes the operation's static cost with the variables sent
(`hub.graphql.limits.operation_cost`, the walk the depth and size limits use), refuses a
document over the caller's limit (`COST_LIMIT`, naming both), then charges the cost to the
client's rate limit (`RATE_LIMITED`, with `retryAfter`; the HTTP answer is 429 with
`Retry-After`); every request is charged at least `HUB_RATE_LIMIT_MIN_COST`, a document
refused for its cost included. `ReportCost` answers `extensions.cost`: what was requested, what the
response actually carried (its values counted the same way), and the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLSchema, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext, PreExecutionError

from hub.edge.ratelimit import RateLimiter
from hub.graphql.context import Context
from hub.graphql.limits import Pages, operation_cost
from hub.settings import Settings

#: Set on the hub context: the cost the admission computed.
COST_STATE = "hub_cost"


@dataclass(frozen=True, slots=True)
class RequestCost:
    """A request's static cost and the most it was allowed."""

    requested: int
    limit: int


def actual_cost(data: Any) -> int:
    """The values a response carried, counted as the static cost counts them: one per
    field, once per list item."""
    # A loop rather than recursion: a page of 50 needs is ~1,000 values, and the
    # recursive count (a generator per object) cost a millisecond per request.
    total = 0
    pending = [data]
    pop, extend = pending.pop, pending.extend
    while pending:
        value = pop()
        if isinstance(value, dict):
            total += len(value)
            extend(value.values())
        elif isinstance(value, list):
            extend(value)
    return total


class Admission:
    """Refuses costly documents and charges the rest to the client's rate limit."""

    def __init__(self, settings: Settings, limiter: RateLimiter | None = None) -> None:
        edge = settings.edge
        self.edge = edge
        self.pages = Pages(settings.default_page_size, settings.max_page_size, edge.cost_list_size)
        self.limiter = limiter if edge.rate_limits else None

    def limit_for(self, roles: tuple[str, ...]) -> int:
        """The most one request of these roles may cost: the cost limit, and never more
        than the role's whole rate-limit window (such a request could never pass)."""
        limit = self.edge.max_cost_for(roles)
        if self.limiter is not None:
            limit = min(limit, self.limiter.graphql_limit(roles).amount)
        return limit

    async def __call__(
        self, schema: GraphQLSchema, execution: ExecutionContext
    ) -> PreExecutionError | None:
        context = execution.context
        document = execution.graphql_document
        if not isinstance(context, Context) or document is None:
            return None
        operation = get_operation_ast(document, execution.operation_name)
        if operation is None:
            return None
        cost = operation_cost(schema, document, operation, execution.variables, self.pages)
        principal = context.principal
        limit = self.limit_for(principal.roles)
        context.cost = RequestCost(cost, limit)
        if cost > limit:
            # A refused document is still a request the hub parsed and walked: it is
            # charged the least charge, so a loop of them runs out like any other flood.
            limited = await self._spend(principal.client_id, principal.roles, 0)
            if limited is not None:
                return limited
            return _refuse(
                f"This document may cost {cost}, more than the {limit} one request of your "
                "role may cost. Every field counts 1, and the fields below a list once per "
                "item it may hold (`first`, or the default page size). Ask for smaller pages "
                "(`first`) or fewer fields, or split the document.",
                "COST_LIMIT",
                cost=cost,
                limit=limit,
            )
        return await self._spend(principal.client_id, principal.roles, cost)

    async def _spend(
        self, client_id: str, roles: tuple[str, ...], cost: int
    ) -> PreExecutionError | None:
        if self.limiter is None:
            return None
        refusal = await self.limiter.spend(client_id, roles, cost)
        if refusal is None:
            return None
        return _refuse(
            f"Client {client_id} has spent its rate limit ({refusal.limit}, in cost units; "
            f"this document is charged {self.limiter.charge(cost)}). "
            f"Retry after {refusal.retry_after} s.",
            "RATE_LIMITED",
            retryAfter=refusal.retry_after,
            limit=refusal.limit,
            cost=cost,
        )


def _refuse(message: str, code: str, **details: Any) -> PreExecutionError:
    error = GraphQLError(message, extensions={"code": code, **details})
    return PreExecutionError(data=None, errors=[error])


class ReportCost(SchemaExtension):
    """`extensions.cost`: requested, actual and limit of the request."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        cost: RequestCost | None = getattr(context, "cost", None)
        settings = getattr(context, "settings", None)
        if cost is None or (settings is not None and not settings.edge.cost_in_response):
            return {}
        result = self.execution_context.result
        data = result.data if result is not None else None
        return {
            "cost": {"requested": cost.requested, "actual": actual_cost(data), "limit": cost.limit}
        }
