"""Reading a need's public status by its tracking code: statuses and dates, nothing personal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.needs.models import Need, NeedCategory, NeedStatusChange
from hub.organizations.models import Organization
from hub.tracking.codes import digest, normalise
from hub.tracking.errors import TrackingError, TrackingErrorCode
from hub.tracking.models import TrackingCode

_needs = Need.__table__
_changes = NeedStatusChange.__table__
_orgs = Organization.__table__
_codes = TrackingCode.__table__
_categories = NeedCategory.__table__


@dataclass(frozen=True, slots=True)
class Step:
    """One status the need reached, when, and which organisation moved it there."""

    status: str
    at: dt.datetime
    organization_name: str | None
    organization_kind: str | None


@dataclass(frozen=True, slots=True)
class Tracked:
    """A need as its tracking code shows it."""

    need_id: int
    citizen_id: int
    status: str
    category_code: str
    category_label_id: str
    category_label_en: str
    reported_at: dt.datetime
    steps: list[Step]


async def track(session: AsyncSession, *, code: str) -> Tracked:
    """The need behind `code` and its timeline; raise INVALID_TRACKING_CODE or _NOT_FOUND."""
    symbols = normalise(code)
    if symbols is None:
        raise TrackingError(
            TrackingErrorCode.INVALID_TRACKING_CODE,
            "a tracking code looks like YJ-7KQ4-92MX: YJ and eight letters or digits "
            "(no I, L, O or U)",
        )
    need = (
        await session.execute(
            select(
                _needs.c.id,
                _needs.c.citizen_id,
                _needs.c.status,
                _needs.c.category_code,
                _needs.c.reported_at,
                _categories.c.label_id,
                _categories.c.label_en,
            )
            .join(_codes, _codes.c.need_id == _needs.c.id)
            .join(_categories, _categories.c.code == _needs.c.category_code)
            .where(_codes.c.code_sha256 == digest(symbols))
        )
    ).first()
    if need is None:
        raise TrackingError(
            TrackingErrorCode.TRACKING_CODE_NOT_FOUND,
            "no request has this tracking code; check it with the officer who gave it to you",
        )
    rows = await session.execute(
        select(_changes.c.to_status, _changes.c.changed_at, _orgs.c.name, _orgs.c.kind)
        .select_from(_changes.outerjoin(_orgs, _orgs.c.id == _changes.c.organization_id))
        .where(_changes.c.need_id == need.id)
        .order_by(_changes.c.changed_at, _changes.c.id)
    )
    return Tracked(
        need_id=need.id,
        citizen_id=need.citizen_id,
        status=need.status,
        category_code=need.category_code,
        category_label_id=need.label_id,
        category_label_en=need.label_en,
        reported_at=need.reported_at,
        steps=[Step(r.to_status, r.changed_at, r.name, r.kind) for r in rows],
    )
