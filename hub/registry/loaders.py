"""Batch loaders of the registry domain (households, citizens)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select

from hub.authz.masking import pledged_by_caller_column
from hub.graphql.context import Context
from hub.graphql.loaders import many_each, one_each
from hub.graphql.prefetch import Join, relation
from hub.imports.models import DtksImport
from hub.organizations.models import Client, Organization
from hub.regions.loaders import regions_by_code
from hub.registry.models import Citizen, CitizenHouseholdHistory, Household
from hub.registry.queries import CITIZEN_COLUMNS
from hub.registry.types import Citizen as CitizenType
from hub.registry.types import Household as HouseholdType
from hub.registry.types import HouseholdMembership, Provenance

_citizens = Citizen.__table__
_households = Household.__table__

# Built once: the batch loads key their final statements on these (`hub.graphql.loaders`).
_CITIZENS: Select[Any] = select(*CITIZEN_COLUMNS)
_HOUSEHOLDS: Select[Any] = select(_households)
_MEMBERS: Select[Any] = select(*CITIZEN_COLUMNS).order_by(_citizens.c.birth_date, _citizens.c.id)
#: `select(citizens, pledged_by_caller_column)` by the column (one per organisation, kept
#: by `hub.authz.masking`), by identity: the entry holds the column.
_WITH_PLEDGED: dict[int, tuple[Any, Select[Any]]] = {}

#: Members in KK order: the head first, then spouse, parents, children, others.
_RELATIONSHIP_ORDER = ("HEAD", "SPOUSE", "PARENT", "CHILD", "IN_LAW", "GRANDCHILD", "OTHER")


async def citizens_by_id(context: Context, ids: Sequence[Any]) -> list[CitizenType | None]:
    """Citizens for the given ids, aligned with them.

    When the field layer will ask whether the caller's organisation pledged these people
    (a foundation stating a purpose), the statement answers it too, for each row: the
    masking then needs no query of its own for them.
    """
    return await one_each(
        context,
        citizens_statement(context),
        _citizens.c.id,
        ids,
        CitizenType.from_row,
        rows="Citizen",
    )


def citizens_statement(context: Context) -> Select[Any]:
    """The citizens' columns `citizens_by_id` reads (the same object for the same caller):
    with `pledged_by_caller_column` when the field layer will ask."""
    pledged = pledged_by_caller_column(context)
    if pledged is None:
        return _CITIZENS
    known = _WITH_PLEDGED.get(id(pledged))
    if known is None or known[0] is not pledged:
        if len(_WITH_PLEDGED) >= 4096:
            _WITH_PLEDGED.clear()
        statement: Select[Any] = select(*CITIZEN_COLUMNS, pledged)
        known = _WITH_PLEDGED[id(pledged)] = (pledged, statement)
    return known[1]


async def households_by_id(context: Context, ids: Sequence[Any]) -> list[HouseholdType | None]:
    """Households for the given ids, aligned with them."""
    return await one_each(
        context,
        _HOUSEHOLDS,
        _households.c.id,
        ids,
        HouseholdType.from_row,
        rows="Household",
    )


async def members_by_household(context: Context, ids: Sequence[Any]) -> list[list[CitizenType]]:
    """For each household id, its members, head first, then by birth date."""
    members = await many_each(
        context,
        _MEMBERS,
        _citizens.c.household_id,
        ids,
        CitizenType.from_row,
        # A member outside the caller's reach is not listed (a foundation sees only the
        # people behind the needs it may see, not their families).
        rows="Citizen",
    )
    rank = {r: i for i, r in enumerate(_RELATIONSHIP_ORDER)}
    return [sorted(group, key=lambda c: rank[c.relationship.name]) for group in members]


def _provenance_statement(table: Any) -> Any:
    """A record's provenance columns with its organisation's code and its import's file."""
    organizations, imports, clients = (
        Organization.__table__, DtksImport.__table__, Client.__table__,
    )  # fmt: skip
    return (
        select(
            table.c.id,
            table.c.version,
            table.c.changed_via,
            table.c.updated_at,
            table.c.changed_fields,
            # The API client that made the change, or whoever ran the import.
            func.coalesce(clients.c.client_id, imports.c.ran_by).label("client"),
            table.c.dtks_listed,
            table.c.delisted_on,
            organizations.c.code.label("organization_code"),
            imports.c.file_name.label("import_file"),
            imports.c.sha256.label("import_sha256"),
        )
        .outerjoin(organizations, organizations.c.id == table.c.changed_by_organization_id)
        .outerjoin(imports, imports.c.id == table.c.changed_by_import_id)
        .outerjoin(clients, clients.c.id == table.c.changed_by_client_id)
    )


_CITIZEN_PROVENANCE = _provenance_statement(_citizens)
_HOUSEHOLD_PROVENANCE = _provenance_statement(_households)
_history = CitizenHouseholdHistory.__table__
_HISTORY = select(_history).order_by(_history.c.valid_to.desc(), _history.c.id.desc())


async def citizen_provenance(context: Context, ids: Sequence[Any]) -> list[Provenance | None]:
    """The provenance of each citizen id, aligned with them."""
    return await one_each(
        context,
        _CITIZEN_PROVENANCE,
        _citizens.c.id,
        ids,
        Provenance.from_row,
        rows="Citizen",
    )


async def household_provenance(context: Context, ids: Sequence[Any]) -> list[Provenance | None]:
    """The provenance of each household id, aligned with them."""
    return await one_each(
        context,
        _HOUSEHOLD_PROVENANCE,
        _households.c.id,
        ids,
        Provenance.from_row,
        rows="Household",
    )


async def history_by_citizen(
    context: Context, ids: Sequence[Any]
) -> list[list[HouseholdMembership]]:
    """For each citizen id, the households they left, most recent first."""
    return await many_each(
        context,
        _HISTORY,
        _history.c.citizen_id,
        ids,
        HouseholdMembership.from_row,
        # Dates and relationship of a citizen already reached; the household itself is
        # loaded (and row-filtered) by the household relation.
        rows=None,
    )


relation(
    CitizenType,
    "householdHistory",
    attr="household_history",
    key=lambda c: c.pk,
    load=history_by_citizen,
    many=True,
)
relation(
    HouseholdMembership,
    "household",
    attr="household",
    key=lambda m: m.household_id,
    load=households_by_id,
)
relation(CitizenType, "provenance", attr="provenance", key=lambda c: c.pk, load=citizen_provenance)
relation(
    HouseholdType, "provenance", attr="provenance", key=lambda h: h.pk, load=household_provenance
)
relation(
    CitizenType,
    "household",
    attr="household",
    key=lambda c: c.household_id,
    load=households_by_id,
    # A citizen looked up (by NIK) brings the household in the same statement.
    join=Join(
        parent_key=_citizens.c.household_id,
        statement=lambda _: _HOUSEHOLDS,
        key=_households.c.id,
        rows="Household",
        to_object=HouseholdType.from_row,
    ),
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
