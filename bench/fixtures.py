"""Who the benchmark acts as, and the data its scenarios rotate through.

One OAuth2 client per role, named `bench <role>`, created once in the benchmark database and
reused: with a public key and no secret (the harness mints tokens with the run's signing
key, so the slow secret hash never runs). The foundation is chosen from the data, the same
way on every run: the active LKS at the median of open needs in its service area (among
those whose first page is full), so that its feed is neither the emptiest nor the busiest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.keys import generate_key
from hub.db import create_engine, session_factory, transaction
from hub.graphql.relay import to_global_id
from hub.needs.models import Need, Pledge
from hub.organizations import queries, service
from hub.organizations.models import (
    Client,
    Organization,
    OrganizationArea,
    OrganizationCategory,
)
from hub.registry.models import Citizen

#: role -> organisation code (None: the foundation chosen from the data).
ROLE_ORGANIZATIONS: dict[str, str | None] = {
    "lks_partner": None,
    "opd_officer": "DINKES",
    "auditor": "OMBUDSMAN-JABAR",
    "dinsos_admin": "DINSOS",
}
#: How many NIKs the profile and access-report scenarios rotate through.
NIK_SAMPLE = 300
#: How many pledged needs the contribution scenario rotates through, at most.
PLEDGE_SAMPLE = 200
#: A foundation's first page must be full for the feed to measure a page of 50.
FULL_PAGE = 51


@dataclass(frozen=True, slots=True)
class BenchClient:
    """A benchmark client and what its token needs."""

    role: str
    client_id: str
    organization_id: int
    organization_code: str
    organization_kind: str


@dataclass(frozen=True, slots=True)
class PledgedNeed:
    """A need the benchmark foundation holds an active pledge on."""

    need_id: str
    citizen_id: str
    category_code: str


@dataclass(frozen=True, slots=True)
class Fixtures:
    """The clients by role and the parameters the scenarios rotate through."""

    clients: dict[str, BenchClient]
    niks: list[str]
    #: Global ids of people the foundation may see (an open need in its area).
    area_citizen_ids: list[str]
    pledged: list[PledgedNeed]
    #: About the chosen foundation: open needs in its area, kecamatan and categories served.
    foundation: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What the results file records about the fixtures."""
        return {
            "clients": {role: asdict(client) for role, client in self.clients.items()},
            "niks": len(self.niks),
            "pledged_needs": len(self.pledged),
            "contributions_recorded": (
                "against the foundation's pledged needs"
                if self.pledged
                else "without a need: the foundation holds no live pledge"
            ),
            "foundation": self.foundation,
        }


