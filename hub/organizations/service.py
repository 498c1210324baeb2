"""Commands of the organisations domain: onboarding, standing, client credentials, roles.

Plain functions with keyword-only arguments over a session the caller owns: they flush
when they need a generated id, and never commit. Expected failures raise `OrganizationError`
(`hub.organizations.errors`), whose `code` the GraphQL layer and the CLI show.

Secrets are returned once, in clear, inside `IssuedClient`, and stored only as an Argon2id
hash. Nothing here logs them.
"""

from __future__ import annotations

import csv
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


# --- importing Dinsos's list ----------------------------------------------------------------

#: The columns of an organisation list (`partners/registry/*.csv`); the first three required.
IMPORT_COLUMNS = (
    "code", "kind", "name", "registration_number", "categories", "kecamatan", "contact",
)  # fmt: skip
_REQUIRED_COLUMNS = ("code", "kind", "name")
_LIST_SEPARATOR = re.compile(r"[;\s]+")


@dataclass(frozen=True, slots=True)
class OrganizationRow:
    """One organisation of an imported list, as written on line `line`.

    `contact` is checked and reported but not stored: the hub keeps no contact field yet,
    and Dinsos's own list stays where people look for it.
    """

    line: int
    code: str
    kind: str
    name: str
    registration_number: str | None
    categories: tuple[str, ...]
    kecamatan: tuple[str, ...]
    contact: str


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Why one line of a list cannot be imported."""

    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.code}: {self.message}"


class ImportRefused(OrganizationError):
    """The list has problems (every one named with its line); nothing was imported."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(
            OrganizationErrorCode.INVALID_INPUT,
            f"nothing was imported; {len(self.problems)} problem(s):\n{lines}",
        )


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The codes an import created, updated (name, registration or scope) and left alone."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


def parse_organization_rows(text: str) -> list[OrganizationRow]:
    """The rows of a CSV list (lines starting with `#` are comments); raise `ImportRefused`
    naming every malformed line: bad header, missing or malformed value, duplicate row."""
    # Comments become blank lines, which csv skips, so that line numbers stay the file's.
    lines = ["\n" if line.lstrip().startswith("#") else line for line in text.splitlines(True)]
    reader = csv.reader(lines)
    problems: list[ImportProblem] = []
    header: list[str] | None = None
    rows: list[OrganizationRow] = []
    seen_codes: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        if header is None:
            header = [value.strip().lower() for value in values]
            unknown = [name for name in header if name not in IMPORT_COLUMNS]
            missing = [name for name in _REQUIRED_COLUMNS if name not in header]
            if unknown or missing or len(set(header)) != len(header):
                raise ImportRefused(
                    [
                        ImportProblem(
                            line,
                            "INVALID_HEADER",
                            f"the header must name columns among {', '.join(IMPORT_COLUMNS)}, "
                            f"each once, with {', '.join(_REQUIRED_COLUMNS)} required"
                            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                            + (f"; missing: {', '.join(missing)}" if missing else ""),
                        )
                    ]
                )
            continue
        if len(values) != len(header):
            problems.append(
                ImportProblem(
                    line, "INVALID_INPUT", f"{len(values)} values for {len(header)} columns"
                )
            )
            continue
        field = {name: value.strip() for name, value in zip(header, values, strict=True)}
        row = OrganizationRow(
            line=line,
            code=field["code"].upper(),
            kind=field["kind"].upper(),
            name=field["name"],
            registration_number=field.get("registration_number") or None,
            categories=tuple(c for c in _LIST_SEPARATOR.split(field.get("categories", "")) if c),
            kecamatan=tuple(k for k in _LIST_SEPARATOR.split(field.get("kecamatan", "")) if k),
            contact=field.get("contact", ""),
        )
        problems.extend(_row_problems(row))
        if row.code in seen_codes:
            problems.append(
                ImportProblem(
                    line, "DUPLICATE_ROW", f"{row.code} is already on line {seen_codes[row.code]}"
                )
            )
        seen_codes.setdefault(row.code, line)
        if row.registration_number is not None:
            if row.registration_number in seen_numbers:
                problems.append(
                    ImportProblem(
                        line,
                        "DUPLICATE_ROW",
                        f"the registration number {row.registration_number} is already on "
                        f"line {seen_numbers[row.registration_number]}",
                    )
                )
            seen_numbers.setdefault(row.registration_number, line)
        rows.append(row)
    if header is None:
        problems.append(ImportProblem(1, "INVALID_HEADER", "the file is empty; expected a header"))
    if problems:
        raise ImportRefused(problems)
    return rows


def _row_problems(row: OrganizationRow) -> list[ImportProblem]:
    """What is wrong with one row on its own (the database is checked later)."""
    found = []
    if not _CODE.match(row.code):
        found.append(f"the code {row.code!r} must be 2-24 capital letters, digits or dashes")
    if row.kind not in ORGANIZATION_KINDS:
        found.append(f"the kind {row.kind!r} must be one of {', '.join(ORGANIZATION_KINDS)}")
    if not row.name or len(row.name) > 160:
        found.append("the name is required, at most 160 characters")
    if row.registration_number is not None and len(row.registration_number) > 60:
        found.append("the registration number may have at most 60 characters")
    if len(row.contact) > 200:
        found.append("the contact may have at most 200 characters")
    return [ImportProblem(row.line, "INVALID_INPUT", message) for message in found]


