"""Field levels applied to the citizens and households of a response, in place.

Runs once per response over the objects the prefetch collected, after every relation is
loaded: one optional query (which of these people has a need the caller's organisation has
pledged) and plain attribute writes, never a query or an awaitable per object.

A citizen loaded by id (`Need.citizen`, the feed's people) arrives with that answer
already: its statement carries `pledged_by_caller_column`, the same condition correlated
to the row, so the query runs only for the people and households loaded otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, select

from hub.authz.catalog import PERSONAL_FIELDS, Level
from hub.authz.rows import now_parameter
from hub.graphql.context import Context
from hub.needs.models import Need, Pledge
from hub.needs.queries import pledged_people_statement
from hub.registry.models import Citizen

_needs = Need.__table__
_pledges = Pledge.__table__
_citizens = Citizen.__table__

#: The label of the column `pledged_by_caller_column` adds to a citizens statement.
PLEDGED_BY_CALLER = "pledged_by_caller"

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


def _levels(context: Context) -> dict[str, dict[str, Level]]:
    """Per personal type, the caller's level of each field the field layer masks."""
    access = context.access
    return {
        # Connected fields have no attribute to mask: their connector's loader levels them.
        type_name: {f: access.level(type_name, f) for f in fields if f in _ATTRS}
        for type_name, fields in PERSONAL_FIELDS.items()
    }


def _may_elevate(context: Context, levels: dict[str, dict[str, Level]]) -> bool:
    """Whether a pledge can show this caller a masked field in full (with a purpose)."""
    return context.purpose is not None and any(
        level is Level.PLEDGED for by_field in levels.values() for level in by_field.values()
    )


def pledged_by_caller_column(context: Context) -> ColumnElement[bool] | None:
    """For a statement over `citizens`: whether the caller's organisation holds a live
    pledge on one of the row's needs (`pledged_people_statement`, correlated to the row),
    labelled `PLEDGED_BY_CALLER`; None when the masking of this request never asks."""
    if not _may_elevate(context, _levels(context)):
        return None
    organization_id = context.principal.organization_id
    column = _PLEDGED_COLUMNS.get(organization_id)
    if column is None:
        column = (
            select(_needs.c.id)
            .join(_pledges, _pledges.c.need_id == _needs.c.id)
            .where(
                _needs.c.citizen_id == _citizens.c.id,
                _pledges.c.organization_id == organization_id,
                _pledges.c.status == "ACTIVE",
                # The clock of each statement, as `pledged_people_statement` is given.
                _pledges.c.expires_at > now_parameter(),
                _needs.c.status == "PLEDGED",
            )
            .exists()
            .label(PLEDGED_BY_CALLER)
        )
        if len(_PLEDGED_COLUMNS) >= 4096:
            _PLEDGED_COLUMNS.clear()
        _PLEDGED_COLUMNS[organization_id] = column
    return column


#: `pledged_by_caller_column` by organisation: built once, like the row rules' conditions
#: (`hub.authz.rows.row_filter`), and as immutable.
_PLEDGED_COLUMNS: dict[int, ColumnElement[bool]] = {}


async def _pledged(
    context: Context, citizens: list[Any], households: list[Any]
) -> tuple[set[int], set[int]]:
    """Citizens and households with a need the caller's organisation actively pledged."""
    known = {c.pk for c in citizens if c.pledged_by_caller}
    unknown = {c.pk for c in citizens if c.pledged_by_caller is None}
    if not unknown and not households:
        return known, set()  # every citizen came with the answer, and no household
    statement = pledged_people_statement(
        organization_id=context.principal.organization_id,
        now=dt.datetime.now(dt.UTC),
        citizen_ids=unknown,
        household_ids={h.pk for h in households},
    )
    rows = await context.rows(statement)
    return known | {r.id for r in rows}, {r.household_id for r in rows}


def _unmasked(objects: Iterable[Any], type_name: str) -> list[Any]:
    """The objects of the GraphQL type `type_name` not masked yet.

    Matched by the strawberry definition's name, the name the policy uses, so that this
    layer needs no import of the domains' types (`registry.types.Citizen`, …).
    """
    return [
        o
        for o in objects
        if getattr(getattr(type(o), "__strawberry_definition__", None), "name", None) == type_name
        and not o.access_applied
    ]


async def apply_field_access(context: Context, objects: Iterable[Any]) -> None:
    """Mask the personal fields of every citizen and household in `objects` per policy."""
    objects = list(objects)
    citizens = _unmasked(objects, "Citizen")
    households = _unmasked(objects, "Household")
    if not citizens and not households:
        return
    levels = _levels(context)
    may_elevate = _may_elevate(context, levels)
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
                context.record_personal_read(type_name, obj.pk, by_field)
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
            context.record_personal_read(type_name, obj.pk, shown)
