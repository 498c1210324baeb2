"""GraphQL mutation recording what a partner delivered (`recordContribution`)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.contributions import errors
from hub.contributions.models import Contribution as ContributionRow
from hub.contributions.service import MAX_KEY_LENGTH, RecordResult, record_contribution
from hub.contributions.types import Contribution, ContributionKind
from hub.duplicate_aid.types import DuplicateAidWarning
from hub.graphql.context import Context
from hub.graphql.lists import single
from hub.graphql.mutations import actor_of, attempt, begin_writing, may_see
from hub.graphql.relay import pk_of
from hub.graphql.scalars import Rupiah


@strawberry.enum(description="Why a contribution was refused.")
class ContributionErrorCode(Enum):
    INVALID_INPUT = strawberry.enum_value(
        "INVALID_INPUT",
        description="A value the hub cannot accept: a CASH amount of Rp0, a quantity without a "
        "unit, an evidence digest that is not 64 hexadecimal characters, a delivery date in "
        "the future, an empty key. The message says which.",
    )
    CITIZEN_NOT_FOUND = strawberry.enum_value(
        "CITIZEN_NOT_FOUND", description="No person has this id, or none that you may see."
    )
    CATEGORY_NOT_FOUND = strawberry.enum_value(
        "CATEGORY_NOT_FOUND", description="The category code is not in `needCategories`."
    )
    NEED_NOT_FOUND = strawberry.enum_value(
        "NEED_NOT_FOUND", description="No need has this id, or none that you may see."
    )
    NEED_MISMATCH = strawberry.enum_value(
        "NEED_MISMATCH",
        description="The need belongs to another person, or is in another category.",
    )
    NEED_NOT_HELD = strawberry.enum_value(
        "NEED_NOT_HELD",
        description="Your organisation holds no active pledge on the need: pledge it first "
        "(`pledgeNeed`), or record the contribution without a need.",
    )
    IDEMPOTENCY_KEY_REUSED = strawberry.enum_value(
        "IDEMPOTENCY_KEY_REUSED",
        description="Your organisation already used this key for a different contribution "
        "(the message names the fields that differ). Use a new key for a new contribution.",
    )


@strawberry.type(description="An expected failure of recording a contribution.")
class ContributionError:
    code: ContributionErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(
        description="What was wrong and what is allowed, in words a person can act on."
    )

    @classmethod
    def of(cls, error: errors.ContributionError) -> ContributionError:
        """Map a service error."""
        return cls(code=ContributionErrorCode[error.code.name], message=error.message)


@strawberry.input(description="Help delivered to a person, to record once.")
class RecordContributionInput:
    citizen: strawberry.ID = strawberry.field(description="Global id of the person helped.")
    need: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of the need it answers, which your organisation must hold a "
        "live pledge on; null for help given outside a need.",
    )
    category: str = strawberry.field(
        description="Service-domain code (`FOOD`, …; see `needCategories`); the need's own "
        "category when a need is given."
    )
    kind: ContributionKind = strawberry.field(description="Cash, goods or a service.")
    amount: Rupiah = strawberry.field(
        description="Value in whole rupiah: the money given, or what the goods or service are "
        "worth. Above 0 for CASH."
    )
    quantity: int | None = strawberry.field(
        default=None, description="How many units (goods), with `unit`; null with it."
    )
    unit: str | None = strawberry.field(
        default=None, description="Unit of `quantity`, e.g. `paket` or `kg` (20 characters)."
    )
    delivered_on: dt.date = strawberry.field(
        description="Day of delivery in Bandung (WIB); today or earlier."
    )
    evidence_sha256: str | None = strawberry.field(
        default=None,
        description="SHA-256 of the evidence your organisation keeps (a receipt, a signed "
        "delivery note, a photo), as 64 hexadecimal characters. The file stays with you.",
    )
    idempotency_key: str = strawberry.field(
        description=f"Your key for this contribution (1-{MAX_KEY_LENGTH} characters; a fresh "
        "UUID is best). Sending the same input with the same key again (a retry after a "
        "timeout) returns the first record and writes nothing new."
    )


@strawberry.type(description="The result of recording a contribution.")
class RecordContributionPayload:
    contribution: Contribution | None = strawberry.field(
        default=None, description="The contribution as recorded; null when it was refused."
    )
    created: bool | None = strawberry.field(
        default=None,
        description="True when this request recorded it, false when an earlier request with "
        "the same idempotency key had; null when refused.",
    )
    warnings: list[DuplicateAidWarning] = strawberry.field(
        default_factory=list,
        description="Earlier help the person received in the same category (programme "
        "enrolments, other organisations' contributions), as found when it was first "
        "recorded; empty when none was found.",
    )
    errors: list[ContributionError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


async def _recorded_before(session: AsyncSession, organization_id: int, key: str) -> bool:
    """True when the organisation already recorded a contribution under `key`."""
    found = await session.scalar(
        select(ContributionRow.id).where(
            ContributionRow.organization_id == organization_id,
            ContributionRow.idempotency_key == key,
        )
    )
    return found is not None


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

        async def work(session: AsyncSession) -> tuple[RecordResult, ContributionRow]:
            # A retry is answered from its first record, whatever changed since; only a new
            # record must name a person (and need) the caller may see.
            if not await _recorded_before(session, actor.organization_id, input.idempotency_key):
                if not await may_see(context, session, "Citizen", citizen_id):
                    raise errors.ContributionError(
                        errors.ContributionErrorCode.CITIZEN_NOT_FOUND,
                        f"there is no citizen {citizen_id}",
                    )
                if need_id is not None and not await may_see(context, session, "Need", need_id):
                    raise errors.ContributionError(
                        errors.ContributionErrorCode.NEED_NOT_FOUND, f"there is no need {need_id}"
                    )
            result = await record_contribution(
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
            )
            row = await session.get(ContributionRow, result.contribution_id)
            if row is None:  # the service returned an id it can no longer find
                raise RuntimeError(f"contribution {result.contribution_id} vanished")
            return result, row

        outcome = await attempt(context, work, errors.ContributionError)
        if isinstance(outcome, errors.ContributionError):
            return RecordContributionPayload(errors=[ContributionError.of(outcome)])
        result, row = outcome
        contribution = await single(
            info,
            Contribution.from_row(row),  # type: ignore[arg-type]
            at="contribution",
        )
        return RecordContributionPayload(
            contribution=contribution,
            created=result.created,
            warnings=[DuplicateAidWarning.of(w) for w in result.warnings],
        )
