"""The vocabulary of the policy: roles, purposes, field levels and the personal fields."""

from __future__ import annotations

from enum import Enum

# The clients' roles are the organisations domain's (clients hold them); named here for the
# policy, with the role of a request that carries no token: the policy lets it run only
# what a citizen may do without an account (follow a request by its tracking code).
from hub.organizations.models import ROLES as CLIENT_ROLES

ANONYMOUS = "anonymous"
ROLES = (*CLIENT_ROLES, ANONYMOUS)


class Purpose(Enum):
    """Why personal data is read (UU PDP purpose limitation), sent in `X-Purpose`."""

    SERVICE_DELIVERY = "SERVICE_DELIVERY"
    ELIGIBILITY_CHECK = "ELIGIBILITY_CHECK"
    VERIFICATION = "VERIFICATION"
    AUDIT = "AUDIT"
    CITIZEN_REQUEST = "CITIZEN_REQUEST"


class Level(Enum):
    """How much of a personal field a role sees; ordered from most to least."""

    FULL = "full"
    PLEDGED = "pledged"
    MASKED = "masked"
    NONE = "none"


#: Levels as policy actions, strongest first: the first one allowed wins.
LEVEL_ACTIONS = (
    (Level.FULL, "read:full"),
    (Level.PLEDGED, "read:pledged"),
    (Level.MASKED, "read:masked"),
)

#: Citizen fields agencies provide through connectors (`hub.federation`). Personal like the
#: others (levels, purpose, matrix), but levelled and recorded by their connector's loader,
#: which asks the agency only about the people the caller may see them for.
CONNECTED_FIELDS: dict[str, tuple[str, ...]] = {"Citizen": ("healthCoverage", "schooling")}

#: The fields the field layer governs (GraphQL names). Every other field is not personal.
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "Citizen": ("nik", "fullName", "birthDate", "age", "phone", *CONNECTED_FIELDS["Citizen"]),
    "Household": ("kkNumber", "address", "rt", "rw"),
}

#: Types whose entry points (lists, lookups, node) are narrowed by row rules.
ROW_TYPES = ("Need", "Citizen", "Household", "Contribution", "Organization", "AuditEvent")

#: What the public side may be shown beyond statuses and dates (`p, role, X, disclose`).
DISCLOSURES = ("Tracking.organization",)
