"""The connected fields as `Citizen` declares them: the contract, whichever agency serves it."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from hub.federation.types import HealthCoverage, Schooling

_LEVELS = (
    " Personal: null unless your role sees it in full (per the policy, with a purpose); "
    "null with a CONNECTOR_UNAVAILABLE error naming the connector when it does not answer."
)


async def _health_coverage(root: Any, info: Info[Any, Any]) -> HealthCoverage | None:
    from hub.federation.loaders import connected

    return await connected(info, root.pk, "healthCoverage")  # type: ignore[no-any-return]


async def _schooling(root: Any, info: Info[Any, Any]) -> Schooling | None:
    from hub.federation.loaders import connected

    return await connected(info, root.pk, "schooling")  # type: ignore[no-any-return]


health_coverage: HealthCoverage | None = strawberry.federation.field(
    resolver=_health_coverage,
    shareable=True,
    description="BPJS Kesehatan coverage, from the health agency's (Dinkes) connector." + _LEVELS,
)
schooling: Schooling | None = strawberry.federation.field(
    resolver=_schooling,
    shareable=True,
    description="School enrolment and KIP, from the education agency's (Disdik) connector."
    + _LEVELS,
)
