"""The partner workflow of a need: report, verify, refer, pledge, release, expire, close.

    REPORTED ──verifyNeed──> VERIFIED ──verifyNeed──> OPEN ──pledgeNeed──> PLEDGED
        │   (one call takes REPORTED to OPEN)          ^  <─releasePledge──   │
        │                                              └──── expiry ─────────┤
        └──referNeed (from REPORTED, VERIFIED, OPEN, REFERRED)──> REFERRED    │
    closeNeed FULFILLED: PLEDGED or REFERRED -> FULFILLED  <─────────────────┘
    closeNeed NO_LONGER_NEEDED: any status but FULFILLED and CLOSED -> CLOSED

Every change writes a `NeedStatusChange` (who, when, from, to, note).

Concurrency. No decision rests on a read-then-write in Python: a need moves with a
conditional `UPDATE … WHERE id = :id AND status = :seen` (a compare-and-set; zero rows means
someone else moved it first, and the call re-reads and decides again), and the partial unique
index `uq_pledges_one_active_per_need` is the last word on "one active pledge per need".
Writers that end a pledge change the pledge row before the need row, the same order
everywhere, so two of them cannot deadlock on PostgreSQL.

Services run their statements at once (Core and ORM-enabled DML, no pending objects), so no
flush is needed and the database judges concurrent callers at the moment of the call. They
never commit: the caller's transaction also holds the audit event.

Savepoints nest inside the caller's transaction on both backends: on SQLite `hub.db` emits
BEGIN itself, so a SAVEPOINT never opens (and its RELEASE never commits) a transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.actor import Actor
from hub.db import in_chunks
from hub.duplicate_aid.queries import DUPLICATE_AID_WINDOW, DuplicateAidWarning, find_earlier_aid
from hub.duplicate_aid.service import flag_duplicates
from hub.events import service as events
from hub.ids import citizen_ref, need_ref
from hub.localtime import local_date
from hub.needs.errors import NeedError, NeedErrorCode
from hub.needs.models import Need, NeedCategory, NeedStatusChange, Pledge
from hub.organizations.models import Organization
from hub.registry.models import Citizen, Household

#: How long a pledge holds a need unless released or fulfilled before.
PLEDGE_TTL = dt.timedelta(days=14)
MAX_PLEDGE_TTL = dt.timedelta(days=90)
MAX_DESCRIPTION = 4000
#: Compare-and-set attempts before giving up with CONCURRENT_CHANGE.
_ATTEMPTS = 5
#: The note the seed and the sweep write when a pledge lapses.
EXPIRY_NOTE = "Janji bantuan kedaluwarsa"

_needs = Need.__table__
_pledges = Pledge.__table__
_organizations = Organization.__table__


class CloseOutcome(StrEnum):
    """How a need ends: delivered (FULFILLED) or no longer needed (CLOSED)."""

    FULFILLED = "FULFILLED"
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"


@dataclass(frozen=True, slots=True)
class PledgeResult:
    """The pledged need, its new pledge, and any duplicate-aid warnings (flagged for Dinsos)."""

    need: Need
    pledge: Pledge
    warnings: list[DuplicateAidWarning]


@dataclass(frozen=True, slots=True)
class ExpiredPledge:
    """A pledge that lapsed, and whether its need went back to OPEN."""

    pledge_id: int
    need_id: int
    organization_id: int
    expired_at: dt.datetime
    need_reopened: bool


# --- reading a need's state ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _State:
    """What a transition decides on: the need's status, holders, and its active pledge."""

    id: int
    status: str
    citizen_id: int
    category_code: str
    reported_by: int
    holder: int | None
    pledge_id: int | None
    pledge_organization_id: int | None
    pledge_expires_at: dt.datetime | None


