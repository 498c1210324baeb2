"""authlib's OAuth2 server core, fitted with the hub's clients, tokens and endpoints.

authlib ships no Starlette integration and its server core is synchronous. Everything it
may ask for (clients with their credentials, the presented token) is loaded beforehand by
`hub.auth.endpoints`, which then runs this core in a worker thread; nothing here touches
the database. Only the glue authlib leaves to frameworks is written here: the request
wrapper, the client model, the `private_key_jwt` key lookup, how tokens are minted, found
and revoked. What authlib decides that must be persisted (a revoked token, a spent
assertion) is noted on the request for the asynchronous side to write.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.authenticate_client import (
    authenticate_client_secret_basic,
    authenticate_client_secret_post,
)
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from joserfc.jwk import KeySet
from starlette.responses import Response

from hub.auth.directory import ClientRecord, ClientStatus
from hub.auth.tokens import AccessTokenClaims, AccessTokens
from hub.organizations.hashing import SecretHasher
from hub.organizations.models import ROLES
from hub.settings import AuthSettings

log = logging.getLogger(__name__)
# authlib logs each issued token dict at DEBUG; a bearer token in a log is a credential
# leaked, so that logger never goes below INFO, whatever the hub's log level.
logging.getLogger("authlib.oauth2.rfc6749.grants.client_credentials").setLevel(logging.INFO)

SECRET_METHODS = ("client_secret_basic", "client_secret_post")
AUTH_METHODS = (*SECRET_METHODS, "private_key_jwt")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: authlib's own client signs assertions valid for an hour; refuse anything longer, since
#: each spent `jti` is kept until the assertion expires.
MAX_ASSERTION_LIFETIME = 3600


# --- authlib's models, over records loaded beforehand ------------------------------------


class OAuthClient(ClientMixin):  # type: ignore[misc]  # authlib is untyped
    """authlib's view of a client: a loaded `ClientRecord` and the secret hasher."""

    def __init__(self, record: ClientRecord, hasher: SecretHasher) -> None:
        self.record = record
        self.hasher = hasher

    @property
    def status(self) -> ClientStatus:
        """The client's identity and standing."""
        return self.record.status

    def get_client_id(self) -> str:
        """The public client identifier."""
        return self.status.client_id

    def get_default_redirect_uri(self) -> None:
        """No redirects: client credentials only."""
        return None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """No redirects: client credentials only."""
        return False

    def check_response_type(self, response_type: str) -> bool:
        """No authorization endpoint: client credentials only."""
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        """Only the client credentials grant."""
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The roles to put in the token: all held when none are asked, None if one is not."""
        # Roles double as scopes: a client may ask for a token carrying fewer of its roles.
        held = [role for role in ROLES if role in self.status.roles]
        if not held:
            return None
        if not scope:
            return " ".join(held)
        asked = set(scope.split())
        if not asked <= set(held):
            return None
        return " ".join(role for role in held if role in asked)

    def check_client_secret(self, client_secret: str) -> bool:
        """Whether the secret matches the current one or one inside its rotation overlap."""
        return any(self.hasher.verify_sync(h, client_secret) for h in self.record.secret_hashes)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """A secret method needs a secret on file, `private_key_jwt` a public key."""
        if method in SECRET_METHODS:
            return bool(self.record.secret_hashes)
        if method == "private_key_jwt":
            return bool(self.record.public_keys)
        return False


@dataclass(frozen=True, slots=True)
class PresentedToken(TokenMixin):  # type: ignore[misc]  # authlib is untyped
    """A hub access token given to revocation or introspection, already verified."""

    claims: AccessTokenClaims
    #: Why the token no longer works (its client or organisation), or None.
    inactive_reason: str | None

    def check_client(self, client: OAuthClient) -> bool:
        """Whether the token was issued to `client`."""
        return bool(self.claims.client_id == client.get_client_id())

    def get_scope(self) -> str:
        """The token's scope."""
        return str(self.claims.raw.get("scope", ""))

    def get_expires_in(self) -> int:
        """The token's lifetime in seconds."""
        return self.claims.expires_at - self.claims.issued_at

    def is_expired(self) -> bool:
        """Never: expired tokens are not verified in the first place."""
        return False

    def is_revoked(self) -> bool:
        """Whether the token stopped working (revoked, client revoked, organisation suspended)."""
        return self.inactive_reason is not None


class FormPayload(OAuth2Payload):  # type: ignore[misc]  # authlib is untyped
    """The parameters of a form-encoded request, for authlib."""

    def __init__(self, form: dict[str, str]) -> None:
        self._form = form

    @property
    def data(self) -> dict[str, str]:
        """Each parameter's value."""
        return self._form

    @property
    def datalist(self) -> dict[str, list[str]]:
        """Each parameter's values (duplicates are refused earlier, so one each)."""
        return {name: [value] for name, value in self._form.items()}


