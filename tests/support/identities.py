"""Test clients, one per role (and a second foundation), created in every seeded template."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from hub.auth.keys import generate_key
from hub.auth.state import AuthState
from hub.contributions.models import Contribution
from hub.db import create_engine, session_factory, transaction
from hub.organizations import service
from hub.organizations.models import Client, Organization

#: who -> (organisation code, or None for the n-th active foundation; role)
TEST_CLIENTS: dict[str, tuple[str | int, str]] = {
    "dinsos_admin": ("DINSOS", "dinsos_admin"),
    "opd_officer": ("DINKES", "opd_officer"),
    "lks_partner": (0, "lks_partner"),
    "lks_partner_b": (1, "lks_partner"),
    "auditor": ("OMBUDSMAN-JABAR", "auditor"),
}


@dataclass(frozen=True, slots=True)
class TestIdentity:
    """A test client and what its token needs."""

    who: str
    client_id: str
    organization_id: int
    organization_code: str
    organization_kind: str
    role: str


async def create_test_clients(database_url: str) -> None:
    """Create the test clients (no secrets: tests mint their tokens directly)."""
    engine = create_engine(database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            # The two busiest active foundations, so that their rows are not empty.
            delivered = (
                select(func.count())
                .where(Contribution.organization_id == Organization.id)
                .scalar_subquery()
            )
            foundations = (
                await session.scalars(
                    select(Organization.code)
                    .where(Organization.kind == "LKS", Organization.status == "ACTIVE")
                    .order_by(delivered.desc(), Organization.id)
                    .limit(2)
                )
            ).all()
            for who, (org, role) in TEST_CLIENTS.items():
                code = foundations[org] if isinstance(org, int) else org
                await service.create_client(
                    session,
                    organization_code=code,
                    roles=[role],
                    name=f"test {who}",
                    # A public key instead of a secret spares the slow hash; tests mint
                    # their tokens directly with the hub's keys.
                    public_jwk=generate_key().as_dict(private=False),
                    with_secret=False,
                )
    finally:
        await engine.dispose()


async def load_identities(database_url: str) -> dict[str, TestIdentity]:
    """The test clients of a database, by who they are."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = (
                await session.execute(
                    select(Client.name, Client.client_id, Organization)
                    .join(Organization, Organization.id == Client.organization_id)
                    .where(Client.name.like("test %"))
                )
            ).all()
    finally:
        await engine.dispose()
    identities = {}
    for name, client_id, org in rows:
        who = name.removeprefix("test ")
        identities[who] = TestIdentity(
            who=who,
            client_id=client_id,
            organization_id=org.id,
            organization_code=org.code,
            organization_kind=org.kind,
            role=TEST_CLIENTS[who][1],
        )
    return identities


def bearer(auth: AuthState, identity: TestIdentity) -> str:
    """An `Authorization` header value for `identity`, signed by `auth`'s keys."""
    minted = auth.tokens.mint(
        client_id=identity.client_id,
        organization_code=identity.organization_code,
        organization_kind=identity.organization_kind,
        roles=[identity.role],
    )
    return f"Bearer {minted.access_token}"
