"""Row rules: each name the policy uses becomes a SQL condition on the type's table.

A role's rules for a type are OR-ed; a role with none reaches no records (deny by default).
The conditions are correlated subqueries, so lists, lookups and `node(id)` all filter in
the database, never in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from hub.audit.models import AuditEventRecord
from hub.auth.resource import Principal
from hub.authz.policy import Access
from hub.contributions.models import Contribution
from hub.needs.models import Need, NeedCount, Pledge
from hub.needs.queries import NeedFilters, need_conditions, open_in_service_area
from hub.organizations.models import Organization, OrganizationArea, OrganizationCategory
from hub.registry.models import Citizen, Household

RowRule = Callable[[Principal, Access], ColumnElement[bool]]

_needs = Need.__table__
_pledges = Pledge.__table__
_citizens = Citizen.__table__
_households = Household.__table__
_contributions = Contribution.__table__
_areas = OrganizationArea.__table__
_events = AuditEventRecord.__table__
_categories = OrganizationCategory.__table__
_counts = NeedCount.__table__


def now_parameter() -> BindParameter[dt.datetime]:
    """A bound parameter whose value is the clock read when its statement executes.

    The rules' conditions are built once per caller and kept (`row_filter`); a pledge's
    expiry is still compared with the time of each statement, never with the time a
    condition was first built.
    """
    return bindparam("now", callable_=_utcnow, unique=True)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _everything(_: Principal, __: Access) -> ColumnElement[bool]:
    return true()


def _open_in_service_area(principal: Principal, _: Access) -> ColumnElement[bool]:
    return open_in_service_area(principal.organization_id)


def _pledged_by_own_organization(principal: Principal, _: Access) -> ColumnElement[bool]:
    # A pledge in force, or one the foundation fulfilled. A pledge it released, or that
    # lapsed, no longer reaches the need: once another foundation holds it, its
    # description, holder and history are that foundation's business (the policy grants
    # no rule for a lost need; it stays reachable only if open in the service area again).
    in_force = and_(_pledges.c.status == "ACTIVE", _pledges.c.expires_at > now_parameter())
    return (
        select(_pledges.c.id)
        .where(
            _pledges.c.need_id == _needs.c.id,
            _pledges.c.organization_id == principal.organization_id,
            or_(in_force, _pledges.c.status == "FULFILLED"),
        )
        .exists()
    )


def _citizen_with_visible_need(principal: Principal, access: Access) -> ColumnElement[bool]:
    return (
        select(_needs.c.id)
        .where(_needs.c.citizen_id == _citizens.c.id, row_filter(principal, access, "Need"))
        .exists()
    )


def _household_with_visible_need(principal: Principal, access: Access) -> ColumnElement[bool]:
    return (
        select(_needs.c.id)
        .join(_citizens, _citizens.c.id == _needs.c.citizen_id)
        .where(
            _citizens.c.household_id == _households.c.id,
            row_filter(principal, access, "Need"),
        )
        .exists()
    )


def _own_contribution(principal: Principal, _: Access) -> ColumnElement[bool]:
    return _contributions.c.organization_id == principal.organization_id


def _own_audit_event(principal: Principal, _: Access) -> ColumnElement[bool]:
    return _events.c.organization_code == principal.organization_code


RULES: dict[tuple[str, str], RowRule] = {
    ("Need", "all"): _everything,
    ("Need", "open_in_service_area"): _open_in_service_area,
    ("Need", "pledged_by_own_organization"): _pledged_by_own_organization,
    ("Citizen", "all"): _everything,
    ("Citizen", "with_visible_need"): _citizen_with_visible_need,
    ("Household", "all"): _everything,
    ("Household", "with_visible_need"): _household_with_visible_need,
    ("Contribution", "all"): _everything,
    ("Contribution", "own_organization"): _own_contribution,
    ("Organization", "all"): _everything,
    ("AuditEvent", "all"): _everything,
    ("AuditEvent", "own_organization"): _own_audit_event,
}

#: The table each row type filters, for callers that need to know (tests, node lookups).
TABLES = {
    "Need": _needs,
    "Citizen": _citizens,
    "Household": _households,
    "Contribution": _contributions,
    "Organization": Organization.__table__,
    "AuditEvent": _events,
}


#: Conditions already built, by what they depend on: the type, the caller's organisation
#: and every row rule of its roles (a rule may nest another type's, as a citizen's needs).
#: Building one costs about as much as running its statement's Python (~0.4 ms for a
#: foundation's citizens); a condition is immutable and reads the clock at execution
#: (`now_parameter`), so one built for an earlier request is the same condition.
_BUILT: dict[tuple[Any, ...], ColumnElement[bool]] = {}
_BUILT_MAX = 4096


def row_filter(principal: Principal, access: Access, type_name: str) -> ColumnElement[bool]:
    """The SQL condition selecting the records of `type_name` this caller may reach."""
    names = access.row_rules(type_name)
    if not names:
        return false()
    if "all" in names:
        return true()
    key = (
        type_name,
        principal.organization_id,
        principal.organization_code,
        tuple(access.rows.items()),
    )
    built = _BUILT.get(key)
    if built is None:
        built = or_(*(RULES[(type_name, name)](principal, access) for name in names))
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.clear()  # a policy reloaded many times over: start again
        _BUILT[key] = built
    return built


# --- rules with alternatives, as sets the planner serves with indexes --------------------
#
# `row_filter` OR-s a role's rules, and inside `open_in_service_area` a category OR a PPKS
# type: no index serves an OR, so the planner walks the list's order filtering every row
# (cheap while it finds a page soon, as in a foundation's feed) or, for a count, scans every
# candidate and tests each alternative (seconds at city scale). The same records as one
# `id IN (branch UNION ALL branch ...)`, each branch a plain conjunction on one index (the
# needs of the service area by category, by PPKS type; the foundation's pledges), are
# collected by index range scans instead.


def _service_area_branches(principal: Principal, _: Access) -> list[Select[Any]]:
    org = principal.organization_id
    served = select(_categories.c.category_code).where(_categories.c.organization_id == org)
    areas = select(_areas.c.kecamatan_code).where(_areas.c.organization_id == org)
    in_area = (_needs.c.status == "OPEN", _needs.c.kecamatan_code.in_(areas))
    return [
        select(_needs.c.id).where(*in_area, _needs.c.category_code.in_(served)),
        select(_needs.c.id).where(*in_area, _needs.c.ppks_code.in_(served)),
    ]


def _pledged_branches(principal: Principal, _: Access) -> list[Select[Any]]:
    in_force = and_(_pledges.c.status == "ACTIVE", _pledges.c.expires_at > now_parameter())
    return [
        select(_pledges.c.need_id).where(
            _pledges.c.organization_id == principal.organization_id,
            or_(in_force, _pledges.c.status == "FULFILLED"),
        )
    ]


#: Need rules as the ids they reach, branch by branch (each a conjunction on an index).
_BRANCHES: dict[str, Callable[[Principal, Access], list[Select[Any]]]] = {
    "open_in_service_area": _service_area_branches,
    "pledged_by_own_organization": _pledged_branches,
}


def need_filter_as_sets(principal: Principal, access: Access) -> ColumnElement[bool]:
    """The needs `row_filter(principal, access, "Need")` reaches, as `id IN (UNION ALL of
    index-driven branches)`; `row_filter` itself for rules without branches (`all`, none)."""
    names = access.row_rules("Need")
    if not names or "all" in names or any(name not in _BRANCHES for name in names):
        return row_filter(principal, access, "Need")
    branches = [b for name in names for b in _BRANCHES[name](principal, access)]
    return _needs.c.id.in_(union_all(*branches))


# --- counting under the row rules --------------------------------------------------------
#
# A list's `totalCount` is the number of records its rules reach. Counting them row by row
# reads every reachable need (a foundation's service area holds thousands, an agency's city
# hundreds of thousands); `need_counts` holds the same numbers per cell, exact at every
# commit. A rule is countable on the cells when it is a condition on a cell's key (`all`,
# `open_in_service_area`), and countable exactly when the records it reaches are few by
# nature (`pledged_by_own_organization`: a foundation's own pledges).

#: Need rules as conditions on `need_counts` (the cells of the needs they reach).
_CELL_RULES: dict[str, RowRule] = {
    "all": _everything,
    "open_in_service_area": lambda principal, _: open_in_service_area(
        principal.organization_id, _counts
    ),
}
#: Need rules whose needs are few, counted exactly through their own index.
_FEW_RULES = frozenset({"pledged_by_own_organization"})


def need_count_statement(
    principal: Principal, access: Access, filters: NeedFilters
) -> Select[Any] | None:
    """One row, one column: how many needs match `filters` under the caller's rules.

    Read off `need_counts` (a sum over the rules' cells), plus the needs of the few-record
    rules outside those cells, counted exactly: |cells or few| = |cells| + |few| - |both|.
    None when the counters cannot answer (a filter on a column that is not a cell's key,
    such as kelurahan or organisation, or a rule they do not know): count the rows then.
    """
    names = access.row_rules("Need")
    if not names:
        return select(literal(0))
    if not filters.on_cells_only:
        return None
    if "all" in names:
        return _cells_sum(principal, access, filters, "all")
    cells = [name for name in names if name in _CELL_RULES]
    few = [name for name in names if name in _FEW_RULES]
    if len(cells) > 1 or len(cells) + len(few) != len(names):
        return None
    reached: ColumnElement[Any] = literal(0)
    if cells:
        reached = _cells_sum(principal, access, filters, cells[0]).scalar_subquery()
    if few:
        in_few = or_(*(RULES[("Need", name)](principal, access) for name in few))
        matching = need_conditions(filters)
        counted = select(func.count()).select_from(_needs).where(*matching, in_few)
        reached = reached + counted.scalar_subquery()
        if cells:
            in_cells = RULES[("Need", cells[0])](principal, access)
            both = select(func.count()).select_from(_needs).where(*matching, in_few, in_cells)
            reached = reached - both.scalar_subquery()
    return select(reached)


def _cells_sum(
    principal: Principal, access: Access, filters: NeedFilters, rule: str
) -> Select[Any]:
    return select(func.coalesce(func.sum(_counts.c.n), 0)).where(
        _CELL_RULES[rule](principal, access), *need_conditions(filters, _counts)
    )