async def import_organizations(
    session: AsyncSession, *, rows: Sequence[OrganizationRow], approve: bool = False
) -> ImportResult:
    """Create or bring up to date the organisations of a list; raise `ImportRefused`
    naming every row the database refuses (unknown category or kecamatan, a registration
    number another organisation holds, a changed kind), having written nothing.

    New organisations are PENDING unless `approve`; the status of existing ones is never
    changed (a suspended foundation stays suspended). An organisation whose name,
    registration number, categories and kecamatan already match is left untouched, so a
    second import of the same list changes nothing.
    """
    codes = [row.code for row in rows]
    existing = {
        org.code: org
        for org in await session.scalars(select(Organization).where(Organization.code.in_(codes)))
    }
    numbers = [row.registration_number for row in rows if row.registration_number]
    number_holders: dict[str | None, str] = {
        number: code
        for number, code in await session.execute(
            select(Organization.registration_number, Organization.code).where(
                Organization.registration_number.in_(numbers)
            )
        )
    }
    known_categories = set(await session.scalars(select(NeedCategory.code)))
    known_kecamatan = set(
        await session.scalars(select(Region.code).where(Region.level == "KECAMATAN"))
    )
    problems: list[ImportProblem] = []
    for row in rows:
        if unknown := sorted(set(row.categories) - known_categories):
            problems.append(
                ImportProblem(
                    row.line,
                    "UNKNOWN_CATEGORY",
                    f"unknown need categories {', '.join(unknown)} (see needCategories, "
                    "e.g. FOOD, HEALTH, PPKS_LANSIA_TERLANTAR)",
                )
            )
        if unknown := sorted(set(row.kecamatan) - known_kecamatan):
            problems.append(
                ImportProblem(
                    row.line,
                    "UNKNOWN_KECAMATAN",
                    f"unknown kecamatan codes {', '.join(unknown)} (Kemendagri codes, "
                    "e.g. 32.73.12 for Batununggal)",
                )
            )
        holder = number_holders.get(row.registration_number or "")
        if holder is not None and holder != row.code:
            problems.append(
                ImportProblem(
                    row.line,
                    "ALREADY_EXISTS",
                    f"the registration number {row.registration_number} belongs to {holder}",
                )
            )
        org = existing.get(row.code)
        if org is not None and org.kind != row.kind:
            problems.append(
                ImportProblem(
                    row.line,
                    "INVALID_STATE",
                    f"{row.code} is registered as {org.kind}; its kind cannot become {row.kind}",
                )
            )
    if problems:
        raise ImportRefused(problems)

    scope = await _service_scopes(session, [org.id for org in existing.values()])
    created, updated, unchanged = [], [], []
    for row in rows:
        wanted = (frozenset(row.categories), frozenset(row.kecamatan))
        org = existing.get(row.code)
        if org is None:
            org = Organization(
                code=row.code,
                kind=row.kind,
                name=row.name,
                registration_number=row.registration_number,
                status="ACTIVE" if approve else "PENDING",
            )
            session.add(org)
            await session.flush()  # the scope rows refer to the new id
            created.append(row.code)
        elif (org.name, org.registration_number) == (
            row.name,
            row.registration_number,
        ) and scope.get(org.id, (frozenset(), frozenset())) == wanted:
            unchanged.append(row.code)
            continue
        else:
            org.name, org.registration_number = row.name, row.registration_number
            await session.execute(
                delete(OrganizationCategory).where(OrganizationCategory.organization_id == org.id)
            )
            await session.execute(
                delete(OrganizationArea).where(OrganizationArea.organization_id == org.id)
            )
            updated.append(row.code)
        session.add_all(
            OrganizationCategory(organization_id=org.id, category_code=c) for c in sorted(wanted[0])
        )
        session.add_all(
            OrganizationArea(organization_id=org.id, kecamatan_code=k) for k in sorted(wanted[1])
        )
    await session.flush()
    return ImportResult(tuple(created), tuple(updated), tuple(unchanged))


async def _service_scopes(
    session: AsyncSession, organization_ids: Sequence[int]
) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """Each organisation's (categories, kecamatan), in two queries for all of them."""
    categories: dict[int, set[str]] = {}
    areas: dict[int, set[str]] = {}
    if organization_ids:
        for org_id, code in await session.execute(
            select(OrganizationCategory.organization_id, OrganizationCategory.category_code).where(
                OrganizationCategory.organization_id.in_(organization_ids)
            )
        ):
            categories.setdefault(org_id, set()).add(code)
        for org_id, code in await session.execute(
            select(OrganizationArea.organization_id, OrganizationArea.kecamatan_code).where(
                OrganizationArea.organization_id.in_(organization_ids)
            )
        ):
            areas.setdefault(org_id, set()).add(code)
    return {
        org_id: (frozenset(categories.get(org_id, ())), frozenset(areas.get(org_id, ())))
        for org_id in organization_ids
    }
