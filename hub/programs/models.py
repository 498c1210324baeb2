"""Programme and enrolment tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId


class Program(Base):
    """A social programme run by an agency, in one need category."""

    __tablename__ = "programs"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    agency_code: Mapped[str] = mapped_column(ForeignKey("organizations.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("need_categories.code"))
    description: Mapped[str] = mapped_column(Text)


class Enrolment(Base):
    """A citizen's enrolment in a programme, from one date until another (or open)."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="period"),
        Index(None, "citizen_id", "program_code"),
        Index(None, "program_code", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    program_code: Mapped[str] = mapped_column(ForeignKey("programs.code"))
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
