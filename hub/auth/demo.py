"""Ready credentials for the demo: one client per role, each with a token to paste."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.state import AuthState
from hub.organizations import queries, service
from hub.organizations.errors import OrganizationError, OrganizationErrorCode
from hub.organizations.models import Client, Organization

#: role -> the organisation its demo client belongs to (None: the first active LKS).
DEMO_ROLES: tuple[tuple[str, str | None], ...] = (
    ("dinsos_admin", "DINSOS"),
    ("opd_officer", "DINKES"),
    ("lks_partner", None),
    ("auditor", "OMBUDSMAN-JABAR"),
)
DEMO_LKS = "LKS-DEMO"


@dataclass(frozen=True, slots=True)
class DemoCredential:
    """A demo client's credentials and a token ready for an `Authorization` header."""

    role: str
    organization_code: str
    client_id: str
    client_secret: str
    access_token: str
    expires_in: int

    @property
    def authorization(self) -> str:
        """The header line to paste into GraphiQL or curl."""
        return f"Authorization: Bearer {self.access_token}"

    def __repr__(self) -> str:
        return f"DemoCredential(role={self.role!r}, client_id={self.client_id!r}, ...)"


async def _lks_code(session: AsyncSession) -> str:
    """The first active LKS, or the demo LKS, created and approved when missing."""
    code = await session.scalar(
        select(Organization.code)
        .where(Organization.kind == "LKS", Organization.status == "ACTIVE")
        .order_by(Organization.id)
        .limit(1)
    )
    if code is not None:
        return code
    try:
        await queries.get_organization(session, code=DEMO_LKS)
    except OrganizationError as error:
        if error.code is not OrganizationErrorCode.NOT_FOUND:
            raise
        await service.create_organization(
            session, code=DEMO_LKS, kind="LKS", name="LKS Demo Satu Pintu"
        )
    await service.approve_organization(session, code=DEMO_LKS)
    return DEMO_LKS


async def issue_demo_credentials(
    session: AsyncSession, auth: AuthState, *, token_ttl_seconds: int | None = None
) -> list[DemoCredential]:
    """One demo client per role (created, or its secret renewed) with a fresh token each.

    The demo clients are named `demo <role>`; running this again replaces their secrets at
    once (no overlap), since a secret cannot be shown a second time. A demo may want tokens
    that outlive the usual 15 minutes: pass `token_ttl_seconds`.
    """
    credentials = []
    for role, fixed_code in DEMO_ROLES:
        code = fixed_code or await _lks_code(session)
        org = await queries.get_organization(session, code=code)
        name = f"demo {role}"
        existing = await session.scalar(
            select(Client.client_id).where(
                Client.organization_id == org.id,
                Client.name == name,
                Client.revoked_at.is_(None),
            )
        )
        if existing is None:
            issued = await service.create_client(
                session, organization_code=code, roles=[role], name=name, hasher=auth.hasher
            )
        else:
            issued = await service.rotate_client_secret(
                session, client_id=existing, overlap=dt.timedelta(0), hasher=auth.hasher
            )
        assert issued.secret is not None  # both paths issue a secret
        minted = auth.tokens.mint(
            client_id=issued.client.client_id,
            organization_code=org.code,
            organization_kind=org.kind,
            roles=[role],
            ttl=token_ttl_seconds,
        )
        credentials.append(
            DemoCredential(
                role=role,
                organization_code=org.code,
                client_id=issued.client.client_id,
                client_secret=issued.secret,
                access_token=minted.access_token,
                expires_in=minted.expires_in,
            )
        )
    return credentials