class HubOAuth2Request(OAuth2Request):  # type: ignore[misc]  # authlib is untyped
    """One request, with everything authlib may ask for already loaded."""

    def __init__(
        self,
        *,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        form: dict[str, str],
        clients: dict[str, OAuthClient],
        presented: PresentedToken | None = None,
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = FormPayload(form)
        self._hub_form = form
        self.clients = clients
        self.presented = presented
        #: What authlib decided, for step 3 to persist.
        self.spent_assertion: tuple[str, int] | None = None
        self.revoked: list[AccessTokenClaims] = []

    @property
    def form(self) -> dict[str, str]:
        """The form parameters."""
        return self._hub_form

    @property
    def args(self) -> dict[str, str]:
        """Query parameters are not read: OAuth parameters travel in the body."""
        return {}

    def query_client(self, client_id: str) -> OAuthClient | None:
        """The client loaded for this request under `client_id`, or None."""
        return self.clients.get(client_id)


@dataclass(frozen=True, slots=True)
class OAuthResponse:
    """What authlib answered: status, body, headers."""

    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    def to_starlette(self) -> Response:
        """The Starlette response."""
        headers = {k: v for k, v in self.headers if k.lower() != "content-type"}
        content = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return Response(content, self.status, headers, media_type="application/json")


def _require_active(client: OAuthClient) -> OAuthClient:
    """`client`, unless it is revoked or its organisation is not active."""
    reason = client.status.inactive_reason
    if reason is not None:
        # After authentication only: an anonymous caller learns nothing about standing.
        raise InvalidClientError(status_code=401, description=reason)
    return client


# --- grants, client authentication and endpoints -----------------------------------------


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]  # authlib is untyped
    """RFC 6749 §4.4, for active clients, with roles as scopes."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def authenticate_token_endpoint_client(self) -> OAuthClient:
        """The authenticated client, refused when revoked or suspended."""
        try:
            client = super().authenticate_token_endpoint_client()
        except InvalidClientError as error:
            # authlib's generic text lists methods; tell the partner what to check. Specific
            # descriptions (an assertion's reused jti, …) stay.
            generic = str(error.description or "")
            if not generic or generic.startswith("The client cannot authenticate"):
                error.description = (
                    "client authentication failed: the client id and secret (or the signed "
                    "assertion) were not accepted"
                )
            raise
        return _require_active(client)

    def validate_requested_scope(self) -> None:
        """Refuse a scope naming a role the client does not hold."""
        client: OAuthClient = self.request.client
        if client.get_allowed_scope(self.request.payload.scope) is None:
            raise InvalidScopeError(
                description="the scope must name roles the client holds (or be left out)"
            )


def _request_bound(method: Callable[[Any, HubOAuth2Request], Any]) -> Any:
    """An authlib client-auth function that looks clients up in the request, not globally."""

    def authenticate(_query_client: object, request: HubOAuth2Request) -> Any:
        """`method`, with the request's own client lookup."""
        return method(request.query_client, request)

    return authenticate


class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]  # authlib is untyped
    """`private_key_jwt` (RFC 7523 §2.2): the client signs an assertion with its own key."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, *, settings: AuthSettings, clock: Callable[[], float]) -> None:
        super().__init__(leeway=settings.leeway_seconds)
        self.settings = settings
        self.clock = clock

    def __call__(self, _query_client: object, request: HubOAuth2Request) -> Any:
        """The client authenticated by the request's assertion, noting its `jti` as spent."""
        client = super().__call__(request.query_client, request)
        if client is not None:
            _, claims = self.extract_assertion(request.form["client_assertion"])
            request.spent_assertion = (str(claims["jti"]), int(claims["exp"]))
        return client

    def get_audiences(self) -> list[str]:
        """The token endpoint URL (what authlib's client sends) and the issuer (RFC 7523bis)."""
        return [self.settings.token_endpoint, self.settings.issuer]

    def verify_claims(self, claims: Any) -> None:
        """authlib's checks, plus a bounded lifetime and a bounded `jti`."""
        super().verify_claims(claims)
        if claims["exp"] > self.clock() + MAX_ASSERTION_LIFETIME + self.leeway:
            raise InvalidClientError(description="the assertion must expire within an hour")
        if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 128:
            raise InvalidClientError(description="the assertion jti must be 1-128 characters")

    def validate_jti(self, claims: Any, jti: str) -> bool:
        """Accept here; step 3 records the `jti` and refuses a replay (shared by workers)."""
        return True

    def resolve_client_public_key(self, client: OAuthClient) -> KeySet:
        """The client's registered public keys; picked by the assertion's `kid`."""
        return KeySet.import_key_set({"keys": list(client.record.public_keys)})


