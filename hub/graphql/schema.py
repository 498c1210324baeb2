"""The hub's GraphQL schema: every domain's fields, the node field, and the query limits."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

# Loaders register relations and node sources when imported.
from hub.audit import loaders as _audit_loaders  # noqa: F401
from hub.audit.models import AuditEventRecord
from hub.audit.schema import AuditQueries
from hub.audit.types import AuditEvent as AuditEventType
from hub.authz.checks import AuthorizationChecks
from hub.authz.schema import AuthorizationMutations, AuthorizationQueries
from hub.contributions import loaders as _contribution_loaders  # noqa: F401
from hub.contributions.models import Contribution
from hub.contributions.mutations import ContributionMutations
from hub.contributions.schema import ContributionQueries
from hub.contributions.types import Contribution as ContributionType
from hub.db import is_unavailable
from hub.edge.ratelimit import RateLimiter
from hub.events.auditing import WebSocketOperations
from hub.events.mutations import EventMutations
from hub.events.schema import EventQueries, EventSubscriptions
from hub.federation.mutations import FederationMutations
from hub.federation.schema import FederationQueries
from hub.federation.sdl import api_sdl
from hub.federation.subgraph import Subgraph
from hub.graphql.audit import RecordAndCommit
from hub.graphql.context import Context
from hub.graphql.cost import Admission, ReportCost
from hub.graphql.documents import Documents
from hub.graphql.edge import CodedErrors, EdgeSchema
from hub.graphql.errors import is_expected
from hub.graphql.execution import HubExecutionContext
from hub.graphql.limits import document_limits
from hub.graphql.nodes import node_source, resolve_node
from hub.graphql.observe import MeasureRequests
from hub.graphql.relay import Node
from hub.graphql.scalars import SCALARS
from hub.needs import loaders as _need_loaders  # noqa: F401
from hub.needs.models import Need
from hub.needs.mutations import NeedMutations
from hub.needs.schema import NeedQueries
from hub.needs.types import Need as NeedType
from hub.organizations import loaders as _organization_loaders  # noqa: F401
from hub.organizations.models import Organization
from hub.organizations.mutations import OrganizationMutations
from hub.organizations.schema import OrganizationQueries
from hub.organizations.types import Organization as OrganizationType
from hub.programs import loaders as _program_loaders  # noqa: F401
from hub.programs.schema import ProgramQueries
from hub.regions import loaders as _region_loaders  # noqa: F401
from hub.regions.models import Region
from hub.regions.schema import RegionQueries
from hub.regions.types import Region as RegionType
from hub.registry import loaders as _registry_loaders  # noqa: F401
from hub.registry.models import Citizen, Household
from hub.registry.mutations import RegistryMutations
from hub.registry.schema import RegistryQueries
from hub.registry.types import Citizen as CitizenType
from hub.registry.types import Household as HouseholdType
from hub.settings import Settings
from hub.stats.schema import StatsQueries
from hub.tracking.mutations import TrackingMutations
from hub.tracking.schema import TrackingQueries

logger = logging.getLogger("hub.graphql")

node_source("Need", Need.__table__, NeedType.from_row, row_type="Need")
node_source("Citizen", Citizen.__table__, CitizenType.from_row, row_type="Citizen")
node_source("Household", Household.__table__, HouseholdType.from_row, row_type="Household")
node_source(
    "Organization", Organization.__table__, OrganizationType.from_row, row_type="Organization"
)
node_source(
    "Contribution", Contribution.__table__, ContributionType.from_row, row_type="Contribution"
)
node_source("Region", Region.__table__, RegionType.from_row, key_column="code", parse_key=str)
node_source(
    "AuditEvent",
    AuditEventRecord.__table__,
    AuditEventType.from_row,
    key_column="seq",
    row_type="AuditEvent",
)


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by its global id (Relay); null with a NOT_FOUND error when "
        "no such object exists or the caller may not see it (its siblings are unaffected)."
    )
    async def node(
        self,
        info: Info[Context, Any],
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A global id, as every object's `id` gives it."),
        ],
    ) -> Node | None:
        return await resolve_node(info, id)  # type: ignore[no-any-return]


@strawberry.type(
    description="Read Kota Bandung's social-welfare data: regions, households, citizens, "
    "needs, programmes, organisations and contributions."
)
class Query(
    NodeQueries,
    RegionQueries,
    NeedQueries,
    RegistryQueries,
    ProgramQueries,
    OrganizationQueries,
    ContributionQueries,
    StatsQueries,
    AuthorizationQueries,
    AuditQueries,
    TrackingQueries,
    EventQueries,
    FederationQueries,
):
    pass


@strawberry.type(
    description="Hear of changes as they happen, over graphql-transport-ws on /graphql: "
    "`connection_init`'s payload carries `Authorization: Bearer …` and `X-Purpose`. Every "
    "event passes the row rules, masking and purpose check of a query."
)
class Subscription(EventSubscriptions):
    pass


class RequestIdOnErrors(SchemaExtension):
    """Masks unexpected errors, logs them with the request id, and tells the client the id."""

    def on_operation(self) -> Any:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        context = self.execution_context.context
        request_id = getattr(context, "request_id", "-")
        processed: list[GraphQLError] = []
        for error in result.errors:
            if is_expected(error):
                processed.append(error)
                continue
            if error.original_error is not None and is_unavailable(error.original_error):
                logger.warning("database unavailable in %s (request %s)", error.path, request_id)
                processed.append(
                    GraphQLError(
                        "The hub's database is unavailable; retry in a few seconds.",
                        nodes=error.nodes,
                        path=error.path,
                        extensions={"code": "SERVICE_UNAVAILABLE", "requestId": request_id},
                    )
                )
                continue
            logger.error(
                "unexpected error in %s (request %s)",
                error.path,
                request_id,
                exc_info=error.original_error,
            )
            processed.append(
                GraphQLError(
                    "Unexpected error. Quote the request id to the hub's operators.",
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": "INTERNAL_ERROR", "requestId": request_id},
                )
            )
        result.errors = processed


@strawberry.type(
    description="Change the hub's data. A document commits whole, with its audit event, or "
    "not at all: if any root field ends in a top-level error (`errors` of the response), "
    "nothing is written, `data` is null and each field that had succeeded is reported with "
    "the code NOT_COMMITTED. Expected failures come back in a payload's `errors`, with a "
    "code: that field wrote nothing, and the document's other fields commit."
)
class Mutation(
    NeedMutations,
    ContributionMutations,
    RegistryMutations,
    OrganizationMutations,
    AuthorizationMutations,
    TrackingMutations,
    EventMutations,
    FederationMutations,
):
    pass


class HubSchema(EdgeSchema, Subgraph):
    """The edge's schema (`hub.graphql.edge`) as an Apollo Federation 2 subgraph
    (`hub.federation`), minus strawberry's logging of every client error: clients' mistakes
    (validation, bad input) are answered, not logged; `RequestIdOnErrors` logs the rest."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


