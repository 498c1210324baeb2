"""Read statements of federation (no GraphQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, select

from hub.needs.models import Need, Pledge
from hub.registry.models import Citizen

_citizens = Citizen.__table__
_needs = Need.__table__
_pledges = Pledge.__table__


def niks(ids: Collection[int]) -> Select[Any]:
    """(id, nik) of the given citizens: connectors keyed by NIK get the NIK as recorded."""
    return select(_citizens.c.id, _citizens.c.nik).where(_citizens.c.id.in_(ids))


def pledged_citizens(organization_id: int | None, ids: Collection[int]) -> Select[Any]:
    """Ids among `ids` of citizens with a need the organisation actively pledged."""
    return (
        select(_needs.c.citizen_id)
        .join(_pledges, _pledges.c.need_id == _needs.c.id)
        .where(
            _needs.c.citizen_id.in_(ids),
            _pledges.c.organization_id == organization_id,
            _pledges.c.status == "ACTIVE",
            _pledges.c.expires_at > dt.datetime.now(dt.UTC),
        )
        .distinct()
    )
