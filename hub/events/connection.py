"""The websocket side of /graphql: who is connected, and whether they still may be.

graphql-transport-ws sends no headers after the handshake, so the token travels in the
`connection_init` payload (`Authorization: Bearer …`, and `X-Purpose`). Until that message
is accepted the connection's context holds `ANONYMOUS`, whose roles reach nothing. A bad
token closes the socket with 4403 (and is recorded). While connected, the token and the
standing of its client and organisation are checked again every few seconds through the
client status cache, so a revoked client, a suspended organisation or an expired token is
disconnected (4403) within the cache's lifetime and one check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from strawberry.exceptions import ConnectionRejectionError

from hub.auth.resource import BearerError, Principal
from hub.auth.state import AuthState
from hub.auth.tokens import AccessTokenClaims, InvalidToken
from hub.authz.policy import PolicyStore
from hub.events import auditing
from hub.graphql.context import Context

logger = logging.getLogger("hub.events")

#: The principal of a connection that has not (yet) presented a token.
ANONYMOUS = Principal(
    client_id="",
    client_pk=0,
    organization_id=0,
    organization_code="",
    organization_kind="",
    roles=(),
    token_id="",
)
#: The websocket's state key of the task watching the connection's standing.
WATCHDOG = "hub_watchdog"
CLOSE_FORBIDDEN = 4403


def _param(context: Context, name: str) -> str | None:
    params = context.connection_params or {}
    return next((str(v) for k, v in params.items() if k.lower() == name), None)


class Connections:
    """Authenticates `connection_init` and keeps checking the connection's standing."""

    def __init__(self, auth: AuthState, policies: PolicyStore, *, authorization: bool) -> None:
        self.auth = auth
        self.policies = policies
        self.authorization = authorization
        status_ttl = auth.settings.status_cache_seconds
        #: Seconds between checks of a connection's standing.
        self.check_every = min(5.0, max(1.0, status_ttl / 4))

    async def connect(self, context: Context) -> None:
        """Accept the connection as its token's principal; `ConnectionRejectionError` (4403)."""
        scheme, _, token = (_param(context, "authorization") or "").strip().partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise BearerError("connection_init needs Authorization: Bearer <token>")
            # The claims are kept: the standing checks below need no signature check.
            claims = await self.auth.tokens.verify_fresh(token.strip())
            principal = await self.auth.authenticator.principal_of(claims)
        except (BearerError, InvalidToken) as error:
            await self._refused(context, error.description)
            raise ConnectionRejectionError() from None
        await self._become(context, principal)
        websocket = context.websocket
        if websocket is not None:
            task = asyncio.create_task(self._watch(context, claims), name="ws-watchdog")
            setattr(websocket.state, WATCHDOG, task)

    async def _become(self, context: Context, principal: Principal) -> None:
        policy = await self.policies.current()
        context.principal = principal
        context.policy = policy
        context.access = (
            policy.access(principal.roles) if self.authorization else policy.unrestricted()
        )

    async def _watch(self, context: Context, claims: AccessTokenClaims) -> None:
        leeway = self.auth.settings.leeway_seconds
        while True:
            await asyncio.sleep(self.check_every)
            try:
                if time.time() > claims.expires_at + leeway:
                    raise BearerError("the token has expired; connect again with a new one")
                principal = await self.auth.authenticator.principal_of(claims)
            except BearerError as error:
                await self._refused(context, error.description)
                if context.websocket is not None:
                    with contextlib.suppress(Exception):
                        await context.websocket.close(CLOSE_FORBIDDEN, error.description[:120])
                return
            except Exception:  # the database is down: keep the connection, check again
                logger.warning("could not check a connection's standing", exc_info=True)
                continue
            if principal.roles != context.principal.roles:
                await self._become(context, principal)

    async def _refused(self, context: Context, reason: str) -> None:
        event = auditing.connection_event(
            context, decision="DENIED", reason=f"UNAUTHENTICATED: {reason}"
        )
        try:
            await auditing.record(event, context)
        except Exception:
            logger.exception("audit failed for a refused connection (%s)", context.request_id)


async def stop_watching(state: dict[str, object]) -> None:
    """End the standing checks of a closed connection (its scope's state)."""
    task = state.pop(WATCHDOG, None)
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
