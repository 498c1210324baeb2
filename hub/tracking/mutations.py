"""GraphQL mutation of tracking: Dinsos reissues a lost code."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.mutations import attempt
from hub.graphql.relay import pk_of
from hub.tracking import errors, service


@strawberry.enum(description="Why a tracking operation was refused.")
class TrackingErrorCode(Enum):
    NEED_NOT_FOUND = strawberry.enum_value(
        "NEED_NOT_FOUND", description="No need has this id, or none that you may see."
    )


@strawberry.type(description="An expected failure of a tracking operation.")
class TrackingError:
    code: TrackingErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(description="What was wrong.")


@strawberry.type(description="The result of reissuing a tracking code.")
class TrackingCodePayload:
    tracking_code: str | None = strawberry.field(
        default=None,
        description="The new code (`YJ-7KQ4-92MX`) to give the citizen; the old one no longer "
        "works. Shown only here and only once: the hub keeps a digest of it.",
    )
    errors: list[TrackingError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.type
class TrackingMutations:
    @strawberry.mutation(
        description="Give a need a new tracking code, when the citizen lost theirs or it was "
        "disclosed. Dinsos administrators."
    )
    async def reissue_tracking_code(
        self,
        info: Info[Context, Any],
        need_id: Annotated[strawberry.ID, strawberry.argument(description="The need's global id.")],
    ) -> TrackingCodePayload:
        context = info.context
        pk = pk_of(need_id, "Need")
        now = dt.datetime.now(dt.UTC)

        async def work(session: AsyncSession) -> str:
            return await service.reissue_code(
                session,
                need_id=pk,
                organization_id=context.principal.organization_id,
                now=now,
                within=context.row_filter("Need"),
            )

        outcome = await attempt(context, work, errors.TrackingError)
        if isinstance(outcome, errors.TrackingError):
            return TrackingCodePayload(
                errors=[
                    TrackingError(
                        code=TrackingErrorCode[outcome.code.name], message=outcome.message
                    )
                ]
            )
        return TrackingCodePayload(tracking_code=outcome)
