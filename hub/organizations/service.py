"""Commands of the organisations domain: onboarding, standing, client credentials, roles.

Plain functions with keyword-only arguments over a session the caller owns: they flush
when they need a generated id, and never commit. Expected failures raise `OrganizationError`
(`hub.organizations.errors`), whose `code` the GraphQL layer and the CLI show.

Secrets are returned once, in clear, inside `IssuedClient`, and stored only as an Argon2id
hash. Nothing here logs them.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import utcnow
from hub.needs.models import NeedCategory
from hub.organizations.errors import OrganizationError, OrganizationErrorCode
from hub.organizations.hashing import SecretHasher, generate_secret
from hub.organizations.models import (
    ORGANIZATION_KINDS,
    ROLES,
    Client,
    ClientPreviousSecret,
    ClientPublicKey,
    ClientRole,
    Organization,
    OrganizationArea,
    OrganizationCategory,
)
from hub.organizations.queries import (
    client_and_organization,
    client_roles,
    get_client,
    get_organization,
)
from hub.regions.models import Region

#: Which kind of organisation may hold each role; `dinsos_admin` only Dinsos itself.
ROLE_KINDS = {
    "dinsos_admin": "OPD",
    "opd_officer": "OPD",
    "lks_partner": "LKS",
    "auditor": "AUDITOR",
}
ADMIN_ORGANIZATION = "DINSOS"
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,23}$")


@cache
def default_hasher() -> SecretHasher:
    """The process-wide secret hasher, created on first use."""
    return SecretHasher()


# --- organisations ------------------------------------------------------------------------


async def create_organization(
    session: AsyncSession,
    *,
    code: str,
    kind: str,
    name: str,
    registration_number: str | None = None,
) -> Organization:
    """A new organisation, pending approval; raise INVALID_INPUT or ALREADY_EXISTS."""
    code = code.strip().upper()
    if not _CODE.match(code):
        raise OrganizationError(
            OrganizationErrorCode.INVALID_INPUT,
            "the code must be 2-24 capital letters, digits or dashes",
        )
    if kind not in ORGANIZATION_KINDS:
        raise OrganizationError(
            OrganizationErrorCode.INVALID_INPUT,
            f"the kind must be one of {', '.join(ORGANIZATION_KINDS)}",
        )
    if not name.strip():
        raise OrganizationError(OrganizationErrorCode.INVALID_INPUT, "the name is required")
    taken = await session.scalar(select(Organization.id).where(Organization.code == code))
    if taken is not None:
        raise OrganizationError(OrganizationErrorCode.ALREADY_EXISTS, f"the code {code} is taken")
    if registration_number is not None:
        taken = await session.scalar(
            select(Organization.id).where(Organization.registration_number == registration_number)
        )
        if taken is not None:
            raise OrganizationError(
                OrganizationErrorCode.ALREADY_EXISTS,
                f"the registration number {registration_number} is taken",
            )
    org = Organization(
        code=code,
        kind=kind,
        name=name.strip(),
        registration_number=registration_number,
        status="PENDING",
    )
    session.add(org)
    await session.flush()  # the caller usually needs the id
    return org


async def set_service_scope(
    session: AsyncSession,
    *,
    code: str,
    category_codes: Sequence[str],
    kecamatan_codes: Sequence[str],
) -> Organization:
    """Replace the need categories and kecamatan an organisation serves; INVALID_INPUT
    names any code the hub does not know."""
    org = await get_organization(session, code=code)
    known_categories = set(
        (
            await session.scalars(
                select(NeedCategory.code).where(NeedCategory.code.in_(category_codes))
            )
        ).all()
    )
    if unknown := sorted(set(category_codes) - known_categories):
        raise OrganizationError(
            OrganizationErrorCode.INVALID_INPUT,
            f"unknown need categories: {', '.join(unknown)} (see needCategories)",
        )
    known_areas = set(
        (
            await session.scalars(
                select(Region.code).where(
                    Region.code.in_(kecamatan_codes), Region.level == "KECAMATAN"
                )
            )
        ).all()
    )
    if unknown := sorted(set(kecamatan_codes) - known_areas):
        raise OrganizationError(
            OrganizationErrorCode.INVALID_INPUT,
            f"unknown kecamatan codes: {', '.join(unknown)} (e.g. 32.73.02)",
        )
    await session.execute(
        delete(OrganizationCategory).where(OrganizationCategory.organization_id == org.id)
    )
    await session.execute(
        delete(OrganizationArea).where(OrganizationArea.organization_id == org.id)
    )
    session.add_all(
        OrganizationCategory(organization_id=org.id, category_code=c)
        for c in sorted(known_categories)
    )
    session.add_all(
        OrganizationArea(organization_id=org.id, kecamatan_code=k) for k in sorted(known_areas)
    )
    await session.flush()
    return org


async def approve_organization(session: AsyncSession, *, code: str) -> Organization:
    """The organisation, now active (from pending or suspended); raise NOT_FOUND."""
    org = await get_organization(session, code=code)
    org.status = "ACTIVE"
    return org


async def suspend_organization(session: AsyncSession, *, code: str) -> Organization:
    """The organisation, now suspended: its clients get no tokens and live ones stop."""
    org = await get_organization(session, code=code)
    org.status = "SUSPENDED"
    return org


# --- clients ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedClient:
    """A client and its secret in clear, which exists only here: show it once."""

    client: Client
    organization_code: str
    roles: tuple[str, ...]
    secret: str | None

    def __repr__(self) -> str:
        return f"IssuedClient(client_id={self.client.client_id!r}, secret=<redacted>)"


def _check_roles(org: Organization, roles: Iterable[str]) -> tuple[str, ...]:
    """The roles in canonical order; raise INVALID_INPUT for one the organisation can't hold."""
    wanted = set(roles)
    for role in wanted:
        if role not in ROLE_KINDS:
            raise OrganizationError(
                OrganizationErrorCode.INVALID_INPUT,
                f"unknown role {role}; roles: {', '.join(ROLES)}",
            )
        if ROLE_KINDS[role] != org.kind:
            raise OrganizationError(
                OrganizationErrorCode.INVALID_INPUT,
                f"a {org.kind} organisation cannot hold the role {role}",
            )
        if role == "dinsos_admin" and org.code != ADMIN_ORGANIZATION:
            raise OrganizationError(
                OrganizationErrorCode.INVALID_INPUT,
                f"only {ADMIN_ORGANIZATION} can hold the role dinsos_admin",
            )
    return tuple(role for role in ROLES if role in wanted)


