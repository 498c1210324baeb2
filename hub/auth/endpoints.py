"""The token, revocation and introspection endpoints: authlib's core without blocking.

Each request is handled in three steps:

1. on the event loop: read the form, load from the database every client the request
   names, and for revocation and introspection verify the presented token;
2. in a worker thread, a few at a time: authlib authenticates the client (the Argon2 check
   is the slow part) and runs the grant or endpoint on those in-memory records only;
3. on the event loop: persist what authlib decided (a revoked token, a spent assertion).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from functools import partial
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from hub.auth.directory import ClientStatusCache, load_client_record
from hub.auth.models import RevokedToken, UsedClientAssertion
from hub.auth.server import (
    ASSERTION_TYPE,
    HubAuthorizationServer,
    HubOAuth2Request,
    OAuthClient,
    OAuthResponse,
    PresentedToken,
)
from hub.auth.tokens import AccessTokenClaims, InvalidToken
from hub.organizations.hashing import SecretHasher

#: An OAuth form is a few hundred bytes; refuse to buffer much more.
MAX_FORM_BYTES = 16 * 1024
_PLAIN_NAME = re.compile(r"^[a-z_]{1,40}$")


class BadForm(Exception):
    """The request body is not an acceptable OAuth form."""


async def read_form(request: Request) -> dict[str, str]:
    """The form-encoded body, each parameter once (RFC 6749 §3.2); raise `BadForm`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise BadForm("the body must be application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise BadForm("the body is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise BadForm("the body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # The name is the caller's text: echo it only when it is a plain identifier.
            shown = name if _PLAIN_NAME.match(name) else "a parameter"
            raise BadForm(f"{shown} is repeated")
        form[name] = value
    return form


def _named_clients(headers: Mapping[str, str], form: dict[str, str]) -> set[str]:
    """Every client id the request names: Basic user, form `client_id`, assertion `sub`."""
    names = set()
    basic_user, _ = extract_basic_authorization(headers)
    if basic_user:
        names.add(basic_user)
    if form.get("client_id"):
        names.add(form["client_id"])
    assertion = form.get("client_assertion")
    if assertion and form.get("client_assertion_type") == ASSERTION_TYPE:
        try:
            # Unverified on purpose: it only says which row to load; authlib verifies.
            claims = json.loads(jws.extract_compact(assertion.encode()).payload)
        except (JoseError, UnicodeError, ValueError):
            claims = None
        if isinstance(claims, dict) and isinstance(claims.get("sub"), str):
            names.add(claims["sub"])
    return {name for name in names if len(name) <= 64}


def _error(error: OAuth2Error) -> Response:
    """An OAuth error response."""
    status, body, headers = error()
    return OAuthResponse(status, body, headers).to_starlette()


class OAuthEndpoints:
    """The token, revocation and introspection endpoints over `HubAuthorizationServer`."""

    def __init__(
        self,
        *,
        server: HubAuthorizationServer,
        sessions: async_sessionmaker[AsyncSession],
        hasher: SecretHasher,
        statuses: ClientStatusCache,
        clock: Callable[[], float],
    ) -> None:
        self.server = server
        self.sessions = sessions
        self.hasher = hasher
        self.statuses = statuses
        self.clock = clock

    async def token(self, request: Request) -> Response:
        """POST /oauth/token: the client credentials grant."""
        return await self._handle(request, self.server.create_token_response, with_token=False)

    async def revoke(self, request: Request) -> Response:
        """POST /oauth/revoke: RFC 7009."""
        return await self._handle(request, self._endpoint("revocation"), with_token=True)

    async def introspect(self, request: Request) -> Response:
        """POST /oauth/introspect: RFC 7662."""
        return await self._handle(request, self._endpoint("introspection"), with_token=True)

    async def _handle(
        self,
        request: Request,
        call: Callable[[HubOAuth2Request], OAuthResponse],
        *,
        with_token: bool,
    ) -> Response:
        """Load (step 1), let authlib decide in a thread (step 2), persist (step 3)."""
        try:
            wrapped = await self._wrap(request, with_token=with_token)
        except BadForm as error:
            return _error(InvalidRequestError(description=str(error)))
        except OAuth2Error as error:  # e.g. plain http to a non-loopback address
            return _error(error)
        # authlib checks the secret (Argon2) inside `call`: the hasher's threads run it.
        answer = await self.hasher.run(partial(call, wrapped))
        if answer.status != 200:
            return answer.to_starlette()
        client: OAuthClient = wrapped.client
        if wrapped.spent_assertion is not None and not await self._spend_assertion(
            client.status.pk, *wrapped.spent_assertion
        ):
            # The token just minted is dropped unseen: the assertion was a replay.
            return _error(InvalidClientError(description="the assertion jti was used before"))
        for claims in wrapped.revoked:
            await self._record_revocation(client.status.pk, claims)
            self.statuses.invalidate(claims.client_id)
        return answer.to_starlette()

    def _now(self) -> dt.datetime:
        """The current time, from the injectable clock."""
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    async def _wrap(self, request: Request, *, with_token: bool) -> HubOAuth2Request:
        """Step 1: the request with its named clients (and token) loaded."""
        form = await read_form(request)
        clients: dict[str, OAuthClient] = {}
        async with self.sessions() as session:
            for client_id in sorted(_named_clients(request.headers, form)):
                record = await load_client_record(session, client_id=client_id, now=self._now())
                if record is not None:
                    clients[client_id] = OAuthClient(record, self.hasher)
        presented = await self._verify(form.get("token")) if with_token else None
        return HubOAuth2Request(
            method=request.method,
            uri=str(request.url),
            headers=request.headers,
            form=form,
            clients=clients,
            presented=presented,
        )

    async def _verify(self, token: str | None) -> PresentedToken | None:
        """The presented token if the hub issued it and it has not expired, else None."""
        if not token:
            return None
        try:
            claims = await self.server.tokens.verify_fresh(token)
        except InvalidToken:
            return None
        status = await self.statuses.get(claims.client_id)
        if status is None:
            reason: str | None = "the client no longer exists"
        elif claims.jti in status.revoked_jtis:
            reason = "the token has been revoked"
        else:
            reason = status.inactive_reason
        return PresentedToken(claims, reason)

    def _endpoint(self, name: str) -> Callable[[HubOAuth2Request], OAuthResponse]:
        """A call of authlib's endpoint `name`, for a worker thread."""

        def call(request: HubOAuth2Request) -> OAuthResponse:
            """authlib's answer for `request`."""
            response: OAuthResponse = self.server.create_endpoint_response(name, request)
            return response

        return call

    async def _spend_assertion(self, client_pk: int, jti: str, expires_at: int) -> bool:
        """Record an assertion's `jti` as spent; False when it already was (a replay)."""
        now = self._now()
        try:
            async with self.sessions() as session, session.begin():
                # This client's spent assertions that have expired need no keeping.
                await session.execute(
                    delete(UsedClientAssertion).where(
                        UsedClientAssertion.client_id == client_pk,
                        UsedClientAssertion.expires_at <= now,
                    )
                )
                session.add(
                    UsedClientAssertion(
                        client_id=client_pk,
                        jti=jti,
                        expires_at=dt.datetime.fromtimestamp(expires_at, dt.UTC),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def _record_revocation(self, client_pk: int, claims: AccessTokenClaims) -> None:
        """Keep the token's `jti` as revoked until the token would have expired."""
        now = self._now()
        async with self.sessions() as session, session.begin():
            await session.execute(
                delete(RevokedToken).where(
                    RevokedToken.client_id == client_pk, RevokedToken.expires_at <= now
                )
            )
            known = await session.scalar(
                select(RevokedToken.jti).where(RevokedToken.jti == claims.jti)
            )
            if known is None:
                session.add(
                    RevokedToken(
                        jti=claims.jti,
                        client_id=client_pk,
                        expires_at=dt.datetime.fromtimestamp(claims.expires_at, dt.UTC),
                    )
                )
