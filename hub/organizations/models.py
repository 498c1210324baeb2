"""Organisation and client tables, with the clients' credentials (previous secrets, keys)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow

ORGANIZATION_KINDS = ("OPD", "LKS", "AUDITOR")
ORGANIZATION_STATUSES = ("PENDING", "ACTIVE", "SUSPENDED")
#: The roles a client may hold (`client_roles.role`), which the policy speaks of.
ROLES = ("dinsos_admin", "opd_officer", "lks_partner", "auditor")


class Organization(Base):
    """An agency (OPD), a foundation (LKS) or an auditor that uses the hub."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("kind IN ('OPD', 'LKS', 'AUDITOR')", name="kind"),
        CheckConstraint("status IN ('PENDING', 'ACTIVE', 'SUSPENDED')", name="status"),
        Index(None, "kind", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Short stable handle used by people and scripts: `DINSOS`, `LKS-0042`.
    code: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(160))
    registration_number: Mapped[str | None] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="PENDING")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganizationCategory(Base):
    """A need category (service domain or PPKS type) an organisation serves."""

    __tablename__ = "organization_categories"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    category_code: Mapped[str] = mapped_column(
        ForeignKey("need_categories.code"), primary_key=True, index=True
    )


class OrganizationArea(Base):
    """A kecamatan an organisation serves."""

    __tablename__ = "organization_areas"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    kecamatan_code: Mapped[str] = mapped_column(
        ForeignKey("regions.code"), primary_key=True, index=True
    )


class Client(Base):
    """An OAuth2 client of an organisation. The secret is stored only as a slow hash."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    secret_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ClientRole(Base):
    """A role held by a client: `dinsos_admin`, `opd_officer`, `lks_partner`, `auditor`."""

    __tablename__ = "client_roles"
    __table_args__ = (
        CheckConstraint(
            "role IN ('dinsos_admin', 'opd_officer', 'lks_partner', 'auditor')", name="role"
        ),
    )

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


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
