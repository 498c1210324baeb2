"""The identity layer of one hub process, wired together once at start-up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from hub.auth.directory import ClientStatusCache
from hub.auth.endpoints import OAuthEndpoints
from hub.auth.keys import KeyStore, SigningKeys, key_store_from_settings
from hub.auth.resource import BearerAuthenticator, Principal
from hub.auth.server import HubAuthorizationServer
from hub.auth.tokens import AccessTokens
from hub.organizations.hashing import SecretHasher
from hub.settings import AuthSettings, Settings


@dataclass(frozen=True, slots=True)
class AuthState:
    """Everything the auth routes and the bearer check share in one process."""

    settings: AuthSettings
    sessions: async_sessionmaker[AsyncSession]
    keys: SigningKeys
    hasher: SecretHasher
    statuses: ClientStatusCache
    tokens: AccessTokens
    endpoints: OAuthEndpoints
    authenticator: BearerAuthenticator

    @classmethod
    def build(
        cls,
        *,
        settings: AuthSettings,
        sessions: async_sessionmaker[AsyncSession],
        key_store: KeyStore,
        hasher: SecretHasher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> AuthState:
        """Wire the identity layer from its parts; tests pass fakes for store and clock."""
        keys = SigningKeys(key_store, clock=clock)
        hasher = hasher or SecretHasher(
            verified_cache_seconds=settings.verified_secret_cache_seconds
        )
        statuses = ClientStatusCache(sessions, ttl=settings.status_cache_seconds, clock=clock)
        tokens = AccessTokens(
            keys=keys,
            issuer=settings.issuer,
            audience=settings.audience,
            ttl=settings.token_ttl_seconds,
            leeway=settings.leeway_seconds,
            clock=clock,
        )
        server = HubAuthorizationServer(settings=settings, tokens=tokens, clock=clock)
        endpoints = OAuthEndpoints(
            server=server, sessions=sessions, hasher=hasher, statuses=statuses, clock=clock
        )
        authenticator = BearerAuthenticator(tokens=tokens, statuses=statuses)
        return cls(
            settings=settings,
            sessions=sessions,
            keys=keys,
            hasher=hasher,
            statuses=statuses,
            tokens=tokens,
            endpoints=endpoints,
            authenticator=authenticator,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        key_store: KeyStore | None = None,
    ) -> AuthState:
        """The identity layer for a hub process: keys from `key_store` or as the settings say."""
        auth_settings = settings.auth
        store = key_store or key_store_from_settings(
            auth_settings, var_dir=settings.var_dir, production=settings.is_production
        )
        return cls.build(settings=auth_settings, sessions=sessions, key_store=store)

    async def authenticate(self, connection: HTTPConnection) -> Principal:
        """The principal of a request's bearer token; raise `BearerError`."""
        return await self.authenticator(connection)
