"""The hub's side of federation: which types a gateway may reference, and how."""

from __future__ import annotations

from hub.federation.entities import entity
from hub.needs.types import Need
from hub.organizations.types import Organization
from hub.regions.types import Region
from hub.registry.types import Citizen, Household

# Keyed by their global id, like node(id); a citizen also by NIK, the key agencies hold.
entity(Citizen, keys=("id", "nik"))
entity(Household)
entity(Need)
entity(Organization)
entity(Region)
