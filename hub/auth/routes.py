"""The authorization server's routes, for the application to mount at its root."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.auth.keys import ALGORITHM
from hub.auth.server import AUTH_METHODS
from hub.auth.state import AuthState
from hub.organizations.models import ROLES

#: Verifiers may cache the key set this long; a new `kid` makes them fetch it again.
JWKS_MAX_AGE = 300


def server_metadata(state: AuthState) -> dict[str, Any]:
    """The RFC 8414 metadata document."""
    issuer = state.settings.issuer
    metadata = AuthorizationServerMetadata(
        issuer=issuer,
        token_endpoint=f"{issuer}/oauth/token",
        revocation_endpoint=f"{issuer}/oauth/revoke",
        introspection_endpoint=f"{issuer}/oauth/introspect",
        jwks_uri=f"{issuer}/.well-known/jwks.json",
        grant_types_supported=["client_credentials"],
        scopes_supported=list(ROLES),
        token_endpoint_auth_methods_supported=list(AUTH_METHODS),
        token_endpoint_auth_signing_alg_values_supported=["ES256", "RS256"],
        revocation_endpoint_auth_methods_supported=list(AUTH_METHODS),
        revocation_endpoint_auth_signing_alg_values_supported=["ES256", "RS256"],
        introspection_endpoint_auth_methods_supported=list(AUTH_METHODS),
        introspection_endpoint_auth_signing_alg_values_supported=["ES256", "RS256"],
        # Not in RFC 8414's registry; says how access tokens are signed (RFC 9068).
        access_token_signing_alg_values_supported=[ALGORITHM],
        service_documentation=f"{issuer}/graphql",
    )
    return dict(metadata)


def auth_routes(state: AuthState) -> list[Route]:
    """POST /oauth/token, /oauth/revoke, /oauth/introspect; GET the metadata and JWKS."""

    async def metadata(request: Request) -> Response:
        """GET /.well-known/oauth-authorization-server."""
        return JSONResponse(server_metadata(state), headers={"Cache-Control": "max-age=3600"})

    async def jwks(request: Request) -> Response:
        """GET /.well-known/jwks.json: the public keys of live tokens."""
        return JSONResponse(
            state.keys.ring.jwks(), headers={"Cache-Control": f"max-age={JWKS_MAX_AGE}"}
        )

    endpoints = state.endpoints
    return [
        Route("/oauth/token", endpoints.token, methods=["POST"], name="oauth_token"),
        Route("/oauth/revoke", endpoints.revoke, methods=["POST"], name="oauth_revoke"),
        Route("/oauth/introspect", endpoints.introspect, methods=["POST"], name="oauth_introspect"),
        Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"], name="jwks"),
    ]
