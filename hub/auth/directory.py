"""What the identity layer needs to know about a client, read asynchronously.

The token endpoint loads one `ClientRecord` (credentials included) per request before
authlib's synchronous core runs. Token validation needs far less, far more often: a
`ClientStatus` per client, served from `ClientStatusCache` for at most a minute so that a
revoked client or a suspended organisation loses access within that time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.models import RevokedToken
from hub.organizations.models import (
    Client,
    ClientPreviousSecret,
    ClientPublicKey,
    ClientRole,
    Organization,
)


@dataclass(frozen=True, slots=True)
class ClientStatus:
    """A client's identity and standing, as token validation needs it."""

    pk: int
    client_id: str
    organization_id: int
    organization_code: str
    organization_kind: str
    organization_status: str
    revoked: bool
    roles: frozenset[str]
    #: `jti` of this client's tokens revoked before their expiry.
    revoked_jtis: frozenset[str] = frozenset()

    @property
    def inactive_reason(self) -> str | None:
        """Why this client may not obtain or use tokens, or None when it may."""
        if self.revoked:
            return "the client has been revoked"
        if self.organization_status == "SUSPENDED":
            return f"the organisation {self.organization_code} is suspended"
        if self.organization_status != "ACTIVE":
            return f"the organisation {self.organization_code} is not approved yet"
        return None


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A client with its credentials, as the token endpoint needs it."""

    status: ClientStatus
    #: Argon2 hashes that authenticate this client: the current secret, then previous ones
    #: still inside their rotation overlap.
    secret_hashes: tuple[str, ...]
    #: Public JWKs for `private_key_jwt`.
    public_keys: tuple[dict[str, Any], ...]


async def _status(session: AsyncSession, client_id: str) -> tuple[Client, ClientStatus] | None:
    """The client row and its status without revoked tokens, or None when unknown."""
    row = (
        await session.execute(
            select(Client, Organization)
            .join(Organization, Organization.id == Client.organization_id)
            .where(Client.client_id == client_id)
        )
    ).one_or_none()
    if row is None:
        return None
    client, org = row
    roles = (
        await session.scalars(select(ClientRole.role).where(ClientRole.client_id == client.id))
    ).all()
    status = ClientStatus(
        pk=client.id,
        client_id=client.client_id,
        organization_id=org.id,
        organization_code=org.code,
        organization_kind=org.kind,
        organization_status=org.status,
        revoked=client.revoked_at is not None,
        roles=frozenset(roles),
    )
    return client, status


async def load_client_status(
    session: AsyncSession, *, client_id: str, now: dt.datetime
) -> ClientStatus | None:
    """The client's status with its live revoked tokens, or None when it does not exist."""
    found = await _status(session, client_id)
    if found is None:
        return None
    client, status = found
    revoked = await session.scalars(
        select(RevokedToken.jti).where(
            RevokedToken.client_id == client.id, RevokedToken.expires_at > now
        )
    )
    return replace(status, revoked_jtis=frozenset(revoked.all()))


async def load_client_record(
    session: AsyncSession, *, client_id: str, now: dt.datetime
) -> ClientRecord | None:
    """The client with its usable credentials, or None when it does not exist."""
    found = await _status(session, client_id)
    if found is None:
        return None
    client, status = found
    previous = await session.scalars(
        select(ClientPreviousSecret.secret_hash)
        .where(
            ClientPreviousSecret.client_id == client.id,
            ClientPreviousSecret.expires_at > now,
        )
        .order_by(ClientPreviousSecret.retired_at.desc())
    )
    keys = await session.scalars(
        select(ClientPublicKey.jwk).where(
            ClientPublicKey.client_id == client.id, ClientPublicKey.revoked_at.is_(None)
        )
    )
    current = (client.secret_hash,) if client.secret_hash else ()
    return ClientRecord(
        status=status,
        secret_hashes=current + tuple(previous.all()),
        public_keys=tuple(keys.all()),
    )


class ClientStatusCache:
    """Client statuses for token validation, each kept at most `ttl` seconds.

    Concurrent misses for one client share one database read, so a burst of requests
    after the entry expires costs one query, not one per request.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self._sessions = sessions
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[ClientStatus | None, float]] = {}
        self._loading: dict[str, asyncio.Task[ClientStatus | None]] = {}
        #: Bumped by `invalidate`, so that a read begun before it is not cached after it.
        self._generation = 0

    async def get(self, client_id: str) -> ClientStatus | None:
        """The status of `client_id` (None when unknown), from cache when fresh enough."""
        entry = self._entries.get(client_id)
        if entry is not None and entry[1] > self._clock():
            return entry[0]
        task = self._loading.get(client_id)
        if task is None:
            task = asyncio.ensure_future(self._load(client_id))
            self._loading[client_id] = task
            task.add_done_callback(lambda _: self._loading.pop(client_id, None))
        # Shielded: one cancelled request must not cancel the read others are waiting on.
        return await asyncio.shield(task)

    async def _load(self, client_id: str) -> ClientStatus | None:
        """Read the status and remember it until `ttl` has passed."""
        loaded_at = self._clock()
        generation = self._generation
        async with self._sessions() as session:
            status = await load_client_status(
                session, client_id=client_id, now=dt.datetime.fromtimestamp(loaded_at, dt.UTC)
            )
        if self.ttl > 0 and generation == self._generation:
            self._entries[client_id] = (status, loaded_at + self.ttl)
        return status

    def invalidate(self, client_id: str | None = None) -> None:
        """Forget one client's status, or every status when `client_id` is None."""
        self._generation += 1
        if client_id is None:
            self._entries.clear()
        else:
            self._entries.pop(client_id, None)
