"""Ready credentials for the demo: one client per role, each with a token to paste.

The secrets are kept between runs in a file of the demo's own (0600, under `var/`), so that
running the demo again does not break a client set up with the secret it printed before;
a secret is renewed only when that file does not hold it, and the credential says so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.state import AuthState
from hub.authz.catalog import Purpose
from hub.authz.policy import load_policy, policy_dir
from hub.needs.models import Need
from hub.organizations import queries, service
from hub.organizations.errors import OrganizationError, OrganizationErrorCode
from hub.organizations.models import Client, Organization, OrganizationArea, OrganizationCategory

#: role -> the organisation its demo client belongs to (None: the demo foundation).
DEMO_ROLES: tuple[tuple[str, str | None], ...] = (
    ("dinsos_admin", "DINSOS"),
    ("opd_officer", "DINKES"),
    ("lks_partner", None),  # FOUNDATION_ROLE
    ("auditor", "OMBUDSMAN-JABAR"),
)
DEMO_LKS = "LKS-DEMO"
#: The role whose demo client acts for the demo foundation.
FOUNDATION_ROLE = "lks_partner"
#: Where the demo keeps the secrets it printed, under the hub's `var/` folder.
SECRETS_FILE = "demo-clients.json"

#: `new`: a client made now; `kept`: the secret printed last time; `renewed`: a new secret,
#: the one printed before no longer works.
SecretStatus = Literal["new", "kept", "renewed"]


@dataclass(frozen=True, slots=True)
class DemoFoundation:
    """The foundation the demo acts as, and the kecamatan where it has the most to see."""

    code: str
    #: None when no foundation has an open need it may see (an empty registry).
    kecamatan_code: str | None
    open_needs: int


@dataclass(frozen=True, slots=True)
class DemoCredential:
    """A demo client's credentials and a token ready for an `Authorization` header."""

    role: str
    organization_code: str
    client_id: str
    client_secret: str
    secret_status: SecretStatus
    access_token: str
    expires_in: int
    #: The purpose the policy lets this role state, for the `X-Purpose` header.
    purpose: str

    @property
    def authorization(self) -> str:
        """The header line to paste into curl."""
        return f"Authorization: Bearer {self.access_token}"

    @property
    def graphiql_headers(self) -> str:
        """The JSON object to paste into GraphiQL's Headers tab."""
        return json.dumps(
            {"Authorization": f"Bearer {self.access_token}", "X-Purpose": self.purpose}
        )

    def __repr__(self) -> str:
        return f"DemoCredential(role={self.role!r}, client_id={self.client_id!r}, ...)"


def demo_purpose(role: str) -> str:
    """A purpose the policy lets `role` state: SERVICE_DELIVERY where allowed, else the first."""
    allowed = load_policy(policy_dir(), ()).access([role]).purposes
    if Purpose.SERVICE_DELIVERY in allowed:
        return Purpose.SERVICE_DELIVERY.value
    for purpose in Purpose:  # the catalogue's order, so the choice is stable
        if purpose in allowed:
            return purpose.value
    raise LookupError(f"the policy lets {role} state no purpose")


async def _busiest(session: AsyncSession, organization_id: int | None) -> DemoFoundation | None:
    """The (active foundation, kecamatan) with the most open needs it may see, or None.

    The same rule as the policy's `open_in_service_area`: an open need in a kecamatan the
    foundation serves, of a category or PPKS type it serves. Ties go to the first one made.
    """
    served = (
        select(OrganizationCategory.category_code)
        .where(OrganizationCategory.organization_id == Organization.id)
        .correlate(Organization)
    )
    count = func.count(Need.id).label("open_needs")
    statement = (
        select(Organization.code, Need.kecamatan_code, count)
        .join(OrganizationArea, OrganizationArea.organization_id == Organization.id)
        .join(Need, Need.kecamatan_code == OrganizationArea.kecamatan_code)
        .where(
            Organization.kind == "LKS",
            Organization.status == "ACTIVE",
            Need.status == "OPEN",
            or_(Need.category_code.in_(served), Need.ppks_code.in_(served)),
        )
        .group_by(Organization.id, Organization.code, Need.kecamatan_code)
        .order_by(count.desc(), Organization.id, Need.kecamatan_code)
        .limit(1)
    )
    if organization_id is not None:
        statement = statement.where(Organization.id == organization_id)
    row = (await session.execute(statement)).first()
    return None if row is None else DemoFoundation(row.code, row.kecamatan_code, row.open_needs)