def _presented(request: HubOAuth2Request) -> PresentedToken | None:
    """The token named in the request, if the hub issued it and it is still unexpired."""
    if "token" not in request.form:
        raise InvalidRequestError(description="the token parameter is required")
    return request.presented


class Revocation(RevocationEndpoint):  # type: ignore[misc]  # authlib is untyped
    """RFC 7009: a client revokes one of its own access tokens."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def authenticate_endpoint_client(self, request: HubOAuth2Request) -> OAuthClient:
        """The authenticated client, refused when revoked or suspended."""
        return _require_active(super().authenticate_endpoint_client(request))

    def authenticate_token(
        self, request: HubOAuth2Request, client: OAuthClient
    ) -> PresentedToken | None:
        """The presented token, which must belong to `client`."""
        self.check_params(request, client)
        token = _presented(request)
        if token is not None and not token.check_client(client):
            raise InvalidGrantError(description="the token was issued to another client")
        return token

    def revoke_token(self, token: PresentedToken, request: HubOAuth2Request) -> None:
        """Mark the token for step 3 to record as revoked."""
        request.revoked.append(token.claims)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]  # authlib is untyped
    """RFC 7662: an active client asks whether a hub token is active, and whose it is."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def authenticate_endpoint_client(self, request: HubOAuth2Request) -> OAuthClient:
        """The authenticated client, refused when revoked or suspended."""
        return _require_active(super().authenticate_endpoint_client(request))

    def authenticate_token(
        self, request: HubOAuth2Request, client: OAuthClient
    ) -> PresentedToken | None:
        """The presented token, whoever it was issued to."""
        self.check_params(request, client)
        return _presented(request)

    def check_permission(
        self, token: PresentedToken, client: OAuthClient, request: HubOAuth2Request
    ) -> bool:
        """Any active client may introspect: OPD services check the tokens they are shown."""
        return True

    def introspect_token(self, token: PresentedToken) -> dict[str, Any]:
        """The RFC 7662 answer for an active token."""
        raw = token.claims.raw
        names = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti")
        answer = {name: raw[name] for name in names if name in raw}
        answer.update(active=True, token_type="Bearer", org=raw["org"], roles=raw["roles"])
        return answer


class HubAuthorizationServer(AuthorizationServer):  # type: ignore[misc]  # authlib is untyped
    """authlib's server with the hub's grant, client authentication and endpoints."""

    def __init__(
        self, *, settings: AuthSettings, tokens: AccessTokens, clock: Callable[[], float]
    ) -> None:
        super().__init__(scopes_supported=list(ROLES))
        self.tokens = tokens
        self.register_token_generator(
            "default",
            BearerTokenGenerator(self._access_token, expires_generator=settings.token_ttl_seconds),
        )
        self.register_grant(ClientCredentials)
        self.register_client_auth_method(
            "client_secret_basic", _request_bound(authenticate_client_secret_basic)
        )
        self.register_client_auth_method(
            "client_secret_post", _request_bound(authenticate_client_secret_post)
        )
        self.register_client_auth_method(
            "private_key_jwt", PrivateKeyJWT(settings=settings, clock=clock)
        )
        self.register_endpoint(Revocation(self))
        self.register_endpoint(Introspection(self))

    def query_client(self, client_id: str) -> None:
        """Unused: every client-auth method looks clients up in its request instead."""
        return None

    def save_token(self, token: dict[str, Any], request: HubOAuth2Request) -> None:
        """Nothing to save: an access token is self-contained."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib's hook for framework signals; log the events worth keeping."""
        client = kwargs.get("client")
        if name == "after_revoke_token" and client is not None:
            log.info("client %s revoked a token", client.get_client_id())

    def create_oauth2_request(self, request: HubOAuth2Request) -> HubOAuth2Request:
        """Requests arrive already wrapped by `OAuthEndpoints`."""
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> OAuthResponse:
        """Keep authlib's answer as data; step 3 turns it into a Starlette response."""
        return OAuthResponse(status, body, list(headers))

    def _access_token(
        self, *, client: OAuthClient, grant_type: str, user: object, scope: str
    ) -> str:
        """Mint the RFC 9068 token for `client` with the roles in `scope`."""
        status = client.status
        minted = self.tokens.mint(
            client_id=status.client_id,
            organization_code=status.organization_code,
            organization_kind=status.organization_kind,
            roles=scope.split(),
        )
        return minted.access_token
