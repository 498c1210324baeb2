"""GraphQL mutations of connectors (Dinsos administration)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.federation import service
from hub.federation.errors import ConnectorError as ServiceError
from hub.federation.models import Connector as ConnectorRow
from hub.federation.types import (
    Connector,
    ConnectorError,
    ConnectorPayload,
    RegisterConnectorInput,
)
from hub.graphql.context import Context
from hub.graphql.mutations import attempt


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
            return ConnectorPayload(
                errors=[ConnectorError(code=result.code, message=result.message)]
            )
        return ConnectorPayload(connector=Connector.from_row(result))
