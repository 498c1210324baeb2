"""Issuing tracking codes: when a need is reported, and when Dinsos reissues one."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.needs.models import Need
from hub.tracking.codes import digest, new_code, normalise
from hub.tracking.errors import TrackingError, TrackingErrorCode
from hub.tracking.models import TrackingCode

_codes = TrackingCode.__table__
#: Fresh codes tried when one collides with an existing digest (40 bits: practically never).
_ATTEMPTS = 5


async def issue_code(
    session: AsyncSession,
    *,
    need_id: int,
    organization_id: int | None,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> str:
    """Give the need a new tracking code (replacing any earlier one); return it, shown once."""
    for _ in range(_ATTEMPTS):
        code = new_code(rng)
        symbols = normalise(code)
        assert symbols is not None
        try:
            async with session.begin_nested():
                await session.execute(delete(TrackingCode).where(TrackingCode.need_id == need_id))
                await session.execute(
                    insert(TrackingCode).values(
                        need_id=need_id,
                        code_sha256=digest(symbols),
                        issued_at=now,
                        issued_by_organization_id=organization_id,
                    )
                )
        except IntegrityError:
            continue
        return code
    raise RuntimeError("could not draw a unique tracking code")  # pragma: no cover


async def reissue_code(
    session: AsyncSession,
    *,
    need_id: int,
    organization_id: int,
    now: dt.datetime,
    within: ColumnElement[bool] | None = None,
) -> str:
    """A new code for an existing need (the old one stops working); raise NEED_NOT_FOUND.

    `within` narrows which needs count as existing (the caller's row rules).
    """
    found = select(Need.id).where(Need.id == need_id)
    if within is not None:
        found = found.where(within)
    if await session.scalar(found) is None:
        raise TrackingError(TrackingErrorCode.NEED_NOT_FOUND, f"there is no need {need_id}")
    return await issue_code(session, need_id=need_id, organization_id=organization_id, now=now)


async def issue_missing(
    session: AsyncSession, *, need_ids: Sequence[int], now: dt.datetime, rng: random.Random
) -> int:
    """Codes for needs that have none (the synthetic seed); return how many were issued."""
    have = set(
        await session.scalars(select(_codes.c.need_id).where(_codes.c.need_id.in_(need_ids)))
    )
    rows = []
    for need_id in need_ids:
        if need_id in have:
            continue
        symbols = normalise(new_code(rng))
        assert symbols is not None
        rows.append({"need_id": need_id, "code_sha256": digest(symbols), "issued_at": now})
    if rows:
        await session.execute(insert(TrackingCode), rows)
    return len(rows)