def build_schema(
    settings: Settings, *, limiter: RateLimiter | None = None, documents: Documents | None = None
) -> strawberry.Schema:
    """The schema with the limits of `settings` applied before execution; `limiter`
    charges each document's cost to its client (`hub.graphql.cost`); `documents` resolves
    trusted documents' ids and APQ hashes (`hub.graphql.documents`)."""
    # The limit rules are built once: ValidationCache keys its entries by the rule classes,
    # and strawberry's limiter extensions would make new ones for every request (measured:
    # 8 ms of validation per request instead of a cache hit). Ours also cost time linear in
    # the text where strawberry's expand every fragment spread (see hub/graphql/limits.py).
    limits: list[type[ASTValidationRule]] = [
        document_limits(settings.max_query_depth, settings.max_aliases, settings.max_fields),
    ]
    if not settings.introspection:
        limits.append(NoSchemaIntrospectionCustomRule)
    schema = HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ContributionType],
        config=StrawberryConfig(scalar_map=SCALARS),
        # Plain leaf fields are read without graphql-core's per-field machinery.
        execution_context_class=HubExecutionContext,
        extensions=[
            # Outermost: it sees the answer as it leaves, after the audit's last word.
            MeasureRequests,
            lambda: AddValidationRules(limits),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            # Module-level LRU caches: a repeated document is parsed and validated once.
            ParserCache,
            ValidationCache,
            # Before AuthorizationChecks: it records the subscriptions those checks refuse.
            WebSocketOperations,
            AuthorizationChecks,
            RecordAndCommit,
            # Exits before RecordAndCommit: the audit records the coded errors.
            lambda: CodedErrors(suggestions=settings.suggestions),
            RequestIdOnErrors,
            ReportCost,
        ],
    )
    schema.request_timeout_seconds = settings.request_timeout_seconds
    schema.admission = Admission(settings, limiter)
    schema.documents = documents
    return schema


def operations_of(schema: strawberry.Schema) -> list[str]:
    """Every root field as the policy names it: `Query.needs`, `Mutation.pledgeNeed`, …"""
    graphql_schema = schema._schema
    roots = (
        graphql_schema.query_type,
        graphql_schema.mutation_type,
        graphql_schema.subscription_type,
    )
    return [f"{root.name}.{name}" for root in roots if root is not None for name in root.fields]


def subgraph_sdl() -> str:
    """The federation SDL, as `_service { sdl }` serves it: `schema/hub.subgraph.graphql`."""
    return str(build_schema(Settings())) + "\n"


def schema_sdl() -> str:
    """The API's SDL without federation's plumbing, as committed in `schema/hub.graphql`."""
    return api_sdl(subgraph_sdl())
