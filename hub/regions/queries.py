"""Queries of the regions domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from hub.regions.models import Region


async def get_all(
    session: AsyncSession, *, level: str | None = None, parent_code: str | None = None
) -> list[Row[Any]]:
    """Regions, optionally of one level or under one parent, ordered by code."""
    table = Region.__table__
    statement = select(table).order_by(table.c.code)
    if level is not None:
        statement = statement.where(table.c.level == level)
    if parent_code is not None:
        statement = statement.where(table.c.parent_code == parent_code)
    return list((await session.execute(statement)).all())
