"""Batch loaders of the registry domain (households, citizens)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from hub.graphql.context import Context
from hub.graphql.loaders import many_each, one_each
from hub.graphql.prefetch import relation
from hub.regions.loaders import regions_by_code
from hub.registry.models import Citizen, Household
from hub.registry.types import Citizen as CitizenType
from hub.registry.types import Household as HouseholdType

_citizens = Citizen.__table__
_households = Household.__table__

#: Members in KK order: the head first, then spouse, parents, children, others.
_RELATIONSHIP_ORDER = ("HEAD", "SPOUSE", "PARENT", "CHILD", "IN_LAW", "GRANDCHILD", "OTHER")


async def citizens_by_id(context: Context, ids: Sequence[Any]) -> list[CitizenType | None]:
    """Citizens for the given ids, aligned with them."""
    return await one_each(
        context, select(_citizens), _citizens.c.id, ids, CitizenType.from_row, rows="Citizen"
    )


async def households_by_id(context: Context, ids: Sequence[Any]) -> list[HouseholdType | None]:
    """Households for the given ids, aligned with them."""
    return await one_each(
        context,
        select(_households),
        _households.c.id,
        ids,
        HouseholdType.from_row,
        rows="Household",
    )


async def members_by_household(context: Context, ids: Sequence[Any]) -> list[list[CitizenType]]:
    """For each household id, its members, head first, then by birth date."""
    members = await many_each(
        context,
        select(_citizens).order_by(_citizens.c.birth_date, _citizens.c.id),
        _citizens.c.household_id,
        ids,
        CitizenType.from_row,
        # A member outside the caller's reach is not listed (a foundation sees only the
        # people behind the needs it may see, not their families).
        rows="Citizen",
    )
    rank = {r: i for i, r in enumerate(_RELATIONSHIP_ORDER)}
    return [sorted(group, key=lambda c: rank[c.relationship.name]) for group in members]


relation(
    CitizenType, "household", attr="household", key=lambda c: c.household_id, load=households_by_id
)
relation(
    HouseholdType,
    "kelurahan",
    attr="kelurahan",
    key=lambda h: h.kelurahan_code,
    load=regions_by_code,
)
relation(
    HouseholdType,
    "kecamatan",
    attr="kecamatan",
    key=lambda h: h.kecamatan_code,
    load=regions_by_code,
)
relation(
    HouseholdType,
    "members",
    attr="members",
    key=lambda h: h.pk,
    load=members_by_household,
    many=True,
)
