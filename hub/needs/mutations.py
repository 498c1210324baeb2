"""GraphQL mutations of a need's lifecycle: report, verify, refer, pledge, release, close.

Each resolver parses its input, checks that the caller may see the need or person it names
(the policy's row rules: a record it may not see is refused exactly like one that does not
exist), runs the service of `hub.needs.service` through `attempt()`, and maps the outcome:
the changed need, prefetched and masked like any read, or the service's error with its code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from enum import Enum
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
from hub.needs import errors, service
from hub.needs.models import Need as NeedRow
from hub.needs.types import Need, Severity, severity_level
from hub.organizations.models import Organization

#: The longest pledge a foundation may ask for, in days (the service's limit).
MAX_PLEDGE_DAYS = service.MAX_PLEDGE_TTL.days

_needs = NeedRow.__table__


@strawberry.enum(description="Why a need operation was refused.")
class NeedErrorCode(Enum):
    NEED_NOT_FOUND = strawberry.enum_value(
        "NEED_NOT_FOUND", description="No need has this id, or none that you may see."
    )
    CITIZEN_NOT_FOUND = strawberry.enum_value(
        "CITIZEN_NOT_FOUND", description="No person has this id, or none that you may see."
    )
    CATEGORY_NOT_FOUND = strawberry.enum_value(
        "CATEGORY_NOT_FOUND", description="The category code is not in `needCategories`."
    )
    ORGANIZATION_NOT_FOUND = strawberry.enum_value(
        "ORGANIZATION_NOT_FOUND", description="No organisation has this code."
    )
    INVALID_INPUT = strawberry.enum_value(
        "INVALID_INPUT",
        description="A value out of range: an empty description or reason, a text too long, "
        "a category of the wrong kind, a pledge length. The message says which.",
    )
    ILLEGAL_TRANSITION = strawberry.enum_value(
        "ILLEGAL_TRANSITION",
        description="The need's status does not allow this operation. The message names the "
        "status and the statuses the operation needs, e.g. `need 42 is FULFILLED; "
        "pledgeNeed needs OPEN`.",
    )
    NEED_ALREADY_PLEDGED = strawberry.enum_value(
        "NEED_ALREADY_PLEDGED",
        description="Another pledge holds the need (another foundation's, or already yours); "
        "it can be pledged again only after that pledge is released or expires.",
    )
    NEED_NOT_HELD = strawberry.enum_value(
        "NEED_NOT_HELD",
        description="Your organisation does not hold the need: only the holder (or, when "
        "none, the reporter) or an agency may release or close it.",
    )
    INVALID_REFERRAL_TARGET = strawberry.enum_value(
        "INVALID_REFERRAL_TARGET",
        description="A need can be referred only to an ACTIVE agency (OPD) that does not "
        "already hold it.",
    )
    CONCURRENT_CHANGE = strawberry.enum_value(
        "CONCURRENT_CHANGE",
        description="The need kept changing while the operation ran; read it again and retry.",
    )


@strawberry.type(description="An expected failure of a need operation.")
class NeedError:
    code: NeedErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(
        description="What was wrong and what is allowed, in words a person can act on."
    )

    @classmethod
    def of(cls, error: errors.NeedError) -> NeedError:
        """Map a service error."""
        return cls(code=NeedErrorCode[error.code.name], message=error.message)


@strawberry.enum(description="How a need ends.")
class CloseOutcome(Enum):
    FULFILLED = strawberry.enum_value(
        "FULFILLED",
        description="Help was delivered. The need must be PLEDGED (by your organisation) or "
        "REFERRED (to your agency); its pledge ends as fulfilled.",
    )
    NO_LONGER_NEEDED = strawberry.enum_value(
        "NO_LONGER_NEEDED",
        description="The need ends without delivery (moved away, solved otherwise, …); its "
        "status becomes CLOSED. A reason is required.",
    )


@strawberry.type(description="A foundation's claim on a need, so that no one else duplicates it.")
class Pledge:
    pledged_at: dt.datetime = strawberry.field(description="When the need was pledged.")
    expires_at: dt.datetime = strawberry.field(
        description="When the pledge lapses unless released or fulfilled before; the need then "
        "opens to other foundations again."
    )


@strawberry.type(description="The result of a need operation.")
class NeedPayload:
    need: Need | None = strawberry.field(
        default=None, description="The need after the change; null when it was refused."
    )
    errors: list[NeedError] = strawberry.field(
        default_factory=list, description="Why the change was refused; empty on success."
    )


@strawberry.type(description="The result of pledging a need.")
class PledgeNeedPayload(NeedPayload):
    pledge: Pledge | None = strawberry.field(
        default=None, description="The new pledge; null when it was refused."
    )
    warnings: list[DuplicateAidWarning] = strawberry.field(
        default_factory=list,
        description="Earlier help the person received in the need's category (programme "
        "enrolments, other organisations' contributions); empty when none was found.",
    )


@strawberry.input(description="A person's specific need, reported for Dinsos to verify.")
class ReportNeedInput:
    citizen: strawberry.ID = strawberry.field(description="Global id of the person in need.")
    category: str = strawberry.field(
        description="Service-domain code (`FOOD`, `HEALTH`, …; see `needCategories`)."
    )
    ppks_type: str | None = strawberry.field(
        default=None,
        description="PPKS type code of the person (`PPKS_FAKIR_MISKIN`, …), when known.",
    )
    description: str = strawberry.field(
        description="What is needed, in a few sentences (at most 4000 characters). Foundations "
        "read it, so name no one: the person is linked by `citizen`."
    )
    severity: Severity = strawberry.field(description="How urgent it is.")


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
        raise errors.NeedError(errors.NeedErrorCode.NEED_NOT_FOUND, f"there is no need {need_id}")


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
                    errors.NeedErrorCode.CITIZEN_NOT_FOUND, f"there is no citizen {citizen_id}"
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
        ending = service.CloseOutcome[outcome.name]

        async def work(session: AsyncSession, actor: Actor, now: dt.datetime) -> NeedRow:
            return await service.close_need(
                session, actor=actor, need_id=need_id, outcome=ending, reason=reason, now=now
            )

        return await _run(info, need_id, work)
