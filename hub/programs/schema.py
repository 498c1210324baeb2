"""GraphQL fields of the programmes domain."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.lists import many
from hub.programs import queries
from hub.programs.types import Program


@strawberry.type
class ProgramQueries:
    @strawberry.field(description="The social programmes the hub knows, by code.")
    async def programs(self, info: Info[Context, Any]) -> list[Program]:
        rows = await info.context.rows(queries.list_statement())
        return await many(info, [Program.from_row(r) for r in rows])
