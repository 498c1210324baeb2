"""Batch loaders of the needs domain, and the relations they serve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from hub.graphql.context import Context
from hub.graphql.loaders import many_each, one_each, reference_each
from hub.graphql.prefetch import Join, relation
from hub.needs.models import Need, NeedCategory, NeedStatusChange
from hub.needs.types import Need as NeedType
from hub.needs.types import NeedCategory as NeedCategoryType
from hub.needs.types import NeedStatusChange as NeedStatusChangeType
from hub.organizations.loaders import organizations_by_id
from hub.regions.loaders import regions_by_code
from hub.registry.loaders import citizens_by_id, citizens_statement
from hub.registry.models import Citizen
from hub.registry.types import Citizen as CitizenType

_needs = Need.__table__
_categories = NeedCategory.__table__
_changes = NeedStatusChange.__table__
_citizens = Citizen.__table__

# Built once: the batch loads key their final statements on these (`hub.graphql.loaders`).
_NEEDS = select(_needs)
_NEEDS_NEWEST_FIRST = select(_needs).order_by(_needs.c.reported_at.desc(), _needs.c.id.desc())
_CHANGES_OLDEST_FIRST = select(_changes).order_by(_changes.c.changed_at, _changes.c.id)


async def categories_by_code(
    context: Context, codes: Sequence[Any]
) -> list[NeedCategoryType | None]:
    """Need categories for the given codes, aligned with them (reference data: the
    process's copy)."""
    return await reference_each(
        context, _categories, _categories.c.code, codes, NeedCategoryType.from_row
    )


async def needs_by_id(context: Context, ids: Sequence[Any]) -> list[NeedType | None]:
    """Needs for the given ids, aligned with them."""
    return await one_each(context, _NEEDS, _needs.c.id, ids, NeedType.from_row, rows="Need")


async def needs_by_citizen(context: Context, ids: Sequence[Any]) -> list[list[NeedType]]:
    """For each citizen id, that person's needs, newest first."""
    return await many_each(
        context, _NEEDS_NEWEST_FIRST, _needs.c.citizen_id, ids, NeedType.from_row, rows="Need"
    )


async def history_by_need(context: Context, ids: Sequence[Any]) -> list[list[NeedStatusChangeType]]:
    """For each need id, its status changes, oldest first (reached only through a need)."""
    return await many_each(
        context,
        _CHANGES_OLDEST_FIRST,
        _changes.c.need_id,
        ids,
        NeedStatusChangeType.from_row,
        rows=None,
    )


relation(
    NeedType, "category", attr="category", key=lambda n: n.category_code, load=categories_by_code
)
relation(NeedType, "ppksType", attr="ppks_type", key=lambda n: n.ppks_code, load=categories_by_code)
relation(
    NeedType,
    "citizen",
    attr="citizen",
    key=lambda n: n.citizen_id,
    load=citizens_by_id,
    # A page of needs brings its people in its own statement (the feed's one round trip).
    join=Join(
        parent_key=_needs.c.citizen_id,
        statement=citizens_statement,
        key=_citizens.c.id,
        rows="Citizen",
        to_object=CitizenType.from_row,
    ),
)
relation(
    NeedType, "kelurahan", attr="kelurahan", key=lambda n: n.kelurahan_code, load=regions_by_code
)
relation(
    NeedType, "kecamatan", attr="kecamatan", key=lambda n: n.kecamatan_code, load=regions_by_code
)
relation(
    NeedType,
    "reportedBy",
    attr="reported_by",
    key=lambda n: n.reported_by_id,
    load=organizations_by_id,
)
relation(
    NeedType,
    "verifiedBy",
    attr="verified_by",
    key=lambda n: n.verified_by_id,
    load=organizations_by_id,
)
relation(NeedType, "holder", attr="holder", key=lambda n: n.holder_id, load=organizations_by_id)
relation(NeedType, "history", attr="history", key=lambda n: n.pk, load=history_by_need, many=True)
relation(
    NeedStatusChangeType,
    "organization",
    attr="organization",
    key=lambda c: c.organization_id,
    load=organizations_by_id,
)
