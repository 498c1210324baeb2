"""GraphQL mutations of a need's lifecycle: report, verify, refer, pledge, release, close.

Each resolver parses its input, checks that the caller may see the need or person it names
(the policy's row rules: a record it may not see is refused exactly like one that does not
exist), runs the service of `hub.needs.service` through `attempt()`, and maps the outcome:
the changed need, prefetched and masked like any read, or the service's error with its code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, and_, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.visitors import replacement_traverse
from strawberry.types import Info

from hub.actor import Actor
from hub.duplicate_aid.types import DuplicateAidWarning
from hub.graphql.context import Context
from hub.graphql.lists import single
from hub.graphql.mutations import actor_of, attempt, begin_writing, may_see
from hub.graphql.relay import pk_of
from hub.ids import citizen_ref, need_ref
from hub.needs import errors, service
from hub.needs.models import Need as NeedRow
from hub.needs.service import CloseOutcome
from hub.needs.types import (
    Need,
    NeedError,
    NeedPayload,
    Pledge,
    PledgeNeedPayload,
    ReportNeedInput,
    severity_level,
)
from hub.organizations.models import Organization

#: The longest pledge a foundation may ask for, in days (the service's limit).
MAX_PLEDGE_DAYS = service.MAX_PLEDGE_TTL.days

_needs = NeedRow.__table__


NeedId = Annotated[strawberry.ID, strawberry.argument(description="Global id of the need.")]


def _as_if_open(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition` on a need, evaluated as though the need's status were OPEN."""

    def replace(element: Any, **_: Any) -> Any:
        return literal("OPEN") if element is _needs.c.status else None

    return replacement_traverse(condition, {}, replace)


def _pledge_reach(context: Context) -> ColumnElement[bool]:
    """The needs a caller may try to pledge: those its row rules reach, and those they
    reached while OPEN and that another pledge has taken since. A foundation that loses a
    race for a need it saw is told NEED_ALREADY_PLEDGED, not that the need does not exist."""
    seen = context.row_filter("Need")
    return or_(seen, and_(_needs.c.status == "PLEDGED", _as_if_open(seen)))


async def _check_need(
    context: Context,
    session: AsyncSession,
    need_id: int,
    *,
    reach: ColumnElement[bool] | None = None,
) -> None:
    if not await may_see(context, session, "Need", need_id, reach=reach):
        raise errors.NeedError(
            errors.NeedErrorCode.NEED_NOT_FOUND, f"there is no need {need_ref(need_id)}"
        )


Work = Callable[[AsyncSession, Actor, dt.datetime], Awaitable[NeedRow]]


async def _run(info: Info[Context, Any], need_id: int | None, work: Work) -> NeedPayload:
    """Check the need is visible, run `work` in a savepoint, and map its outcome."""
    context = info.context
    actor = actor_of(context)
    now = dt.datetime.now(dt.UTC)
    await begin_writing(context)

    async def checked(session: AsyncSession) -> NeedRow:
        if need_id is not None:
            await _check_need(context, session, need_id)
        return await work(session, actor, now)

    outcome = await attempt(context, checked, errors.NeedError)
    if isinstance(outcome, errors.NeedError):
        return NeedPayload(errors=[NeedError.of(outcome)])
    return NeedPayload(need=await _need(info, outcome))


async def _need(info: Info[Context, Any], row: NeedRow) -> Need | None:
    """The GraphQL need of a changed row, with what the payload selects under `need`."""
    return await single(info, Need.from_row(row), at="need")  # type: ignore[arg-type]


