"""The vocabulary of the policy: roles, purposes, field levels and the personal fields."""

from __future__ import annotations

from enum import Enum

# The roles are the organisations domain's (clients hold them); named here for the policy.
from hub.organizations.models import ROLES as ROLES


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

#: The fields the field layer governs (GraphQL names). Every other field is not personal.
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "Citizen": ("nik", "fullName", "birthDate", "age", "phone"),
    "Household": ("kkNumber", "address", "rt", "rw"),
}

#: Types whose entry points (lists, lookups, node) are narrowed by row rules.
ROW_TYPES = ("Need", "Citizen", "Household", "Contribution", "Organization", "AuditEvent")
