"""Programme and enrolment tables.

A programme has an owning agency (OPD), a funding source and a yearly budget; an enrolment
records the benefit the person receives and who recorded it (seed, import or an agency's
client through the API).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime

#: Who pays: the city's budget, West Java's, the national budget, or foundations (LKS).
FUNDING_SOURCES = ("APBD_KOTA", "APBD_JABAR", "APBN", "FOUNDATIONS")


class Program(Base):
    """A social programme run by an agency, in one need category."""

    __tablename__ = "programs"
    __table_args__ = (
        CheckConstraint(
            "funding_source IN ('APBD_KOTA', 'APBD_JABAR', 'APBN', 'FOUNDATIONS')",
            name="funding_source",
        ),
        CheckConstraint("budget_rupiah >= 0", name="budget"),
    )

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    agency_code: Mapped[str] = mapped_column(ForeignKey("organizations.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("need_categories.code"))
    description: Mapped[str] = mapped_column(Text)
    funding_source: Mapped[str] = mapped_column(String(12), server_default="APBN")
    #: Yearly budget in whole rupiah (null: not published).
    budget_rupiah: Mapped[int | None] = mapped_column(BigInteger)


class Enrolment(Base):
    """A citizen's enrolment in a programme, from one date until another (or open)."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="period"),
        CheckConstraint("benefit_rupiah >= 0", name="benefit"),
        Index(None, "citizen_id", "program_code"),
        Index(None, "program_code", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    program_code: Mapped[str] = mapped_column(ForeignKey("programs.code"))
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    #: What the person receives, in whole rupiah per year (null: not recorded).
    benefit_rupiah: Mapped[int | None] = mapped_column(BigInteger)
    changed_via: Mapped[str] = mapped_column(String(8), default="SEED", server_default="SEED")
    changed_by_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    changed_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
