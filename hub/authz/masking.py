"""Field levels applied to the citizens and households of a response, in place.

Runs once per response over the objects the prefetch collected, after every relation is
loaded: one optional query (which of these people has a need the caller's organisation has
pledged) and plain attribute writes, never a query or an awaitable per object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select

from hub.authz.catalog import PERSONAL_FIELDS, Level
from hub.graphql.context import Context
from hub.needs.models import Need, Pledge
from hub.registry.models import Citizen as CitizenRow
from hub.registry.types import Citizen, Household

_needs = Need.__table__
_pledges = Pledge.__table__
_citizens = CitizenRow.__table__

#: Python attribute of each personal GraphQL field.
_ATTRS = {
    "nik": "nik",
    "fullName": "full_name",
    "birthDate": "birth_date",
    "age": "age",
    "phone": "phone",
    "kkNumber": "kk_number",
    "address": "address",
    "rt": "rt",
    "rw": "rw",
}


def mask_number(value: str) -> str:
    """A NIK or KK number with its middle hidden: `3273********0009`."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def initials(name: str) -> str:
    """A name as initials: `Siti Nurhaliza` → `S. N.`."""
    return " ".join(f"{word[0]}." for word in name.split() if word)


def _masked(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in ("nik", "kkNumber"):
        return mask_number(value)
    if field == "fullName":
        return initials(value)
    # Birth date, exact age, street address, RT/RW and phone have no masked form.
    return None


async def _pledged(
    context: Context, citizens: list[Citizen], households: list[Household]
) -> tuple[set[int], set[int]]:
    """Citizens and households with a need the caller's organisation actively pledged."""
    citizen_ids = {c.pk for c in citizens}
    household_ids = {h.pk for h in households}
    statement = (
        select(_citizens.c.id, _citizens.c.household_id)
        .join(_needs, _needs.c.citizen_id == _citizens.c.id)
        .join(_pledges, _pledges.c.need_id == _needs.c.id)
        .where(
            _pledges.c.organization_id == context.principal.organization_id,
            _pledges.c.status == "ACTIVE",
            _pledges.c.expires_at > dt.datetime.now(dt.UTC),
        )
    )
    conditions = []
    if citizen_ids:
        conditions.append(_citizens.c.id.in_(citizen_ids))
    if household_ids:
        conditions.append(_citizens.c.household_id.in_(household_ids))
    rows = await context.rows(statement.where(or_(*conditions)))
    return {r.id for r in rows}, {r.household_id for r in rows}


async def apply_field_access(context: Context, objects: Iterable[Any]) -> None:
    """Mask the personal fields of every citizen and household in `objects` per policy."""
    citizens = [o for o in objects if isinstance(o, Citizen) and not o.access_applied]
    households = [o for o in objects if isinstance(o, Household) and not o.access_applied]
    if not citizens and not households:
        return
    access = context.access
    levels = {
        # Connected fields have no attribute to mask: their connector's loader levels them.
        type_name: {f: access.level(type_name, f) for f in fields if f in _ATTRS}
        for type_name, fields in PERSONAL_FIELDS.items()
    }
    may_elevate = context.purpose is not None and any(
        level is Level.PLEDGED for by_field in levels.values() for level in by_field.values()
    )
    pledged_citizens: set[int] = set()
    pledged_households: set[int] = set()
    if may_elevate:
        pledged_citizens, pledged_households = await _pledged(context, citizens, households)
    for type_name, group, pledged in (
        ("Citizen", citizens, pledged_citizens),
        ("Household", households, pledged_households),
    ):
        by_field = levels[type_name]
        if all(level is Level.FULL for level in by_field.values()):
            for obj in group:
                obj.access_applied = True
                if type_name == "Citizen":
                    context.record_personal_read(obj.pk, by_field)
            continue
        for obj in group:
            shown = {}
            for field, level in by_field.items():
                if level is Level.PLEDGED:
                    level = Level.FULL if obj.pk in pledged else Level.MASKED
                shown[field] = level
                if level is Level.FULL:
                    continue
                attr = _ATTRS[field]
                value = getattr(obj, attr)
                setattr(obj, attr, _masked(field, value) if level is Level.MASKED else None)
            obj.access_applied = True
            if type_name == "Citizen":
                context.record_personal_read(obj.pk, shown)
