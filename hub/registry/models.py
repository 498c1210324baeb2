"""Household and citizen tables.

A household's KK number changes when a family moves or splits, so it is a versioned
attribute (`household_kk_numbers`), not the key; `households.kk_number` is the current one.
`kecamatan_code` is stored beside `kelurahan_code` so that the city's most common filter
(by kecamatan) is an equality on an index rather than a prefix match or a join.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow

RELATIONSHIPS = ("HEAD", "SPOUSE", "CHILD", "PARENT", "GRANDCHILD", "IN_LAW", "OTHER")
SEXES = ("F", "M")


class Household(Base):
    """A family registered on one KK (Kartu Keluarga)."""

    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("welfare_decile BETWEEN 1 AND 10", name="welfare_decile"),
        CheckConstraint("length(kk_number) = 16", name="kk_number_length"),
        Index(None, "kecamatan_code", "id"),
        Index(None, "kelurahan_code", "id"),
        Index(None, "welfare_decile", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kk_number: Mapped[str] = mapped_column(String(16), unique=True)
    dtks_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    address: Mapped[str] = mapped_column(String(200))
    rt: Mapped[str] = mapped_column(String(3))
    rw: Mapped[str] = mapped_column(String(3))
    kelurahan_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    welfare_decile: Mapped[int | None] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HouseholdKkNumber(Base):
    """One KK number a household has carried, and when."""

    __tablename__ = "household_kk_numbers"

    kk_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)


class Citizen(Base):
    """One resident, identified by NIK."""

    __tablename__ = "citizens"
    __table_args__ = (
        CheckConstraint("length(nik) = 16", name="nik_length"),
        CheckConstraint("sex IN ('F', 'M')", name="sex"),
        CheckConstraint(
            "relationship IN ('HEAD', 'SPOUSE', 'CHILD', 'PARENT', 'GRANDCHILD', 'IN_LAW', "
            "'OTHER')",
            name="relationship",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    nik: Mapped[str] = mapped_column(String(16), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    relationship: Mapped[str] = mapped_column(String(12))
    has_disability: Mapped[bool] = mapped_column(Boolean, default=False)
    has_chronic_illness: Mapped[bool] = mapped_column(Boolean, default=False)
    education: Mapped[str | None] = mapped_column(String(40))
    occupation: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
