"""Reference data every hub database holds: regions, need taxonomy, agencies, programmes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.needs import reference as need_categories
from hub.organizations import reference as organizations
from hub.programs import reference as programs
from hub.regions import reference as regions


async def load_reference_data(session: AsyncSession) -> dict[str, int]:
    """Insert whatever reference rows are missing (idempotent); return counts added."""
    return {
        "regions": await regions.load(session),
        "need_categories": await need_categories.load(session),
        "organizations": await organizations.load(session),
        "programs": await programs.load(session),
    }
