"""Queries of the registry domain: households and citizens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from hub.pagination import SortKey
from hub.registry.models import Citizen, Household

_citizens = Citizen.__table__
_households = Household.__table__

CITIZEN_ORDER = (SortKey(_citizens.c.id, "id"),)

#: The columns `hub.registry.types.Citizen.from_row` reads, for the statements that only
#: map citizens (the page's people, a household's members, a lookup): 13 of 24, without
#: the provenance, which `Citizen.provenance` reads with its own statement.
CITIZEN_COLUMNS = tuple(
    _citizens.c[name]
    for name in (
        "id",
        "nik",
        "full_name",
        "birth_date",
        "sex",
        "relationship",
        "has_disability",
        "has_chronic_illness",
        "education",
        "occupation",
        "phone",
        "version",
        "household_id",
    )
)
HOUSEHOLD_ORDER = (SortKey(_households.c.id, "id"),)


def _household_filters(
    statement: Select[Any],
    *,
    kecamatan_codes: Sequence[str] | None,
    kelurahan_codes: Sequence[str] | None,
    min_decile: int | None,
    max_decile: int | None,
) -> Select[Any]:
    if kecamatan_codes:
        statement = statement.where(_households.c.kecamatan_code.in_(kecamatan_codes))
    if kelurahan_codes:
        statement = statement.where(_households.c.kelurahan_code.in_(kelurahan_codes))
    if min_decile is not None:
        statement = statement.where(_households.c.welfare_decile >= min_decile)
    if max_decile is not None:
        statement = statement.where(_households.c.welfare_decile <= max_decile)
    return statement


def households_statement(
    *,
    kecamatan_codes: Sequence[str] | None = None,
    kelurahan_codes: Sequence[str] | None = None,
    min_decile: int | None = None,
    max_decile: int | None = None,
) -> Select[Any]:
    """A statement selecting the households that match every given filter."""
    return _household_filters(
        select(_households),
        kecamatan_codes=kecamatan_codes,
        kelurahan_codes=kelurahan_codes,
        min_decile=min_decile,
        max_decile=max_decile,
    )


def citizens_statement(
    *,
    kecamatan_codes: Sequence[str] | None = None,
    kelurahan_codes: Sequence[str] | None = None,
    min_decile: int | None = None,
    max_decile: int | None = None,
    has_disability: bool | None = None,
    has_chronic_illness: bool | None = None,
) -> Select[Any]:
    """A statement selecting the citizens that match every given filter."""
    statement = select(_citizens)
    if kecamatan_codes or kelurahan_codes or min_decile is not None or max_decile is not None:
        statement = _household_filters(
            statement.join(_households, _households.c.id == _citizens.c.household_id),
            kecamatan_codes=kecamatan_codes,
            kelurahan_codes=kelurahan_codes,
            min_decile=min_decile,
            max_decile=max_decile,
        )
    if has_disability is not None:
        statement = statement.where(_citizens.c.has_disability == has_disability)
    if has_chronic_illness is not None:
        statement = statement.where(_citizens.c.has_chronic_illness == has_chronic_illness)
    return statement


#: One citizen by NIK, the NIK bound as `nik` (built once: `hub.graphql.lists.lookup`).
BY_NIK = select(*CITIZEN_COLUMNS).where(_citizens.c.nik == bindparam("nik"))


async def get_citizen_by_nik(
    session: AsyncSession, *, nik: str, within: ColumnElement[bool] | None = None
) -> Row[Any] | None:
    """The citizen row with this NIK (among those `within` selects), or None."""
    statement = select(_citizens).where(_citizens.c.nik == nik)
    if within is not None:
        statement = statement.where(within)
    return (await session.execute(statement)).first()