@strawberry.type
class NeedMutations:
    @strawberry.mutation(
        description="Report a person's need. It starts REPORTED, in the person's kelurahan, "
        "and waits for Dinsos to verify it. Agencies (OPD), foundations (LKS) and Dinsos; a "
        "foundation may report only for people it can see."
    )
    async def report_need(
        self,
        info: Info[Context, Any],
        input: Annotated[ReportNeedInput, strawberry.argument(description="The need.")],
    ) -> NeedPayload:
        context = info.context
        citizen_id = pk_of(input.citizen, "Citizen")

        async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> NeedRow:
            if not await may_see(context, session, "Citizen", citizen_id):
                raise errors.NeedError(
                    errors.NeedErrorCode.CITIZEN_NOT_FOUND,
                    f"there is no citizen {citizen_ref(citizen_id)}",
                )
            return await service.report_need(
                session,
                actor=actor,
                citizen_id=citizen_id,
                category_code=input.category,
                ppks_code=input.ppks_type,
                description=input.description,
                severity=severity_level(input.severity),
                now=now,
            )

        return await _run(info, None, work)

    @strawberry.mutation(
        description="Verify a REPORTED need and open it to foundations (REPORTED → VERIFIED → "
        "OPEN, two steps in its history); a VERIFIED need is opened. Dinsos administrators."
    )
    async def verify_need(
        self,
        info: Info[Context, Any],
        id: NeedId,
        note: Annotated[
            str | None,
            strawberry.argument(description="What was checked, kept in the need's history."),
        ] = None,
    ) -> NeedPayload:
        need_id = pk_of(id, "Need")

        async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> NeedRow:
            return await service.verify_need(
                session, actor=actor, need_id=need_id, note=note, now=now
            )

        return await _run(info, need_id, work)

    @strawberry.mutation(
        description="Refer a need to another agency (OPD), which then holds it and finds it "
        "with `needs(filter: {organization: …})`. From REPORTED, VERIFIED, OPEN or REFERRED. "
        "Agencies and Dinsos."
    )
    async def refer_need(
        self,
        info: Info[Context, Any],
        id: NeedId,
        to: Annotated[
            str,
            strawberry.argument(
                description="Code of the agency that takes the need over, e.g. `DINKES`."
            ),
        ],
        note: Annotated[
            str | None,
            strawberry.argument(
                description="Why it is referred and what the agency should know; kept in the "
                "need's history (default: `Dirujuk ke <code>`)."
            ),
        ] = None,
    ) -> NeedPayload:
        need_id = pk_of(id, "Need")
        code = to.strip().upper()

        async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> NeedRow:
            target = await session.scalar(select(Organization.id).where(Organization.code == code))
            if target is None:
                raise errors.NeedError(
                    errors.NeedErrorCode.ORGANIZATION_NOT_FOUND,
                    f"there is no organisation {code!r}; `organizations` lists them",
                )
            return await service.refer_need(
                session, actor=actor, need_id=need_id, to_organization_id=target, note=note, now=now
            )

        return await _run(info, need_id, work)

    @strawberry.mutation(
        description="Pledge an OPEN need: your foundation holds it until the pledge is released, "
        "fulfilled or expires (14 days by default), no other foundation can pledge it, and "
        "you may read the person's full name, address and phone with X-Purpose "
        "SERVICE_DELIVERY. When several foundations pledge at once exactly one wins; the "
        "others get NEED_ALREADY_PLEDGED. Foundations (LKS)."
    )
    async def pledge_need(
        self,
        info: Info[Context, Any],
        id: NeedId,
        days: Annotated[
            int | None,
            strawberry.argument(
                description=f"How many days the pledge holds the need: 1 to {MAX_PLEDGE_DAYS} "
                f"(default {service.PLEDGE_TTL.days})."
            ),
        ] = None,
    ) -> PledgeNeedPayload:
        context = info.context
        need_id = pk_of(id, "Need")
        actor = actor_of(context)
        now = dt.datetime.now(dt.UTC)
        await begin_writing(context)

        async def work(session: AsyncSession) -> service.PledgeResult:
            if days is not None and not 1 <= days <= MAX_PLEDGE_DAYS:
                raise errors.NeedError(
                    errors.NeedErrorCode.INVALID_INPUT,
                    f"days must be between 1 and {MAX_PLEDGE_DAYS}; got {days}",
                )
            await _check_need(context, session, need_id, reach=_pledge_reach(context))
            ttl = service.PLEDGE_TTL if days is None else dt.timedelta(days=days)
            return await service.pledge_need(
                session, actor=actor, need_id=need_id, now=now, ttl=ttl
            )

        outcome = await attempt(context, work, errors.NeedError)
        if isinstance(outcome, errors.NeedError):
            return PledgeNeedPayload(errors=[NeedError.of(outcome)])
        return PledgeNeedPayload(
            need=await _need(info, outcome.need),
            pledge=Pledge(
                pledged_at=outcome.pledge.pledged_at, expires_at=outcome.pledge.expires_at
            ),
            warnings=[DuplicateAidWarning.of(w) for w in outcome.warnings],
        )

    @strawberry.mutation(
        description="Give up your pledge on a need, which opens to other foundations again. "
        "Foundations (LKS) holding the pledge."
    )
    async def release_pledge(
        self,
        info: Info[Context, Any],
        id: NeedId,
        reason: Annotated[
            str,
            strawberry.argument(description="Why the pledge is given up; kept in the history."),
        ],
    ) -> NeedPayload:
        need_id = pk_of(id, "Need")

        async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> NeedRow:
            return await service.release_pledge(
                session, actor=actor, need_id=need_id, reason=reason, now=now
            )

        return await _run(info, need_id, work)

    @strawberry.mutation(
        description="End a need: FULFILLED once help was delivered (from PLEDGED or REFERRED), "
        "or CLOSED when no longer needed (from any open status, a reason required). Its "
        "pledge ends with it. The organisation holding the need (or, when none, the one that "
        "reported it), agencies and Dinsos."
    )
    async def close_need(
        self,
        info: Info[Context, Any],
        id: NeedId,
        outcome: Annotated[
            CloseOutcome, strawberry.argument(description="Fulfilled, or no longer needed.")
        ],
        reason: Annotated[
            str | None,
            strawberry.argument(
                description="What was delivered, or why it is no longer needed; kept in the "
                "history. Required for NO_LONGER_NEEDED."
            ),
        ] = None,
    ) -> NeedPayload:
        need_id = pk_of(id, "Need")

        async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> NeedRow:
            return await service.close_need(
                session, actor=actor, need_id=need_id, outcome=outcome, reason=reason, now=now
            )

        return await _run(info, need_id, work)
