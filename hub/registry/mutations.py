"""GraphQL mutations through which agencies push households, people and enrolments.

Each item runs in its own savepoint (`attempt`): an item refused with a coded error undoes
only its own writes, and the request commits the rest together with its audit event. The
audit event names every citizen whose record the request wrote (`write:<field>`). Which roles
may run these is the policy's business (`policies/policy.csv`), not this module's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar, cast

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.actor import Actor
from hub.authz.masking import apply_field_access
from hub.graphql.context import Context
from hub.graphql.mutations import actor_of, attempt, begin_writing
from hub.graphql.prefetch import prefetch_tree, selection_tree
from hub.programs.types import Enrolment
from hub.registry import service
from hub.registry.errors import RegistryError as CommandError
from hub.registry.models import Citizen as CitizenRow
from hub.registry.types import (
    Citizen,
    CitizenInput,
    CitizenPayload,
    CitizensPayload,
    EndEnrollmentInput,
    EnrollInput,
    EnrolmentPayload,
    EnrolmentsPayload,
    Household,
    HouseholdInput,
    HouseholdPayload,
    HouseholdsPayload,
    RegistryError,
    batch_error,
)

T = TypeVar("T")
Work = Callable[[AsyncSession, Actor, dt.datetime], Awaitable[service.Written]]

_BATCH = (
    " Good items are committed even when others fail: each item is written in a savepoint "
    "of its own, and its result (or its coded errors) is `items[i]` for `input[i]`. At most "
    "500 items."
)


async def _run(context: Context, work: Work) -> service.Written | CommandError:
    """Run one item's write in its own savepoint."""
    actor = actor_of(context)
    now = dt.datetime.now(dt.UTC)

    async def item(session: AsyncSession) -> service.Written:
        return await work(session, actor, now)

    return await attempt(context, item, CommandError)


async def _shown(info: Info[Context, Any], objects: Sequence[Any], *path: str) -> None:
    """Prefetch what the selection under `path` asks for, and mask what it returns."""
    tree = selection_tree(info)
    for name in path:
        tree = tree.get(name, {})
    collected: list[Any] = []
    await prefetch_tree(info.context, [o for o in objects if o is not None], tree, collected)
    await apply_field_access(info.context, collected)


def _household_work(item: HouseholdInput) -> Work:
    fields = service.HouseholdFields(
        kk_number=item.kk_number.strip(),
        dtks_id=item.dtks_id.strip() if item.dtks_id else None,
        address=item.address,
        rt=item.rt,
        rw=item.rw,
        kelurahan_code=item.kelurahan.strip(),
        welfare_decile=item.welfare_decile,
        expected_version=item.expected_version,
    )

    async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> service.Written:
        return await service.upsert_household(session, actor=actor, fields=fields, now=now)

    return work


def _citizen_work(item: CitizenInput) -> Work:
    key = item.household
    fields = service.CitizenFields(
        nik=item.nik.strip(),
        full_name=item.full_name,
        birth_date=item.birth_date,
        sex=item.sex.name if item.sex else None,
        relationship=item.relationship.name if item.relationship else None,
        household_dtks_id=key.dtks_id if key else None,
        household_kk_number=key.kk_number if key else None,
        has_disability=item.has_disability,
        has_chronic_illness=item.has_chronic_illness,
        education=item.education,
        occupation=item.occupation,
        phone=item.phone,
        expected_version=item.expected_version,
    )

    async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> service.Written:
        return await service.upsert_citizen(session, actor=actor, fields=fields, now=now)

    return work


def _enroll_work(item: EnrollInput) -> Work:
    async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> service.Written:
        return await service.enroll(
            session,
            actor=actor,
            nik=item.nik.strip(),
            program_code=item.program.strip().upper(),
            started_on=item.started_on,
            benefit_rupiah=item.benefit,
            now=now,
        )

    return work


def _end_work(item: EndEnrollmentInput) -> Work:
    async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> service.Written:
        return await service.end_enrollment(
            session,
            actor=actor,
            nik=item.nik.strip(),
            program_code=item.program.strip().upper(),
            ended_on=item.ended_on,
            now=now,
        )

    return work


async def _households(
    info: Info[Context, Any], items: Sequence[HouseholdInput]
) -> list[HouseholdPayload]:
    context = info.context
    await begin_writing(context)
    payloads: list[HouseholdPayload] = []
    for item in items:
        outcome = await _run(context, _household_work(item))
        if isinstance(outcome, CommandError):
            payloads.append(HouseholdPayload(errors=[RegistryError.of(outcome)]))
            continue
        row = outcome.record
        if outcome.changed:
            async with context.db_lock:
                members = await context.session.scalars(
                    select(CitizenRow.id).where(CitizenRow.household_id == row.id)
                )
                for citizen_id in members:
                    context.record_personal_write(citizen_id, "household")
        payloads.append(
            HouseholdPayload(
                household=Household.from_row(cast(Any, row)),
                created=outcome.created,
                changed_fields=list(outcome.changed_fields),
            )
        )
    return payloads


async def _citizens(
    info: Info[Context, Any], items: Sequence[CitizenInput]
) -> list[CitizenPayload]:
    context = info.context
    await begin_writing(context)
    payloads: list[CitizenPayload] = []
    for item in items:
        outcome = await _run(context, _citizen_work(item))
        if isinstance(outcome, CommandError):
            payloads.append(CitizenPayload(errors=[RegistryError.of(outcome)]))
            continue
        row = outcome.record
        if outcome.changed:
            context.record_personal_write(row.id, *(outcome.changed_fields or ("created",)))
        payloads.append(
            CitizenPayload(
                citizen=Citizen.from_row(cast(Any, row)),
                created=outcome.created,
                changed_fields=list(outcome.changed_fields),
            )
        )
    return payloads


