"""GraphQL mutations of connectors (Dinsos administration)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.federation import service
from hub.federation.errors import ConnectorError as ServiceError
from hub.federation.models import Connector as ConnectorRow
from hub.federation.types import Connector, ConnectorAuth, ConnectorKey
from hub.graphql.context import Context
from hub.graphql.mutations import attempt


@strawberry.enum(description="Why a connector registration was refused.")
class ConnectorErrorCode(Enum):
    BAD_NAME = strawberry.enum_value("BAD_NAME", description="The name is not a handle.")
    BAD_URL = strawberry.enum_value("BAD_URL", description="Not an http(s) URL with a host.")
    UNKNOWN_FIELD = strawberry.enum_value(
        "UNKNOWN_FIELD", description="Not one of the hub's connected fields."
    )
    FIELD_TAKEN = strawberry.enum_value(
        "FIELD_TAKEN", description="Another active connector provides that field."
    )
    BAD_TIMEOUT = strawberry.enum_value("BAD_TIMEOUT", description="Timeout out of 50-30000 ms.")
    BAD_CREDENTIALS = strawberry.enum_value(
        "BAD_CREDENTIALS", description="Credentials incomplete, or a secret instead of a reference."
    )
    UNKNOWN_ORGANIZATION = strawberry.enum_value(
        "UNKNOWN_ORGANIZATION", description="No organisation has that code."
    )


@strawberry.type(description="An expected failure of a connector registration.")
class ConnectorError:
    code: ConnectorErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(description="What was wrong and what is accepted.")


@strawberry.type(description="The result of `registerConnector`.")
class ConnectorPayload:
    connector: Connector | None = strawberry.field(
        default=None, description="The connector as registered; null on failure."
    )
    errors: list[ConnectorError] = strawberry.field(
        default_factory=list, description="Why the registration was refused; empty on success."
    )


@strawberry.input(description="An agency's subgraph to call for the connected fields it provides.")
class RegisterConnectorInput:
    name: str = strawberry.field(
        description="Handle, e.g. `dinkes`; registering it again updates it."
    )
    url: str = strawberry.field(description="The subgraph's GraphQL endpoint (http or https).")
    fields: list[str] = strawberry.field(
        description="The hub's `Citizen` fields it provides: `healthCoverage`, `schooling`."
    )
    key: ConnectorKey = strawberry.field(
        default=ConnectorKey.NIK, description="Which key its `Citizen` is resolved by."
    )
    timeout_ms: int = strawberry.field(
        default=2000, description="How long the hub waits for one call, 50-30000 ms."
    )
    auth: ConnectorAuth = strawberry.field(
        default=ConnectorAuth.NONE, description="How the hub authenticates to it."
    )
    secret_ref: str | None = strawberry.field(
        default=None,
        description="Where the hub reads the credential (bearer token or client secret): "
        "`env:NAME` or `file:/path`. Never the secret itself.",
    )
    token_url: str | None = strawberry.field(
        default=None, description="CLIENT_CREDENTIALS: the agency's token endpoint."
    )
    client_id: str | None = strawberry.field(
        default=None, description="CLIENT_CREDENTIALS: the hub's client id there."
    )
    organization: str | None = strawberry.field(
        default=None, description="Code of the agency that runs it (`DINKES`)."
    )


@strawberry.type
class FederationMutations:
    @strawberry.mutation(
        description="Register (or update, by name) an agency's subgraph as the source of "
        "connected `Citizen` fields. Dinsos only."
    )
    async def register_connector(
        self,
        info: Info[Context, Any],
        input: Annotated[RegisterConnectorInput, strawberry.argument(description="The connector.")],
    ) -> ConnectorPayload:
        async def work(session: AsyncSession) -> ConnectorRow:
            return await service.register(
                session,
                name=input.name,
                url=input.url,
                fields=input.fields,
                key_field=input.key.name.lower(),
                timeout_ms=input.timeout_ms,
                auth=input.auth.name,
                secret_ref=input.secret_ref,
                token_url=input.token_url,
                client_id=input.client_id,
                organization_code=input.organization,
            )

        result = await attempt(info.context, work, ServiceError)
        if isinstance(result, ServiceError):
            code = ConnectorErrorCode[result.code.value]
            return ConnectorPayload(errors=[ConnectorError(code=code, message=result.message)])
        return ConnectorPayload(connector=Connector.from_row(result))