def _public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """The public JWK, with a `kid`; raise INVALID_INPUT for a private or unusable key."""
    try:
        key = ECKey.import_key(jwk) if jwk.get("kty") == "EC" else RSAKey.import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError):
        raise OrganizationError(
            OrganizationErrorCode.INVALID_INPUT, "the key must be a public EC (P-256) or RSA JWK"
        ) from None
    if key.is_private:
        raise OrganizationError(
            OrganizationErrorCode.INVALID_INPUT,
            "send the public key only; the private key stays with the agency",
        )
    public = dict(key.as_dict(private=False))
    public["kid"] = jwk.get("kid") or key.thumbprint()
    return public


async def create_client(
    session: AsyncSession,
    *,
    organization_code: str,
    roles: Iterable[str],
    name: str | None = None,
    public_jwk: dict[str, Any] | None = None,
    with_secret: bool = True,
    hasher: SecretHasher | None = None,
) -> IssuedClient:
    """A new client with `roles`, a secret (shown once) and/or a public key for JWT auth."""
    org = await get_organization(session, code=organization_code)
    if org.status == "SUSPENDED":
        raise OrganizationError(
            OrganizationErrorCode.INVALID_STATE, f"the organisation {org.code} is suspended"
        )
    checked = _check_roles(org, roles)
    if not checked:
        raise OrganizationError(
            OrganizationErrorCode.INVALID_INPUT, "a client needs at least one role"
        )
    if not with_secret and public_jwk is None:
        raise OrganizationError(
            OrganizationErrorCode.INVALID_INPUT, "a client needs a secret or a public key"
        )
    jwk = _public_jwk(public_jwk) if public_jwk is not None else None
    secret = generate_secret() if with_secret else None
    client = Client(
        client_id=f"{org.code.lower()}-{secrets.token_hex(6)}",
        organization_id=org.id,
        name=(name or f"{org.code} {' '.join(checked)}")[:120],
        secret_hash=await (hasher or default_hasher()).hash(secret) if secret else None,
    )
    session.add(client)
    await session.flush()  # the roles and the key refer to the new id
    session.add_all(ClientRole(client_id=client.id, role=role) for role in checked)
    if jwk is not None:
        session.add(ClientPublicKey(client_id=client.id, kid=jwk["kid"], jwk=jwk))
    await session.flush()
    return IssuedClient(client=client, organization_code=org.code, roles=checked, secret=secret)


