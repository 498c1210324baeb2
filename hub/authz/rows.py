"""Row rules: each name the policy uses becomes a SQL condition on the type's table.

A role's rules for a type are OR-ed; a role with none reaches no records (deny by default).
The conditions are correlated subqueries, so lists, lookups and `node(id)` all filter in
the database, never in Python.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, false, or_, select, true

from hub.audit.models import AuditEventRecord
from hub.auth.resource import Principal
from hub.authz.policy import Access
from hub.contributions.models import Contribution
from hub.needs.models import Need, Pledge
from hub.needs.queries import open_in_service_area
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


def _everything(_: Principal, __: Access) -> ColumnElement[bool]:
    return true()


def _open_in_service_area(principal: Principal, _: Access) -> ColumnElement[bool]:
    return open_in_service_area(principal.organization_id)


def _pledged_by_own_organization(principal: Principal, _: Access) -> ColumnElement[bool]:
    return (
        select(_pledges.c.id)
        .where(
            _pledges.c.need_id == _needs.c.id,
            _pledges.c.organization_id == principal.organization_id,
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


def row_filter(principal: Principal, access: Access, type_name: str) -> ColumnElement[bool]:
    """The SQL condition selecting the records of `type_name` this caller may reach."""
    names = access.row_rules(type_name)
    if not names:
        return false()
    if "all" in names:
        return true()
    return or_(*(RULES[(type_name, name)](principal, access) for name in names))
