"""Tables of the identity layer: revoked tokens and spent client assertions.

Each is small and short-lived by design: revoked token ids and used client assertions are
dropped once the token or assertion would have expired anyway, so nothing here grows without
bound. A client's credentials (secrets, public keys) are the organisations domain's.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow


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
