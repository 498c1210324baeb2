"""Organisation and client services: onboarding, roles, secrets at rest, rotation, revocation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.organizations import queries, service
from hub.organizations.errors import OrganizationError, OrganizationErrorCode
from hub.organizations.hashing import SecretHasher
from hub.organizations.models import Client, ClientPreviousSecret
from tests.support.auth import fetch_token
from tests.support.clock import FakeClock


@contextmanager
def refused(code: OrganizationErrorCode, match: str | None = None) -> Iterator[None]:
    """Expect the service to refuse with `code` (and a message matching `match`)."""
    with pytest.raises(OrganizationError, match=match) as caught:
        yield
    assert caught.value.code is code


MakeClient = Callable[..., Awaitable[service.IssuedClient]]
Db = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


async def test_organisations_are_onboarded_pending_then_approved(db: Db) -> None:
    async def work(session: AsyncSession) -> None:
        org = await service.create_organization(
            session, code="lks-0042", kind="LKS", name="Yayasan Peduli", registration_number="R-1"
        )
        assert (org.code, org.status) == ("LKS-0042", "PENDING")
        with refused(OrganizationErrorCode.ALREADY_EXISTS):
            await service.create_organization(session, code="LKS-0042", kind="LKS", name="x")
        with refused(OrganizationErrorCode.ALREADY_EXISTS):
            await service.create_organization(
                session, code="LKS-0043", kind="LKS", name="x", registration_number="R-1"
            )
        with refused(OrganizationErrorCode.INVALID_INPUT):
            await service.create_organization(session, code="LKS 1", kind="LKS", name="x")
        with refused(OrganizationErrorCode.INVALID_INPUT):
            await service.create_organization(session, code="NGO-1", kind="NGO", name="x")
        assert (await service.approve_organization(session, code="LKS-0042")).status == "ACTIVE"
        suspended = await service.suspend_organization(session, code="LKS-0042")
        assert suspended.status == "SUSPENDED"
        lks = await queries.get_all_organizations(session, kind="LKS")
        assert [o.code for o in lks] == ["LKS-0042"]
        with refused(OrganizationErrorCode.NOT_FOUND):
            await queries.get_organization(session, code="NOPE")

    await db(work)


async def test_roles_must_fit_the_organisation(make_client: MakeClient) -> None:
    with refused(OrganizationErrorCode.INVALID_INPUT, match="cannot hold the role lks_partner"):
        await make_client("DINKES", "lks_partner")
    with refused(OrganizationErrorCode.INVALID_INPUT, match="only DINSOS"):
        await make_client("DINKES", "dinsos_admin")
    with refused(OrganizationErrorCode.INVALID_INPUT, match="unknown role"):
        await make_client("DINKES", "superuser")
    with refused(OrganizationErrorCode.INVALID_INPUT, match="at least one role"):
        await make_client("DINKES")
    issued = await make_client("DINSOS", "opd_officer", "dinsos_admin")
    assert issued.roles == ("dinsos_admin", "opd_officer")


async def test_a_private_jwk_is_refused(make_client: MakeClient) -> None:
    from joserfc.jwk import ECKey

    private = dict(ECKey.generate_key("P-256", private=True).as_dict(private=True))
    with refused(OrganizationErrorCode.INVALID_INPUT, match="public key only"):
        await make_client("DINKES", "opd_officer", public_jwk=private)


async def test_secrets_are_stored_only_as_argon2id_hashes(
    make_client: MakeClient, db: Db, http: httpx.AsyncClient
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    assert issued.secret is not None and len(issued.secret) >= 43
    assert issued.secret not in repr(issued)
    assert (await fetch_token(http, issued.client.client_id, issued.secret)).status_code == 200

    async def raw_rows(session: AsyncSession) -> list[str]:
        # Every column of every client row, read raw, as a database dump would show it.
        rows = (await session.execute(text("SELECT * FROM clients"))).all()
        return [str(value) for row in rows for value in row]

    values = await db(raw_rows)
    assert not any(issued.secret in value for value in values)
    stored = next(v for v in values if v.startswith("$argon2"))
    assert stored.startswith("$argon2id$")


def test_the_default_hasher_uses_owasps_argon2id_profile() -> None:
    hasher = SecretHasher()
    digest = hasher.hash_sync("s3cret")
    assert digest.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify_sync(digest, "s3cret")
    assert not hasher.verify_sync(digest, "other")
    assert not hasher.verify_sync("not a hash", "s3cret")


async def test_rotation_overlap_keeps_the_old_secret_for_a_while(
    make_client: MakeClient,
    db: Db,
    http: httpx.AsyncClient,
    hasher: SecretHasher,
    clock: FakeClock,
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    client_id, old = issued.client.client_id, issued.secret
    assert old is not None
    now = clock.now()

    async def rotate(session: AsyncSession) -> service.IssuedClient:
        return await service.rotate_client_secret(
            session, client_id=client_id, overlap=dt.timedelta(hours=1), hasher=hasher, now=now
        )

    rotated = await db(rotate)
    new = rotated.secret
    assert new is not None and new != old
    assert (await fetch_token(http, client_id, new)).status_code == 200
    assert (await fetch_token(http, client_id, old)).status_code == 200
    clock.advance(3601)
    assert (await fetch_token(http, client_id, new)).status_code == 200
    assert (await fetch_token(http, client_id, old)).status_code == 401


async def test_rotation_without_overlap_stops_the_old_secret_at_once(
    make_client: MakeClient, db: Db, http: httpx.AsyncClient, hasher: SecretHasher
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    client_id, old = issued.client.client_id, issued.secret
    assert old is not None
    # Verified once, so the old secret sits in the verified-secret cache.
    assert (await fetch_token(http, client_id, old)).status_code == 200

    async def rotate(session: AsyncSession) -> service.IssuedClient:
        return await service.rotate_client_secret(
            session, client_id=client_id, overlap=dt.timedelta(0), hasher=hasher
        )

    await db(rotate)
    assert (await fetch_token(http, client_id, old)).status_code == 401

    async def previous(session: AsyncSession) -> int:
        return len((await session.scalars(select(ClientPreviousSecret))).all())

    assert await db(previous) == 0


async def test_a_revoked_client_gets_no_token_and_keeps_no_hash(
    make_client: MakeClient, db: Db, http: httpx.AsyncClient
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    assert issued.secret is not None

    async def revoke(session: AsyncSession) -> Client:
        return await service.revoke_client(session, client_id=issued.client.client_id)

    client = await db(revoke)
    assert client.revoked_at is not None and client.secret_hash is None
    response = await fetch_token(http, issued.client.client_id, issued.secret)
    assert response.status_code == 401

    async def listing(session: AsyncSession) -> tuple[int, int]:
        active = await queries.get_all_clients(session, organization_code="DINKES")
        everything = await queries.get_all_clients(
            session, organization_code="DINKES", include_revoked=True
        )
        return len(active), len(everything)

    assert await db(listing) == (0, 1)

    async def rotate(session: AsyncSession) -> None:
        await service.rotate_client_secret(
            session, client_id=issued.client.client_id, overlap=dt.timedelta(0)
        )

    with refused(OrganizationErrorCode.INVALID_STATE):
        await db(rotate)


async def test_roles_are_granted_and_withdrawn(make_client: MakeClient, db: Db) -> None:
    issued = await make_client("DINSOS", "opd_officer")
    client_id = issued.client.client_id

    async def work(session: AsyncSession) -> None:
        roles = await service.grant_role(session, client_id=client_id, role="dinsos_admin")
        assert roles == ("dinsos_admin", "opd_officer")
        with refused(OrganizationErrorCode.INVALID_INPUT):
            await service.grant_role(session, client_id=client_id, role="auditor")
        roles = await service.revoke_role(session, client_id=client_id, role="opd_officer")
        assert roles == ("dinsos_admin",)
        views = await queries.get_all_clients(session, organization_code="DINSOS")
        assert [v.roles for v in views] == [("dinsos_admin",)]

    await db(work)
