"""Queries of the contributions domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from hub.contributions.models import Contribution
from hub.pagination import SortKey

_contributions = Contribution.__table__

CONTRIBUTION_ORDER = (
    SortKey(_contributions.c.delivered_on, "delivered_on", descending=True),
    SortKey(_contributions.c.id, "id", descending=True),
)


def list_statement(
    *,
    organization_id: int | None = None,
    kecamatan_codes: Sequence[str] | None = None,
    category_codes: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    delivered_from: dt.date | None = None,
    delivered_to: dt.date | None = None,
) -> Select[Any]:
    """A statement selecting the contributions that match every given filter."""
    c = _contributions.c
    statement = select(_contributions)
    if organization_id is not None:
        statement = statement.where(c.organization_id == organization_id)
    if kecamatan_codes:
        statement = statement.where(c.kecamatan_code.in_(kecamatan_codes))
    if category_codes:
        statement = statement.where(c.category_code.in_(category_codes))
    if kinds:
        statement = statement.where(c.kind.in_(kinds))
    if delivered_from is not None:
        statement = statement.where(c.delivered_on >= delivered_from)
    if delivered_to is not None:
        statement = statement.where(c.delivered_on <= delivered_to)
    return statement