async def _enrolments(info: Info[Context, Any], works: Sequence[Work]) -> list[EnrolmentPayload]:
    context = info.context
    await begin_writing(context)
    payloads: list[EnrolmentPayload] = []
    for work in works:
        outcome = await _run(context, work)
        if isinstance(outcome, CommandError):
            payloads.append(EnrolmentPayload(errors=[RegistryError.of(outcome)]))
            continue
        row = outcome.record
        if outcome.changed:
            context.record_personal_write(row.citizen_id, "enrolment")
        payloads.append(
            EnrolmentPayload(enrolment=Enrolment.from_row(cast(Any, row)), created=outcome.created)
        )
    return payloads


def _tally(payload: Callable[..., T], items: Sequence[Any]) -> T:
    """A batch payload: every item's result, and how many succeeded and failed."""
    failed = sum(1 for item in items if item.errors)
    return payload(items=items, succeeded=len(items) - failed, failed=failed)


Households = Annotated[
    list[HouseholdInput], strawberry.argument(description="The households, at most 500.")
]
Citizens = Annotated[
    list[CitizenInput], strawberry.argument(description="The people, at most 500.")
]
Enrolls = Annotated[
    list[EnrollInput], strawberry.argument(description="The enrolments, at most 500.")
]
Ends = Annotated[
    list[EndEnrollmentInput], strawberry.argument(description="The enrolments to end, at most 500.")
]


@strawberry.type
class RegistryMutations:
    @strawberry.mutation(
        description="Create or update a household by DTKS id or KK number, recording your "
        "organisation and client as its source. An update needs `expectedVersion`. Agencies "
        "(OPD) and Dinsos."
    )
    async def upsert_household(
        self,
        info: Info[Context, Any],
        input: Annotated[HouseholdInput, strawberry.argument(description="The household.")],
    ) -> HouseholdPayload:
        (payload,) = await _households(info, [input])
        await _shown(info, [payload.household], "household")
        return payload

    @strawberry.mutation(description="Create or update many households." + _BATCH)
    async def upsert_households(
        self, info: Info[Context, Any], input: Households
    ) -> HouseholdsPayload:
        refused = batch_error(len(input))
        if refused is not None:
            return HouseholdsPayload(errors=[refused])
        items = await _households(info, input)
        await _shown(info, [p.household for p in items], "items", "household")
        return _tally(HouseholdsPayload, items)

    @strawberry.mutation(
        description="Create or update a person by NIK, recording your organisation and client "
        "as the source. A different household is a move (the old one stays in the person's "
        "history). An update needs `expectedVersion`. Agencies (OPD) and Dinsos."
    )
    async def upsert_citizen(
        self,
        info: Info[Context, Any],
        input: Annotated[CitizenInput, strawberry.argument(description="The person.")],
    ) -> CitizenPayload:
        (payload,) = await _citizens(info, [input])
        await _shown(info, [payload.citizen], "citizen")
        return payload

    @strawberry.mutation(description="Create or update many people." + _BATCH)
    async def upsert_citizens(self, info: Info[Context, Any], input: Citizens) -> CitizensPayload:
        refused = batch_error(len(input))
        if refused is not None:
            return CitizensPayload(errors=[refused])
        items = await _citizens(info, input)
        await _shown(info, [p.citizen for p in items], "items", "citizen")
        return _tally(CitizensPayload, items)

    @strawberry.mutation(
        description="Enrol a person in a programme with the benefit they receive; when they "
        "are already enrolled there, the running enrolment is returned (its benefit updated "
        "when a new one is given). Agencies (OPD) and Dinsos."
    )
    async def enroll_in_program(
        self,
        info: Info[Context, Any],
        input: Annotated[EnrollInput, strawberry.argument(description="The enrolment.")],
    ) -> EnrolmentPayload:
        (payload,) = await _enrolments(info, [_enroll_work(input)])
        await _shown(info, [payload.enrolment], "enrolment")
        return payload

    @strawberry.mutation(description="Enrol many people." + _BATCH)
    async def enroll_in_programs(
        self, info: Info[Context, Any], input: Enrolls
    ) -> EnrolmentsPayload:
        refused = batch_error(len(input))
        if refused is not None:
            return EnrolmentsPayload(errors=[refused])
        items = await _enrolments(info, [_enroll_work(i) for i in input])
        await _shown(info, [p.enrolment for p in items], "items", "enrolment")
        return _tally(EnrolmentsPayload, items)

    @strawberry.mutation(
        description="End a person's running enrolment in a programme. Agencies (OPD) and Dinsos."
    )
    async def end_enrollment(
        self,
        info: Info[Context, Any],
        input: Annotated[EndEnrollmentInput, strawberry.argument(description="Which one.")],
    ) -> EnrolmentPayload:
        (payload,) = await _enrolments(info, [_end_work(input)])
        await _shown(info, [payload.enrolment], "enrolment")
        return payload

    @strawberry.mutation(description="End many enrolments." + _BATCH)
    async def end_enrollments(self, info: Info[Context, Any], input: Ends) -> EnrolmentsPayload:
        refused = batch_error(len(input))
        if refused is not None:
            return EnrolmentsPayload(errors=[refused])
        items = await _enrolments(info, [_end_work(i) for i in input])
        await _shown(info, [p.enrolment for p in items], "items", "enrolment")
        return _tally(EnrolmentsPayload, items)