async def demo_foundation(session: AsyncSession) -> DemoFoundation:
    """The foundation the demo acts as, and the kecamatan where it has the most to see.

    The one an earlier run chose while it still has open needs to see (so that a re-run
    keeps its client); else the active foundation with the most open needs it may see in
    one kecamatan; else the first active foundation; else the demo foundation, created.
    """
    earlier = await session.scalar(
        select(Client.organization_id)
        .join(Organization, Organization.id == Client.organization_id)
        .where(
            Client.name == f"demo {FOUNDATION_ROLE}",
            Client.revoked_at.is_(None),
            Organization.kind == "LKS",
        )
        .order_by(Client.id.desc())
        .limit(1)
    )
    chosen = await _busiest(session, earlier) if earlier is not None else None
    chosen = chosen or await _busiest(session, None)
    if chosen is not None:
        return chosen
    code = await session.scalar(
        select(Organization.code)
        .where(Organization.kind == "LKS", Organization.status == "ACTIVE")
        .order_by(Organization.id)
        .limit(1)
    )
    if code is None:
        try:
            await queries.get_organization(session, code=DEMO_LKS)
        except OrganizationError as error:
            if error.code is not OrganizationErrorCode.NOT_FOUND:
                raise
            await service.create_organization(
                session, code=DEMO_LKS, kind="LKS", name="LKS Demo Satu Pintu"
            )
        await service.approve_organization(session, code=DEMO_LKS)
        code = DEMO_LKS
    return DemoFoundation(code, None, 0)


def load_demo_secrets(path: Path) -> dict[str, str]:
    """The secrets the demo printed last time (client id -> secret); none if no file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_demo_secrets(path: Path, credentials: list[DemoCredential]) -> None:
    """Keep the printed secrets for the next run, readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_suffix(".tmp")
    staged.unlink(missing_ok=True)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({c.client_id: c.client_secret for c in credentials}, out, indent=2)
    os.replace(staged, path)


async def issue_demo_credentials(
    session: AsyncSession,
    auth: AuthState,
    *,
    token_ttl_seconds: int | None = None,
    known_secrets: Mapping[str, str] | None = None,
    foundation: DemoFoundation | None = None,
) -> list[DemoCredential]:
    """One demo client per role (created, or kept) with a fresh token each.

    The demo clients are named `demo <role>`. An existing one keeps its secret when
    `known_secrets` holds it (and it still verifies); otherwise its secret is renewed at
    once (no overlap), since a secret cannot be shown a second time, and the credential's
    `secret_status` says `renewed`. A demo may want tokens that outlive the usual 15
    minutes: pass `token_ttl_seconds`.
    """
    known = known_secrets or {}
    credentials = []
    for role, fixed_code in DEMO_ROLES:
        code = fixed_code or (foundation or await demo_foundation(session)).code
        org = await queries.get_organization(session, code=code)
        name = f"demo {role}"
        existing = await session.scalar(
            select(Client).where(
                Client.organization_id == org.id,
                Client.name == name,
                Client.revoked_at.is_(None),
            )
        )
        status: SecretStatus
        secret = known.get(existing.client_id) if existing is not None else None
        if existing is not None and secret is not None and existing.secret_hash is not None:
            kept = await auth.hasher.verify(existing.secret_hash, secret)
        else:
            kept = False
        if existing is not None and kept:
            assert secret is not None
            client_id, status = existing.client_id, "kept"
        else:
            if existing is None:
                issued = await service.create_client(
                    session, organization_code=code, roles=[role], name=name, hasher=auth.hasher
                )
                status = "new"
            else:
                issued = await service.rotate_client_secret(
                    session,
                    client_id=existing.client_id,
                    overlap=dt.timedelta(0),
                    hasher=auth.hasher,
                )
                status = "renewed"
            assert issued.secret is not None  # both paths issue a secret
            client_id, secret = issued.client.client_id, issued.secret
        minted = auth.tokens.mint(
            client_id=client_id,
            organization_code=org.code,
            organization_kind=org.kind,
            roles=[role],
            ttl=token_ttl_seconds,
        )
        credentials.append(
            DemoCredential(
                role=role,
                organization_code=org.code,
                client_id=client_id,
                client_secret=secret,
                secret_status=status,
                access_token=minted.access_token,
                expires_in=minted.expires_in,
                purpose=demo_purpose(role),
            )
        )
    return credentials
