"""The hub's GraphQL schema: every domain's fields, the node field, and the query limits."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

# Loaders register relations and node sources when imported.
from hub.contributions import loaders as contribution_loaders
from hub.contributions.schema import ContributionQueries
from hub.contributions.types import Contribution
from hub.graphql.context import Context
from hub.graphql.errors import is_expected
from hub.graphql.nodes import node_source, resolve_node
from hub.graphql.relay import Node
from hub.graphql.scalars import SCALARS
from hub.needs import loaders as need_loaders
from hub.needs.schema import NeedQueries
from hub.organizations import loaders as organization_loaders
from hub.organizations.schema import OrganizationQueries
from hub.programs import loaders as _program_loaders  # noqa: F401
from hub.programs.schema import ProgramQueries
from hub.regions import loaders as region_loaders
from hub.regions.schema import RegionQueries
from hub.registry import loaders as registry_loaders
from hub.registry.schema import RegistryQueries
from hub.settings import Settings

logger = logging.getLogger("hub.graphql")

node_source("Need", need_loaders.needs_by_id)
node_source("Citizen", registry_loaders.citizens_by_id)
node_source("Household", registry_loaders.households_by_id)
node_source("Organization", organization_loaders.organizations_by_id)
node_source("Region", region_loaders.regions_by_code, str)
node_source("Contribution", contribution_loaders.contributions_by_id)


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id (Relay). Errors with NOT_FOUND.")
    async def node(self, info: Info[Context, Any], id: strawberry.ID) -> Node:
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
):
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


class HubSchema(strawberry.Schema):
    """Strawberry's schema, minus its logging of every client error: clients' mistakes
    (validation, bad input) are answered, not logged; `RequestIdOnErrors` logs the rest."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with the limits of `settings` applied before execution."""
    return HubSchema(
        query=Query,
        types=[Contribution],
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
            lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            RequestIdOnErrors,
        ],
    )


def schema_sdl() -> str:
    """The schema in SDL, as committed in `schema/hub.graphql`."""
    return str(build_schema(Settings())) + "\n"
