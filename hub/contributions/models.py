"""Contribution table. Rupiah are whole numbers in a 64-bit column, never floats."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow

CONTRIBUTION_KINDS = ("CASH", "IN_KIND", "SERVICE")

#: The largest amount the hub accepts, Rp9,007,199,254,740,991 (2^53 - 1). The column
#: (BIGINT) would hold 2^63 - 1, but amounts travel as JSON numbers, and a JavaScript client
#: reads any integer beyond 2^53 - 1 inexactly; the `Rupiah` scalar refuses the same range.
MAX_RUPIAH = 2**53 - 1


class Contribution(Base):
    """What an organisation delivered to a citizen, optionally against a need."""

    __tablename__ = "contributions"
    __table_args__ = (
        CheckConstraint("kind IN ('CASH', 'IN_KIND', 'SERVICE')", name="kind"),
        CheckConstraint("amount_rupiah >= 0", name="amount_not_negative"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "evidence_sha256 IS NULL OR length(evidence_sha256) = 64", name="evidence_digest"
        ),
        # A retried request with the same key finds the first record instead of a second one.
        UniqueConstraint("organization_id", "idempotency_key"),
        # The list's order (delivered_on, id descending), for one organisation and for all.
        Index(None, "organization_id", "delivered_on", "id"),
        Index(None, "delivered_on", "id"),
        Index(None, "citizen_id", "category_code", "delivered_on"),
        Index(None, "need_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    category_code: Mapped[str] = mapped_column(ForeignKey("need_categories.code"))
    kind: Mapped[str] = mapped_column(String(8))
    amount_rupiah: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str | None] = mapped_column(String(20))
    delivered_on: Mapped[dt.date] = mapped_column(Date)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
