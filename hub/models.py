"""Imports every domain's tables so that `Base.metadata` is complete (alembic, tests)."""

from hub.audit import models as audit
from hub.auth import models as auth
from hub.authz import models as authz
from hub.contributions import models as contributions
from hub.db import Base
from hub.duplicate_aid import models as duplicate_aid
from hub.needs import models as needs
from hub.organizations import models as organizations
from hub.programs import models as programs
from hub.regions import models as regions
from hub.registry import models as registry

__all__ = [
    "Base",
    "audit",
    "auth",
    "authz",
    "contributions",
    "duplicate_aid",
    "needs",
    "organizations",
    "programs",
    "regions",
    "registry",
]
