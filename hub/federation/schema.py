"""The hub's side of federation: which types a gateway may reference, and the connectors."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from hub.federation import service
from hub.federation.entities import entity
from hub.federation.types import Connector
from hub.graphql.context import Context
from hub.needs.types import Need
from hub.organizations.types import Organization
from hub.regions.types import Region
from hub.registry.types import Citizen, Household

# Keyed by their global id, like node(id); a citizen also by NIK, the key agencies hold.
entity(Citizen, keys=("id", "nik"))
entity(Household)
entity(Need)
entity(Organization)
entity(Region)


@strawberry.type
class FederationQueries:
    @strawberry.field(
        description="The registered connectors, by name (at most 200: one per agency "
        "service). Dinsos only."
    )
    async def connectors(self, info: Info[Context, Any]) -> list[Connector]:
        context = info.context
        async with context.db_lock:
            rows = await service.get_all(context.session)
        return [Connector.from_row(row) for row in rows]
