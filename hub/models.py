"""Imports every domain's tables so that `Base.metadata` is complete (alembic, tests)."""

from hub.audit import models as audit
from hub.auth import models as auth
from hub.authz import models as authz
from hub.contributions import models as contributions
from hub.db import Base
from hub.duplicate_aid import models as duplicate_aid
from hub.events import models as events
from hub.federation import models as federation
from hub.imports import models as imports
from hub.needs import models as needs
from hub.organizations import models as organizations
from hub.programs import models as programs
from hub.regions import models as regions
from hub.registry import models as registry
from hub.stats import models as stats
from hub.tracking import models as tracking

__all__ = [
    "Base",
    "audit",
    "auth",
    "authz",
    "contributions",
    "duplicate_aid",
    "events",
    "federation",
    "imports",
    "needs",
    "organizations",
    "programs",
    "regions",
    "registry",
    "stats",
    "tracking",
]
