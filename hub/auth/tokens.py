"""Access tokens: JWTs per RFC 9068, signed by the hub, minted and verified here.

Minting is ours rather than authlib's `JWTBearerTokenGenerator` because that generator
reads the wall clock itself and leaves `kid` out of the header, and both matter here: tests
and the demo need an injectable clock, and verifiers (ours and the agencies') pick the key
by `kid`. It plugs into authlib as an ordinary token generator (see `server.py`).

Verification is ours for another reason: RFC 6750 clients deserve to know *why* a token was
refused, and authlib's validator folds every failure into one generic error.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from hub.auth.keys import ALGORITHM, SigningKeys

#: The `typ` header of an access token (RFC 9068 §2.1), and its long form.
TOKEN_TYPES = ("at+jwt", "application/at+jwt")
_SAFE_ALG = re.compile(r"^[A-Za-z0-9+-]{1,16}$")


class InvalidToken(Exception):
    """A bearer token the hub refuses; the message says why, for the client to read."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class UnknownKey(InvalidToken):
    """The token names a signing key this process does not (yet) know."""


@dataclass(frozen=True, slots=True)
class AccessTokenClaims:
    """The verified claims of an access token."""

    jti: str
    client_id: str
    organization_code: str
    roles: tuple[str, ...]
    issued_at: int
    expires_at: int
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MintedToken:
    """A freshly signed access token and what the token response says about it."""

    access_token: str
    expires_in: int
    scope: str
    claims: dict[str, Any]


class AccessTokens:
    """Mints and verifies the hub's access tokens."""

    def __init__(
        self,
        *,
        keys: SigningKeys,
        issuer: str,
        audience: str,
        ttl: int,
        leeway: int,
        clock: Callable[[], float],
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.leeway = leeway
        self.clock = clock

    def mint(
        self,
        *,
        client_id: str,
        organization_code: str,
        organization_kind: str,
        roles: Sequence[str],
        ttl: int | None = None,
    ) -> MintedToken:
        """Sign a token for a client acting with `roles` (also its `scope`)."""
        now = int(self.clock())
        ttl = self.ttl if ttl is None else ttl
        scope = " ".join(roles)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            # RFC 9068 §2.2: with no resource owner, `sub` names the client itself.
            "sub": client_id,
            "client_id": client_id,
            "org": organization_code,
            "org_kind": organization_kind,
            "roles": list(roles),
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(16),
        }
        key = self.keys.ring.signing
        header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": key.kid}
        token = jwt.encode(header, claims, key, algorithms=[ALGORITHM])
        return MintedToken(access_token=token, expires_in=ttl, scope=scope, claims=claims)

    def verify(self, token: str) -> AccessTokenClaims:
        """The claims of `token` once signature and claims check out; else `InvalidToken`."""
        try:
            obj = jws.extract_compact(token.encode("ascii"))
            header = obj.headers()
        except (JoseError, UnicodeError, ValueError):
            raise InvalidToken("the token is malformed (not a compact JWS)") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise InvalidToken("unsigned tokens (alg none) are not accepted")
        if alg != ALGORITHM:
            # `alg` is the caller's text: echo it only when it cannot break the header.
            shown = alg if _SAFE_ALG.match(alg) else "that algorithm"
            raise InvalidToken(f"tokens signed with {shown} are not accepted, only {ALGORITHM}")
        if str(header.get("typ", "")).lower() not in TOKEN_TYPES:
            raise InvalidToken("the token is not an access token (typ must be at+jwt)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key (kid)")
        key = self.keys.ring.by_kid(kid)
        if key is None:
            raise UnknownKey("the token was signed with an unknown key")
        try:
            valid = jws.validate_compact(obj, key, algorithms=[ALGORITHM])
        except JoseError:
            valid = False
        if not valid:
            raise InvalidToken("the token signature is invalid")
        try:
            claims = json.loads(obj.payload)
        except ValueError:
            raise InvalidToken("the token is malformed (payload is not JSON)") from None
        if not isinstance(claims, dict):
            raise InvalidToken("the token is malformed (payload is not an object)")
        return self._check_claims(claims)

    async def verify_fresh(self, token: str) -> AccessTokenClaims:
        """`verify`, re-reading the key store once when the token names an unknown key."""
        try:
            return self.verify(token)
        except UnknownKey:
            # A peer may have restarted on a rotated key before this worker did.
            if not await self.keys.reload_if_stale():
                raise
        return self.verify(token)

    def _check_claims(self, claims: dict[str, Any]) -> AccessTokenClaims:
        """Check issuer, audience and times of signed claims; raise `InvalidToken`."""
        if claims.get("iss") != self.issuer:
            raise InvalidToken("the token was issued by another issuer")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.audience not in audiences:
            raise InvalidToken("the token is meant for another audience")
        now = self.clock()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise InvalidToken("the token lacks its exp or iat claim")
        if exp + self.leeway <= now:
            raise InvalidToken("the token has expired")
        if (isinstance(nbf, int) and nbf - self.leeway > now) or iat - self.leeway > now:
            raise InvalidToken("the token is not valid yet")
        for name in ("jti", "client_id", "sub", "org"):
            if not isinstance(claims.get(name), str):
                raise InvalidToken(f"the token lacks its {name} claim")
        roles = claims.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidToken("the token lacks its roles claim")
        return AccessTokenClaims(
            jti=claims["jti"],
            client_id=claims["client_id"],
            organization_code=claims["org"],
            roles=tuple(roles),
            issued_at=iat,
            expires_at=exp,
            raw=claims,
        )