async def _choose_foundation(session: AsyncSession) -> tuple[str, dict[str, Any]]:
    """The active LKS at the median of open needs in its area, and what it serves.

    The count is the row rule `open_in_service_area` of `hub/authz/rows.py`, grouped.
    """
    served_category = (
        exists()
        .where(
            OrganizationCategory.organization_id == Organization.id,
            or_(
                OrganizationCategory.category_code == Need.category_code,
                OrganizationCategory.category_code == Need.ppks_code,
            ),
        )
        .correlate(Organization, Need)
    )
    counts = (
        select(Organization.code, func.count())
        .join(OrganizationArea, OrganizationArea.organization_id == Organization.id)
        .join(
            Need,
            and_(Need.kecamatan_code == OrganizationArea.kecamatan_code, Need.status == "OPEN"),
        )
        .where(Organization.kind == "LKS", Organization.status == "ACTIVE", served_category)
        .group_by(Organization.code)
    )
    rows = [(code, int(n)) for code, n in (await session.execute(counts)).all()]
    if not rows:  # a tiny city: no foundation has an open need in its area
        first = await session.scalar(
            select(Organization.code)
            .where(Organization.kind == "LKS", Organization.status == "ACTIVE")
            .order_by(Organization.id)
            .limit(1)
        )
        if first is None:
            raise RuntimeError("the database holds no active foundation; seed it first")
        rows = [(first, 0)]
    full = sorted((n, code) for code, n in rows if n >= FULL_PAGE) or sorted(
        (n, code) for code, n in rows
    )
    open_needs, code = full[len(full) // 2]
    org = await queries.get_organization(session, code=code)
    areas = await session.scalar(
        select(func.count()).where(OrganizationArea.organization_id == org.id)
    )
    categories = await session.scalar(
        select(func.count()).where(OrganizationCategory.organization_id == org.id)
    )
    return code, {
        "code": code,
        "open_needs_in_area": int(open_needs),
        "kecamatan_served": int(areas or 0),
        "categories_served": int(categories or 0),
        "foundations_with_open_needs_in_area": len(rows),
    }


async def _bench_client(session: AsyncSession, role: str, code: str) -> BenchClient:
    """The `bench <role>` client of organisation `code`, created when missing."""
    org = await queries.get_organization(session, code=code)
    name = f"bench {role}"
    client_id = await session.scalar(
        select(Client.client_id).where(
            Client.organization_id == org.id, Client.name == name, Client.revoked_at.is_(None)
        )
    )
    if client_id is None:
        issued = await service.create_client(
            session,
            organization_code=code,
            roles=[role],
            name=name,
            public_jwk=generate_key().as_dict(private=False),
            with_secret=False,
        )
        client_id = issued.client.client_id
    return BenchClient(
        role=role,
        client_id=client_id,
        organization_id=org.id,
        organization_code=org.code,
        organization_kind=org.kind,
    )


async def _sample_niks(session: AsyncSession, count: int) -> list[str]:
    """NIKs of `count` people with a recorded need, spread evenly over the registry."""
    ids = (
        await session.scalars(select(Need.citizen_id).distinct().order_by(Need.citizen_id))
    ).all()
    if not ids:
        ids = (await session.scalars(select(Citizen.id).order_by(Citizen.id).limit(count))).all()
    step = max(1, len(ids) // count)
    chosen = list(ids[::step][:count])
    niks = await session.scalars(
        select(Citizen.nik).where(Citizen.id.in_(chosen)).order_by(Citizen.id)
    )
    return list(niks)


async def _area_people(session: AsyncSession, org_id: int, count: int) -> list[str]:
    """Global ids of people with an open need in the organisation's categories and area."""
    served_category = exists().where(
        OrganizationCategory.organization_id == org_id,
        or_(
            OrganizationCategory.category_code == Need.category_code,
            OrganizationCategory.category_code == Need.ppks_code,
        ),
    )
    ids = await session.scalars(
        select(Need.citizen_id)
        .distinct()
        .join(
            OrganizationArea,
            and_(
                OrganizationArea.kecamatan_code == Need.kecamatan_code,
                OrganizationArea.organization_id == org_id,
            ),
        )
        .where(Need.status == "OPEN", served_category)
        .order_by(Need.citizen_id)
        .limit(count)
    )
    return [to_global_id("Citizen", citizen_id) for citizen_id in ids]


async def _pledged_needs(session: AsyncSession, org_id: int, count: int) -> list[PledgedNeed]:
    """Needs the organisation holds an active, unexpired pledge on."""
    now = dt.datetime.now(dt.UTC)
    rows = (
        await session.execute(
            select(Need.id, Need.citizen_id, Need.category_code)
            .where(
                Need.status == "PLEDGED",
                exists().where(
                    Pledge.need_id == Need.id,
                    Pledge.organization_id == org_id,
                    Pledge.status == "ACTIVE",
                    Pledge.expires_at > now,
                ),
            )
            .order_by(Need.id)
            .limit(count)
        )
    ).all()
    return [
        PledgedNeed(
            need_id=to_global_id("Need", need_id),
            citizen_id=to_global_id("Citizen", citizen_id),
            category_code=category,
        )
        for need_id, citizen_id, category in rows
    ]


async def prepare_fixtures(url: str) -> Fixtures:
    """Create (or find) the benchmark clients and pick the scenarios' parameters."""
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as session:
            foundation_code, foundation = await _choose_foundation(session)
            clients = {}
            for role, code in ROLE_ORGANIZATIONS.items():
                clients[role] = await _bench_client(session, role, code or foundation_code)
            niks = await _sample_niks(session, NIK_SAMPLE)
            foundation_id = clients["lks_partner"].organization_id
            pledged = await _pledged_needs(session, foundation_id, PLEDGE_SAMPLE)
            area_people = await _area_people(session, foundation_id, PLEDGE_SAMPLE)
    finally:
        await engine.dispose()
    return Fixtures(
        clients=clients,
        niks=niks,
        area_citizen_ids=area_people,
        pledged=pledged,
        foundation=foundation,
    )