async def _state(session: AsyncSession, need_id: int) -> _State:
    """The need and its active pledge; raise NEED_NOT_FOUND."""
    row = (
        await session.execute(
            select(
                _needs.c.id,
                _needs.c.status,
                _needs.c.citizen_id,
                _needs.c.category_code,
                _needs.c.reported_by_organization_id,
                _needs.c.holder_organization_id,
                _pledges.c.id,
                _pledges.c.organization_id,
                _pledges.c.expires_at,
            )
            .select_from(
                _needs.outerjoin(
                    _pledges,
                    (_pledges.c.need_id == _needs.c.id) & (_pledges.c.status == "ACTIVE"),
                )
            )
            .where(_needs.c.id == need_id)
        )
    ).first()
    if row is None:
        raise NeedError(NeedErrorCode.NEED_NOT_FOUND, f"there is no need {need_ref(need_id)}")
    return _State(*row)


def _either(statuses: Sequence[str]) -> str:
    """`A`, `A or B`, `A, B or C`."""
    if len(statuses) == 1:
        return statuses[0]
    return f"{', '.join(statuses[:-1])} or {statuses[-1]}"


def _require(state: _State, operation: str, allowed: Sequence[str]) -> None:
    """Raise ILLEGAL_TRANSITION unless the need's status is one of `allowed`."""
    if state.status not in allowed:
        raise NeedError(
            NeedErrorCode.ILLEGAL_TRANSITION,
            f"need {need_ref(state.id)} is {state.status}; {operation} needs {_either(allowed)}",
        )


def _attempts(need_id: int, operation: str) -> Iterator[int]:
    """Attempt numbers for a compare-and-set loop; raise CONCURRENT_CHANGE after the last."""
    yield from range(_ATTEMPTS)
    raise NeedError(
        NeedErrorCode.CONCURRENT_CHANGE,
        f"need {need_ref(need_id)} kept changing while {operation} ran; read it again and retry",
    )