async def rotate_client_secret(
    session: AsyncSession,
    *,
    client_id: str,
    overlap: dt.timedelta,
    hasher: SecretHasher | None = None,
    now: dt.datetime | None = None,
) -> IssuedClient:
    """A new secret (shown once); the current one keeps working for `overlap`.

    Give a zero overlap when the secret leaked: the old one then stops at once.
    """
    client, org = await client_and_organization(session, client_id)
    if client.revoked_at is not None:
        raise OrganizationError(
            OrganizationErrorCode.INVALID_STATE, f"the client {client_id} is revoked"
        )
    now = now or utcnow()
    # Former secrets whose overlap is over are of no use any more.
    await session.execute(
        delete(ClientPreviousSecret).where(
            ClientPreviousSecret.client_id == client.id, ClientPreviousSecret.expires_at <= now
        )
    )
    if client.secret_hash is not None and overlap > dt.timedelta(0):
        session.add(
            ClientPreviousSecret(
                client_id=client.id,
                secret_hash=client.secret_hash,
                retired_at=now,
                expires_at=now + overlap,
            )
        )
    secret = generate_secret()
    client.secret_hash = await (hasher or default_hasher()).hash(secret)
    client.rotated_at = now
    await session.flush()
    return IssuedClient(
        client=client,
        organization_code=org.code,
        roles=await client_roles(session, client),
        secret=secret,
    )


async def revoke_client(
    session: AsyncSession, *, client_id: str, now: dt.datetime | None = None
) -> Client:
    """The client, revoked: no new tokens, and its live tokens stop within a minute."""
    client = await get_client(session, client_id=client_id)
    if client.revoked_at is None:
        client.revoked_at = now or utcnow()
        # Its secrets can never be used again, so do not keep even their hashes.
        client.secret_hash = None
        await session.execute(
            delete(ClientPreviousSecret).where(ClientPreviousSecret.client_id == client.id)
        )
    return client


async def add_client_key(
    session: AsyncSession, *, client_id: str, public_jwk: dict[str, Any]
) -> ClientPublicKey:
    """Register another public key for `private_key_jwt` (an agency rotating its key)."""
    client = await get_client(session, client_id=client_id)
    jwk = _public_jwk(public_jwk)
    taken = await session.scalar(
        select(ClientPublicKey.id).where(
            ClientPublicKey.client_id == client.id, ClientPublicKey.kid == jwk["kid"]
        )
    )
    if taken is not None:
        raise OrganizationError(
            OrganizationErrorCode.ALREADY_EXISTS, f"the client already has a key {jwk['kid']}"
        )
    key = ClientPublicKey(client_id=client.id, kid=jwk["kid"], jwk=jwk)
    session.add(key)
    await session.flush()
    return key


async def grant_role(session: AsyncSession, *, client_id: str, role: str) -> tuple[str, ...]:
    """The client's roles after granting `role`; raise INVALID_INPUT if it may not hold it."""
    client, org = await client_and_organization(session, client_id)
    _check_roles(org, [role])
    held = await client_roles(session, client)
    if role not in held:
        session.add(ClientRole(client_id=client.id, role=role))
        await session.flush()
    return tuple(r for r in ROLES if r in {*held, role})


async def revoke_role(session: AsyncSession, *, client_id: str, role: str) -> tuple[str, ...]:
    """The client's roles after withdrawing `role` (live tokens lose it within a minute)."""
    client = await get_client(session, client_id=client_id)
    await session.execute(
        delete(ClientRole).where(ClientRole.client_id == client.id, ClientRole.role == role)
    )
    return await client_roles(session, client)
