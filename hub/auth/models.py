"""Tables of the identity layer, beside `clients` and `client_roles`.

Each is small and short-lived by design: previous secrets expire after the rotation
overlap, revoked token ids and used client assertions after the token or assertion would
have expired anyway, so nothing here grows without bound.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow


class ClientPreviousSecret(Base):
    """A client's former secret that still works until `expires_at` (rotation overlap)."""

    __tablename__ = "client_previous_secrets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    retired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ClientPublicKey(Base):
    """A public JWK with which a client signs `private_key_jwt` assertions (RFC 7523)."""

    __tablename__ = "client_public_keys"
    __table_args__ = (UniqueConstraint("client_id", "kid"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    #: The key's `kid`; the RFC 7638 thumbprint when the agency did not name it.
    kid: Mapped[str] = mapped_column(String(100))
    #: The public JWK only; a private member is refused before it gets here.
    jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RevokedToken(Base):
    """An access token revoked before its expiry (RFC 7009), kept until it would expire."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class UsedClientAssertion(Base):
    """A `private_key_jwt` assertion already spent; its `jti` may not be replayed."""

    __tablename__ = "used_client_assertions"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