async def _move(session: AsyncSession, state: _State, values: dict[str, Any]) -> Need | None:
    """Update the need only if its status is still the one seen; None when it moved."""
    statement = (
        update(Need)
        .where(Need.id == state.id, Need.status == state.status)
        .values(**values)
        .returning(Need)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def _end_pledge(session: AsyncSession, pledge_id: int, status: str, now: dt.datetime) -> bool:
    """Move an ACTIVE pledge to `status`; False when it was no longer ACTIVE."""
    result = await session.execute(
        update(Pledge)
        .where(Pledge.id == pledge_id, Pledge.status == "ACTIVE")
        .values(status=status, ended_at=now)
        .returning(Pledge.id)
    )
    return result.first() is not None


async def _history(
    session: AsyncSession,
    need_id: int,
    steps: Sequence[tuple[str | None, str, str | None]],
    *,
    organization_id: int | None,
    at: dt.datetime,
) -> None:
    """Append (from, to, note) steps to the need's timeline."""
    await session.execute(
        insert(NeedStatusChange),
        [
            {
                "need_id": need_id,
                "from_status": from_status,
                "to_status": to_status,
                "changed_at": at,
                "organization_id": organization_id,
                "note": note,
            }
            for from_status, to_status, note in steps
        ],
    )
    # Subscribers and webhooks hear of it once this transaction commits (hub/events).
    await events.needs_changed(session, [(need_id, steps)], at=at)


async def _is_agency(session: AsyncSession, organization_id: int) -> bool:
    """True when the organisation is an agency (OPD)."""
    kind = await session.scalar(
        select(_organizations.c.kind).where(_organizations.c.id == organization_id)
    )
    return kind == "OPD"


def _text(value: str | None, what: str, *, required: bool) -> str | None:
    """A stripped text; raise INVALID_INPUT when required and empty, or too long."""
    stripped = (value or "").strip()
    if not stripped:
        if required:
            raise NeedError(NeedErrorCode.INVALID_INPUT, f"{what} is empty; it must say something")
        return None
    if len(stripped) > MAX_DESCRIPTION:
        raise NeedError(
            NeedErrorCode.INVALID_INPUT,
            f"{what} has {len(stripped)} characters; at most {MAX_DESCRIPTION} are allowed",
        )
    return stripped


# --- the lifecycle -------------------------------------------------------------------


async def report_need(
    session: AsyncSession,
    *,
    actor: Actor,
    citizen_id: int,
    category_code: str,
    ppks_code: str | None,
    description: str,
    severity: int,
    now: dt.datetime,
) -> Need:
    """Record a new REPORTED need in the citizen's kelurahan; raise NeedError when invalid."""
    text = _text(description, "the description", required=True)
    if not 1 <= severity <= 4:
        raise NeedError(
            NeedErrorCode.INVALID_INPUT,
            f"severity {severity} is out of range; use 1 (low), 2 (medium), 3 (high) "
            "or 4 (critical)",
        )
    place = (
        await session.execute(
            select(Household.kecamatan_code, Household.kelurahan_code)
            .join(Citizen, Citizen.household_id == Household.id)
            .where(Citizen.id == citizen_id)
        )
    ).first()
    if place is None:
        raise NeedError(
            NeedErrorCode.CITIZEN_NOT_FOUND, f"there is no citizen {citizen_ref(citizen_id)}"
        )
    await _check_categories(session, category_code, ppks_code)
    need = (
        await session.scalars(
            insert(Need)
            .values(
                citizen_id=citizen_id,
                category_code=category_code,
                ppks_code=ppks_code,
                description=text,
                severity=severity,
                status="REPORTED",
                kecamatan_code=place.kecamatan_code,
                kelurahan_code=place.kelurahan_code,
                reported_by_organization_id=actor.organization_id,
                reported_at=now,
                updated_at=now,
            )
            .returning(Need)
        )
    ).one()
    await _history(
        session, need.id, [(None, "REPORTED", None)], organization_id=actor.organization_id, at=now
    )
    return need


async def _check_categories(
    session: AsyncSession, category_code: str, ppks_code: str | None
) -> None:
    """Raise unless `category_code` is a service domain and `ppks_code` a PPKS type."""
    codes = [category_code] if ppks_code is None else [category_code, ppks_code]
    rows = await session.execute(
        select(NeedCategory.code, NeedCategory.kind).where(NeedCategory.code.in_(codes))
    )
    kinds: dict[str, str] = {code: kind for code, kind in rows}
    for code, wanted, role in (
        (category_code, "SERVICE_DOMAIN", "category"),
        (ppks_code, "PPKS", "ppks"),
    ):
        if code is None:
            continue
        kind = kinds.get(code)
        if kind is None:
            raise NeedError(
                NeedErrorCode.CATEGORY_NOT_FOUND,
                f"{role} {code!r} is not in the need taxonomy; `needCategories` lists them",
            )
        if kind != wanted:
            raise NeedError(
                NeedErrorCode.INVALID_INPUT,
                f"{role} {code!r} is a {kind} category; {role} must be a {wanted} category",
            )


async def verify_need(
    session: AsyncSession, *, actor: Actor, need_id: int, note: str | None, now: dt.datetime
) -> Need:
    """Verify a REPORTED need and open it to partners (two history steps); return it."""
    text = _text(note, "the note", required=False)
    for _ in _attempts(need_id, "verifyNeed"):
        state = await _state(session, need_id)
        _require(state, "verifyNeed", ("REPORTED", "VERIFIED"))
        values: dict[str, Any] = {"status": "OPEN", "opened_at": now, "updated_at": now}
        steps: list[tuple[str | None, str, str | None]] = [("VERIFIED", "OPEN", text)]
        if state.status == "REPORTED":
            values.update(verified_by_organization_id=actor.organization_id, verified_at=now)
            steps = [("REPORTED", "VERIFIED", text), ("VERIFIED", "OPEN", None)]
        need = await _move(session, state, values)
        if need is not None:
            await _history(session, need_id, steps, organization_id=actor.organization_id, at=now)
            return need
    raise AssertionError("unreachable")  # pragma: no cover


async def refer_need(
    session: AsyncSession,
    *,
    actor: Actor,
    need_id: int,
    to_organization_id: int,
    note: str | None,
    now: dt.datetime,
) -> Need:
    """Hand the need to an agency (OPD), which then holds it; return it REFERRED."""
    text = _text(note, "the note", required=False)
    target = (
        await session.execute(
            select(_organizations.c.code, _organizations.c.kind, _organizations.c.status).where(
                _organizations.c.id == to_organization_id
            )
        )
    ).first()
    if target is None:
        raise NeedError(
            NeedErrorCode.ORGANIZATION_NOT_FOUND, f"there is no organisation {to_organization_id}"
        )
    if target.kind != "OPD" or target.status != "ACTIVE":
        raise NeedError(
            NeedErrorCode.INVALID_REFERRAL_TARGET,
            f"organisation {target.code} is a {target.status} {target.kind}; a need can be "
            "referred only to an ACTIVE agency (OPD)",
        )
    for _ in _attempts(need_id, "referNeed"):
        state = await _state(session, need_id)
        _require(state, "referNeed", ("REPORTED", "VERIFIED", "OPEN", "REFERRED"))
        if state.status == "REFERRED" and state.holder == to_organization_id:
            raise NeedError(
                NeedErrorCode.INVALID_REFERRAL_TARGET,
                f"need {need_ref(need_id)} is already referred to {target.code}; refer it to "
                f"another agency",
            )
        values = {"status": "REFERRED", "holder_organization_id": to_organization_id}
        need = await _move(session, state, {**values, "updated_at": now})
        if need is not None:
            await _history(
                session,
                need_id,
                [(state.status, "REFERRED", text or f"Dirujuk ke {target.code}")],
                organization_id=actor.organization_id,
                at=now,
            )
            return need
    raise AssertionError("unreachable")  # pragma: no cover


class _NotOpen(Exception):
    """The conditional pledge update matched no row (internal signal)."""


async def pledge_need(
    session: AsyncSession,
    *,
    actor: Actor,
    need_id: int,
    now: dt.datetime,
    ttl: dt.timedelta = PLEDGE_TTL,
    duplicate_window: dt.timedelta = DUPLICATE_AID_WINDOW,
) -> PledgeResult:
    """Claim an OPEN need for `ttl`; raise NEED_ALREADY_PLEDGED when another claim won."""
    if not dt.timedelta(0) < ttl <= MAX_PLEDGE_TTL:
        raise NeedError(
            NeedErrorCode.INVALID_INPUT,
            f"a pledge lasts more than 0 and at most {MAX_PLEDGE_TTL.days} days; {ttl} was asked",
        )
    await expire_pledges(session, now=now, need_id=need_id)
    try:
        # The savepoint undoes the need's update when the pledge insert is refused, and keeps
        # the caller's transaction usable (PostgreSQL aborts a transaction on any error).
        async with session.begin_nested():
            need = (
                await session.scalars(
                    update(Need)
                    .where(Need.id == need_id, Need.status == "OPEN")
                    .values(
                        status="PLEDGED",
                        holder_organization_id=actor.organization_id,
                        updated_at=now,
                    )
                    .returning(Need)
                    .execution_options(populate_existing=True)
                )
            ).one_or_none()
            if need is None:
                raise _NotOpen
            pledge = (
                await session.scalars(
                    insert(Pledge)
                    .values(
                        need_id=need_id,
                        organization_id=actor.organization_id,
                        status="ACTIVE",
                        pledged_at=now,
                        expires_at=now + ttl,
                    )
                    .returning(Pledge)
                )
            ).one()
            await _history(
                session,
                need_id,
                [("OPEN", "PLEDGED", None)],
                organization_id=actor.organization_id,
                at=now,
            )
    except IntegrityError as error:
        if not _is_one_active_pledge_violation(error):
            raise
        raise NeedError(
            NeedErrorCode.NEED_ALREADY_PLEDGED,
            f"need {need_ref(need_id)} already has an active pledge; it can be pledged again only "
            "after that pledge is released or expires",
        ) from None
    except _NotOpen:
        raise await _not_pledgeable(session, need_id, actor) from None
    warnings = await find_earlier_aid(
        session,
        citizen_id=need.citizen_id,
        category_code=need.category_code,
        day=local_date(now),
        window=duplicate_window,
        exclude_need_id=need_id,
    )
    await flag_duplicates(
        session,
        warnings=warnings,
        citizen_id=need.citizen_id,
        organization_id=actor.organization_id,
        need_id=need_id,
        pledge_id=pledge.id,
        now=now,
    )
    return PledgeResult(need=need, pledge=pledge, warnings=warnings)


def _is_one_active_pledge_violation(error: IntegrityError) -> bool:
    """True for the partial unique index (PostgreSQL names it; SQLite names the column)."""
    text = str(error.orig)
    return "uq_pledges_one_active_per_need" in text or "pledges.need_id" in text


async def _not_pledgeable(session: AsyncSession, need_id: int, actor: Actor) -> NeedError:
    """The error explaining why the need could not be pledged, read after the fact."""
    state = await _state(session, need_id)
    if state.status == "PLEDGED":
        whose = (
            "your organisation"
            if state.pledge_organization_id == actor.organization_id
            else "another organisation"
        )
        until = f" until {state.pledge_expires_at.isoformat()}" if state.pledge_expires_at else ""
        return NeedError(
            NeedErrorCode.NEED_ALREADY_PLEDGED,
            f"need {need_ref(need_id)} is PLEDGED by {whose}{until}; pledgeNeed needs OPEN",
        )
    return NeedError(
        NeedErrorCode.ILLEGAL_TRANSITION,
        f"need {need_ref(need_id)} is {state.status}; pledgeNeed needs OPEN",
    )


async def release_pledge(
    session: AsyncSession, *, actor: Actor, need_id: int, reason: str, now: dt.datetime
) -> Need:
    """Give up the active pledge on a need, which goes back to OPEN; return it."""
    text = _text(reason, "the reason", required=True)
    await expire_pledges(session, now=now, need_id=need_id)
    for _ in _attempts(need_id, "releasePledge"):
        state = await _state(session, need_id)
        _require(state, "releasePledge", ("PLEDGED",))
        await _check_holder(session, state, actor, "release its pledge")
        if state.pledge_id is None or not await _end_pledge(
            session, state.pledge_id, "RELEASED", now
        ):
            continue
        need = await _move(
            session, state, {"status": "OPEN", "holder_organization_id": None, "updated_at": now}
        )
        if need is None:  # the pledge was ours to end, so the need cannot have moved
            raise RuntimeError(f"need {need_id} moved while its pledge was locked")
        await _history(
            session,
            need_id,
            [("PLEDGED", "OPEN", text)],
            organization_id=actor.organization_id,
            at=now,
        )
        return need
    raise AssertionError("unreachable")  # pragma: no cover


async def _check_holder(session: AsyncSession, state: _State, actor: Actor, doing: str) -> None:
    """Raise NEED_NOT_HELD unless the actor holds (or reported) the need, or is an agency."""
    if state.status == "PLEDGED":
        responsible = state.pledge_organization_id
    elif state.holder is not None:
        responsible = state.holder
    else:
        responsible = state.reported_by
    if responsible == actor.organization_id or await _is_agency(session, actor.organization_id):
        return
    raise NeedError(
        NeedErrorCode.NEED_NOT_HELD,
        f"need {need_ref(state.id)} is {state.status} and held by another organisation; only the "
        f"organisation holding it (or, when none does, the one that reported it) or an "
        f"agency (OPD) may {doing}",
    )


_CLOSABLE = {
    CloseOutcome.FULFILLED: ("PLEDGED", "REFERRED"),
    CloseOutcome.NO_LONGER_NEEDED: ("REPORTED", "VERIFIED", "OPEN", "PLEDGED", "REFERRED"),
}


async def close_need(
    session: AsyncSession,
    *,
    actor: Actor,
    need_id: int,
    outcome: CloseOutcome,
    reason: str | None,
    now: dt.datetime,
) -> Need:
    """End a need as FULFILLED or CLOSED (no longer needed), ending its pledge; return it."""
    outcome = CloseOutcome(outcome)
    text = _text(reason, "the reason", required=outcome is CloseOutcome.NO_LONGER_NEEDED)
    await expire_pledges(session, now=now, need_id=need_id)
    operation = f"closeNeed({outcome.value})"
    to_status = "FULFILLED" if outcome is CloseOutcome.FULFILLED else "CLOSED"
    for _ in _attempts(need_id, operation):
        state = await _state(session, need_id)
        _require(state, operation, _CLOSABLE[outcome])
        await _check_holder(session, state, actor, "close it")
        if state.status == "PLEDGED":
            ended = "FULFILLED" if outcome is CloseOutcome.FULFILLED else "RELEASED"
            if state.pledge_id is None or not await _end_pledge(
                session, state.pledge_id, ended, now
            ):
                continue
        values: dict[str, Any] = {"status": to_status, "updated_at": now}
        values["fulfilled_at" if to_status == "FULFILLED" else "closed_at"] = now
        need = await _move(session, state, values)
        if need is None:
            if state.status == "PLEDGED":
                raise RuntimeError(f"need {need_id} moved while its pledge was locked")
            continue
        await _history(
            session,
            need_id,
            [(state.status, to_status, text)],
            organization_id=actor.organization_id,
            at=now,
        )
        return need
    raise AssertionError("unreachable")  # pragma: no cover


async def expire_pledges(
    session: AsyncSession,
    *,
    now: dt.datetime,
    need_id: int | None = None,
    limit: int | None = None,
) -> list[ExpiredPledge]:
    """End ACTIVE pledges past their expiry (of one need, or all, or the `limit` oldest by
    id) and reopen their needs."""
    lapsed_now = (Pledge.status == "ACTIVE", Pledge.expires_at <= now)
    statement = (
        update(Pledge)
        .where(*lapsed_now)
        .values(status="EXPIRED", ended_at=Pledge.expires_at)
        .returning(Pledge.id, Pledge.need_id, Pledge.organization_id, Pledge.expires_at)
        # `ended_at` is an SQL expression, which the session could only expire, not set.
        .execution_options(synchronize_session=False)
    )
    if need_id is not None:
        statement = statement.where(Pledge.need_id == need_id)
    if limit is not None:
        # The outer conditions stay: PostgreSQL re-checks them on a row another sweep
        # ended meanwhile, so no pledge is ended twice.
        oldest = select(Pledge.id).where(*lapsed_now).order_by(Pledge.id).limit(limit)
        statement = statement.where(Pledge.id.in_(oldest.scalar_subquery()))
    # Pledge rows first, need rows second: the lock order of every writer here.
    lapsed = (await session.execute(statement)).all()
    if not lapsed:
        return []
    reopened: set[int] = set()
    need_ids = sorted({row.need_id for row in lapsed})
    for chunk in in_chunks(need_ids):
        result = await session.execute(
            update(Need)
            .where(Need.id.in_(chunk), Need.status == "PLEDGED")
            .values(status="OPEN", holder_organization_id=None, updated_at=now)
            .returning(Need.id)
            .execution_options(synchronize_session="fetch")
        )
        reopened.update(result.scalars())
    history = [row for row in lapsed if row.need_id in reopened]
    if history:
        await session.execute(
            insert(NeedStatusChange),
            [
                {
                    "need_id": row.need_id,
                    "from_status": "PLEDGED",
                    "to_status": "OPEN",
                    # When it really lapsed, however late the sweep runs.
                    "changed_at": row.expires_at,
                    "organization_id": None,
                    "note": EXPIRY_NOTE,
                }
                for row in history
            ],
        )
        await events.needs_changed(
            session, [(row.need_id, [("PLEDGED", "OPEN", EXPIRY_NOTE)]) for row in history], at=now
        )
    return [
        ExpiredPledge(
            pledge_id=row.id,
            need_id=row.need_id,
            organization_id=row.organization_id,
            expired_at=row.expires_at,
            need_reopened=row.need_id in reopened,
        )
        for row in lapsed
    ]
