"""GraphQL mutation recording what a partner delivered (`recordContribution`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.contributions import errors
from hub.contributions.service import RecordResult, record_contribution
from hub.contributions.types import (
    Contribution,
    ContributionError,
    RecordContributionInput,
    RecordContributionPayload,
)
from hub.duplicate_aid.types import DuplicateAidWarning
from hub.graphql.context import Context
from hub.graphql.lists import single
from hub.graphql.mutations import actor_of, attempt, begin_writing, may_see
from hub.graphql.relay import pk_of
from hub.ids import citizen_ref, need_ref
from hub.needs.loaders import categories_by_code


@strawberry.type
class ContributionMutations:
    @strawberry.mutation(
        description="Record help delivered to a person, once per idempotency key: a retry "
        "returns the first record, however many retries race. Against a need only while "
        "your organisation holds its pledge; recording does not close the need (`closeNeed` "
        "does). Foundations (LKS), agencies (OPD) and Dinsos."
    )
    async def record_contribution(
        self,
        info: Info[Context, Any],
        input: Annotated[
            RecordContributionInput, strawberry.argument(description="What was delivered.")
        ],
    ) -> RecordContributionPayload:
        context = info.context
        actor = actor_of(context)
        citizen_id = pk_of(input.citizen, "Citizen")
        need_id = pk_of(input.need, "Need") if input.need is not None else None
        now = dt.datetime.now(dt.UTC)
        await begin_writing(context)

        async def category_exists(code: str) -> bool:
            # The taxonomy is reference data: the process's copy answers, not a statement.
            (category,) = await categories_by_code(context, [code])
            return category is not None

        async def work(session: AsyncSession) -> RecordResult:
            # A retry is answered from its first record, whatever changed since; only a new
            # record must name a person (and need) the caller may see.
            async def may_record() -> None:
                if not await may_see(context, session, "Citizen", citizen_id):
                    raise errors.ContributionError(
                        errors.ContributionErrorCode.CITIZEN_NOT_FOUND,
                        f"there is no citizen {citizen_ref(citizen_id)}",
                    )
                if need_id is not None and not await may_see(context, session, "Need", need_id):
                    raise errors.ContributionError(
                        errors.ContributionErrorCode.NEED_NOT_FOUND,
                        f"there is no need {need_ref(need_id)}",
                    )

            return await record_contribution(
                session,
                actor=actor,
                citizen_id=citizen_id,
                need_id=need_id,
                category_code=input.category,
                kind=input.kind.name,
                amount_rupiah=input.amount,
                quantity=input.quantity,
                unit=input.unit,
                delivered_on=input.delivered_on,
                evidence_sha256=input.evidence_sha256,
                idempotency_key=input.idempotency_key,
                now=now,
                may_record=may_record,
                category_exists=category_exists,
            )

        outcome = await attempt(context, work, errors.ContributionError)
        if isinstance(outcome, errors.ContributionError):
            return RecordContributionPayload(errors=[ContributionError.of(outcome)])
        result = outcome
        contribution = await single(info, Contribution.from_row(result.row), at="contribution")
        return RecordContributionPayload(
            contribution=contribution,
            created=result.created,
            warnings=[DuplicateAidWarning.of(w) for w in result.warnings],
        )
