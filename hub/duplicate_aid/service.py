"""Recording duplicate aid: one flag per warning, for Dinsos to review.

Called by the services that give help (`hub.needs.service.pledge_need`,
`hub.contributions.service.record_contribution`) inside their caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.duplicate_aid.models import DuplicateAidFlag
from hub.duplicate_aid.queries import DuplicateAidWarning


async def flag_duplicates(
    session: AsyncSession,
    *,
    warnings: Sequence[DuplicateAidWarning],
    citizen_id: int,
    organization_id: int,
    need_id: int | None,
    pledge_id: int | None = None,
    contribution_id: int | None = None,
    now: dt.datetime,
) -> None:
    """Write one flag per warning, for Dinsos to review; nothing when there are none."""
    if not warnings:
        return
    await session.execute(
        insert(DuplicateAidFlag),
        [
            {
                "citizen_id": citizen_id,
                "category_code": w.category_code,
                "organization_id": organization_id,
                "need_id": need_id,
                "pledge_id": pledge_id,
                "contribution_id": contribution_id,
                "found_kind": w.kind,
                "found_enrolment_id": w.enrolment_id,
                "found_contribution_id": w.contribution_id,
                "found_organization_id": w.organization_id,
                "found_on": w.on,
                "created_at": now,
            }
            for w in warnings
        ],
    )
