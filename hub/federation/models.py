"""Connectors: agencies' GraphQL subgraphs the hub calls to fill the fields they provide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow

CONNECTOR_AUTH = ("NONE", "BEARER", "CLIENT_CREDENTIALS")
CONNECTOR_KEYS = ("nik", "id")


class Connector(Base):
    """An agency's subgraph resolving `Citizen` by NIK or id, and the hub fields it provides.

    The credential is never stored here: `secret_ref` names where the hub reads it when it
    calls (`env:NAME` or `file:/path`), so the table holds nothing worth stealing.
    """

    __tablename__ = "connectors"
    __table_args__ = (
        CheckConstraint("auth IN ('NONE', 'BEARER', 'CLIENT_CREDENTIALS')", name="auth"),
        CheckConstraint("key_field IN ('nik', 'id')", name="key_field"),
        CheckConstraint("status IN ('ACTIVE', 'DISABLED')", name="status"),
        CheckConstraint("timeout_ms BETWEEN 50 AND 30000", name="timeout_ms"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Short stable handle, named in errors and audit events: `dinkes`, `disdik`.
    name: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    #: The hub's connected fields this connector provides (`healthCoverage`, `schooling`).
    fields: Mapped[list[str]] = mapped_column(JSON)
    key_field: Mapped[str] = mapped_column(String(8), default="nik")
    timeout_ms: Mapped[int] = mapped_column(Integer, default=2000)
    auth: Mapped[str] = mapped_column(String(20), default="NONE")
    secret_ref: Mapped[str | None] = mapped_column(String(200))
    #: For CLIENT_CREDENTIALS: the agency's token endpoint and the hub's client id there.
    token_url: Mapped[str | None] = mapped_column(String(500))
    client_id: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="ACTIVE")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def describe(self) -> dict[str, Any]:
        """The connector without anything secret (for logs and the CLI)."""
        return {"name": self.name, "url": self.url, "fields": self.fields, "auth": self.auth}
