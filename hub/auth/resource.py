"""The resource side: bearer tokens (RFC 6750) in front of protected endpoints.

`BearerAuthenticator` turns an `Authorization` header into a `Principal` or raises
`BearerError`, whose `response()` is the RFC 6750 §3 answer: 401, a `WWW-Authenticate`
challenge saying what was wrong, and a GraphQL-shaped JSON body saying it again.
`BearerAuthMiddleware` applies it to chosen paths of an ASGI app.

A valid signature is not enough: the client and its organisation must still be in good
standing, read through `ClientStatusCache`, so a revocation or suspension takes effect
within the cache's lifetime (at most a minute) even for tokens already issued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.auth.directory import ClientStatusCache
from hub.auth.tokens import AccessTokenClaims, AccessTokens, InvalidToken

REALM = "satu-pintu-hub"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the client, its organisation and the roles its token carries."""

    client_id: str
    #: `clients.id`, for foreign keys (audit events, pledges).
    client_pk: int
    organization_id: int
    organization_code: str
    organization_kind: str
    #: The token's roles that the client still holds.
    roles: tuple[str, ...]
    #: The token's `jti`, for the audit trail.
    token_id: str


#: Who a request without any `Authorization` header is, where anonymous use is allowed: a
#: role of its own and no organisation, so the policy decides what it may run (only
#: `Query.trackRequest`) and no row rule reaches anything for it.
ANONYMOUS = Principal(
    client_id="anonymous",
    client_pk=0,
    organization_id=0,
    organization_code="",
    organization_kind="",
    roles=("anonymous",),
    token_id="",
)


class BearerError(Exception):
    """A request without a usable bearer token; `response()` is what to send back."""

    def __init__(self, description: str, *, error: str | None = "invalid_token") -> None:
        super().__init__(description)
        self.description = description
        #: None when no token was presented at all: RFC 6750 §3.1 says give no error code.
        self.error = error

    def www_authenticate(self) -> str:
        """The `WWW-Authenticate` challenge (descriptions never contain quotes)."""
        if self.error is None:
            return f'Bearer realm="{REALM}"'
        return (
            f'Bearer realm="{REALM}", error="{self.error}", error_description="{self.description}"'
        )

    def response(self) -> Response:
        """401 with the challenge and a JSON body a GraphQL client can show."""
        extensions = {"code": "UNAUTHENTICATED"}
        if self.error is not None:
            extensions["error"] = self.error
        return JSONResponse(
            {"errors": [{"message": self.description, "extensions": extensions}]},
            status_code=401,
            headers={"WWW-Authenticate": self.www_authenticate(), "Cache-Control": "no-store"},
        )


class BearerAuthenticator:
    """Validates bearer tokens: signature and claims, then the client's standing."""

    def __init__(self, *, tokens: AccessTokens, statuses: ClientStatusCache) -> None:
        self.tokens = tokens
        self.statuses = statuses

    async def __call__(self, connection: HTTPConnection) -> Principal:
        """The principal of a request or websocket; raise `BearerError`."""
        return await self.authenticate_header(connection.headers.get("authorization"))

    async def authenticate_header(self, authorization: str | None) -> Principal:
        """The principal named by an `Authorization` header value; raise `BearerError`."""
        if not authorization:
            raise BearerError("a bearer token is required", error=None)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise BearerError("a bearer token is required (Authorization: Bearer ...)", error=None)
        token = token.strip()
        if not token:
            raise BearerError("the token is malformed (empty)")
        return await self.authenticate_token(token)

    async def authenticate_token(self, token: str) -> Principal:
        """The principal of a raw access token; raise `BearerError`."""
        return await self.principal_of(await self._verify(token))

    async def principal_of(self, claims: AccessTokenClaims) -> Principal:
        """The principal of verified claims while the client stands; raise `BearerError`.

        A long-lived connection (a subscription) verifies its token once and calls this
        again now and then: a status-cache lookup, not a signature check.
        """
        status = await self.statuses.get(claims.client_id)
        if status is None:
            raise BearerError("the client no longer exists")
        reason = status.inactive_reason
        if reason is not None:
            raise BearerError(reason)
        if claims.jti in status.revoked_jtis:
            raise BearerError("the token has been revoked")
        return Principal(
            client_id=status.client_id,
            client_pk=status.pk,
            organization_id=status.organization_id,
            organization_code=status.organization_code,
            organization_kind=status.organization_kind,
            # A role withdrawn from the client leaves its live tokens with the cache.
            roles=tuple(role for role in claims.roles if role in status.roles),
            token_id=claims.jti,
        )

    async def _verify(self, token: str) -> AccessTokenClaims:
        """Signature and claims; raise `BearerError` saying what is wrong."""
        try:
            return await self.tokens.verify_fresh(token)
        except InvalidToken as error:
            raise BearerError(error.description) from None


def graphql_api(scope: Scope) -> bool:
    """The default of what needs a token: `/graphql` over HTTP, except the GraphiQL page.

    A browser loading GraphiQL (a GET asking for HTML) carries no token; the queries that
    page then sends do. Whether GraphiQL is served at all is the application's choice.
    """
    path: str = scope["path"]
    if path != "/graphql" and not path.startswith("/graphql/"):
        return False
    if scope["method"] == "GET":
        return "text/html" not in Headers(scope=scope).get("accept", "")
    return True


class BearerAuthMiddleware:
    """Requires a valid bearer token on the HTTP requests `protect` selects.

    The principal is put in the request state (`request.state.principal`); other requests,
    such as health checks and the OAuth endpoints themselves, pass through untouched, and
    so do websockets, which authenticate their connection parameters with
    `BearerAuthenticator.authenticate_header` instead.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: BearerAuthenticator,
        protect: Callable[[Scope], bool] = graphql_api,
        anonymous: Principal | None = None,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.protect = protect
        #: The principal of a request with no `Authorization` header at all (None: 401).
        #: A header that is present but wrong is always refused.
        self.anonymous = anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate protected HTTP requests, answer 401 on failure."""
        if scope["type"] != "http" or not self.protect(scope):
            await self.app(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization")
        try:
            if authorization is None and self.anonymous is not None:
                principal = self.anonymous
            else:
                principal = await self.authenticator.authenticate_header(authorization)
        except BearerError as error:
            await error.response()(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
