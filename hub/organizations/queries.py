"""Reads of the organisations domain: list statements, and the organisation and client records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.organizations.errors import OrganizationError, OrganizationErrorCode
from hub.organizations.models import (
    ROLES,
    Client,
    ClientRole,
    Organization,
    OrganizationArea,
    OrganizationCategory,
)
from hub.pagination import SortKey

_orgs = Organization.__table__
_org_categories = OrganizationCategory.__table__
_org_areas = OrganizationArea.__table__

ORGANIZATION_ORDER = (SortKey(_orgs.c.id, "id"),)


def list_statement(
    *,
    kind: str | None = None,
    status: str | None = None,
    category_code: str | None = None,
    kecamatan_code: str | None = None,
) -> Select[Any]:
    """A statement selecting the organisations that match every given filter."""
    statement = select(_orgs)
    if kind is not None:
        statement = statement.where(_orgs.c.kind == kind)
    if status is not None:
        statement = statement.where(_orgs.c.status == status)
    if category_code is not None:
        statement = statement.where(
            select(_org_categories.c.organization_id)
            .where(
                _org_categories.c.organization_id == _orgs.c.id,
                _org_categories.c.category_code == category_code,
            )
            .exists()
        )
    if kecamatan_code is not None:
        statement = statement.where(
            select(_org_areas.c.organization_id)
            .where(
                _org_areas.c.organization_id == _orgs.c.id,
                _org_areas.c.kecamatan_code == kecamatan_code,
            )
            .exists()
        )
    return statement


def by_code_statement(code: str) -> Select[Any]:
    """A statement selecting the organisation with this code."""
    return select(_orgs).where(_orgs.c.code == code)


# --- reads of the organisation and client records (CLI, mutations, commands) -----------


async def get_organization(session: AsyncSession, *, code: str) -> Organization:
    """The organisation with `code`; raise NOT_FOUND."""
    org = await session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise OrganizationError(OrganizationErrorCode.NOT_FOUND, f"no organisation {code}")
    return org


async def get_all_organizations(
    session: AsyncSession, *, kind: str | None = None, status: str | None = None
) -> Sequence[Organization]:
    """Organisations, optionally of one kind and status, by code."""
    query = select(Organization).order_by(Organization.code)
    if kind is not None:
        query = query.where(Organization.kind == kind)
    if status is not None:
        query = query.where(Organization.status == status)
    return (await session.scalars(query)).all()


@dataclass(frozen=True, slots=True)
class ClientView:
    """A client with its organisation's code and its roles, for listings."""

    client: Client
    organization_code: str
    roles: tuple[str, ...]


async def get_client(session: AsyncSession, *, client_id: str) -> Client:
    """The client with `client_id`; raise NOT_FOUND."""
    client = await session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        raise OrganizationError(OrganizationErrorCode.NOT_FOUND, f"no client {client_id}")
    return client


async def get_all_clients(
    session: AsyncSession,
    *,
    organization_code: str | None = None,
    include_revoked: bool = False,
) -> list[ClientView]:
    """Clients with their organisation's code and roles, by organisation then creation."""
    query = (
        select(Client, Organization.code)
        .join(Organization, Organization.id == Client.organization_id)
        .order_by(Organization.code, Client.id)
    )
    if organization_code is not None:
        query = query.where(Organization.code == organization_code)
    if not include_revoked:
        query = query.where(Client.revoked_at.is_(None))
    rows = (await session.execute(query)).all()
    roles: dict[int, list[str]] = {}
    ids = [client.id for client, _ in rows]
    if ids:
        # One query for every client's roles, not one per client.
        for client_pk, role in await session.execute(
            select(ClientRole.client_id, ClientRole.role).where(ClientRole.client_id.in_(ids))
        ):
            roles.setdefault(client_pk, []).append(role)
    return [
        ClientView(
            client=client,
            organization_code=code,
            roles=tuple(r for r in ROLES if r in roles.get(client.id, [])),
        )
        for client, code in rows
    ]


async def get_client_view(session: AsyncSession, *, client_id: str) -> ClientView:
    """One client with its organisation's code and roles; raise NOT_FOUND."""
    client, org = await client_and_organization(session, client_id)
    return ClientView(
        client=client, organization_code=org.code, roles=await client_roles(session, client)
    )


async def client_and_organization(
    session: AsyncSession, client_id: str
) -> tuple[Client, Organization]:
    """The client and its organisation; raise NOT_FOUND."""
    client = await get_client(session, client_id=client_id)
    org = await session.get_one(Organization, client.organization_id)
    return client, org


async def client_roles(session: AsyncSession, client: Client) -> tuple[str, ...]:
    """The client's roles in canonical order."""
    held = set(
        await session.scalars(select(ClientRole.role).where(ClientRole.client_id == client.id))
    )
    return tuple(role for role in ROLES if role in held)
