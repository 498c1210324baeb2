"""Household and citizen tables.

A household's KK number changes when a family moves or splits, so it is a versioned
attribute (`household_kk_numbers`), not the key; `households.kk_number` is the current one.
Likewise a citizen's household: `citizens.household_id` is the current one (since
`household_since`), and `citizen_household_history` keeps every earlier membership.

Every household and citizen carries its provenance (`Provenance`): a version counted up by
each change, and who made the last one (the DTKS import, or an agency's client through the
API), so that a write based on an old read can be refused and a reader can see who changed
what, when.
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
    Integer,
    SmallInteger,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow

RELATIONSHIPS = ("HEAD", "SPOUSE", "CHILD", "PARENT", "GRANDCHILD", "IN_LAW", "OTHER")
SEXES = ("F", "M")
#: A NIK or KK number: 16 digits, compared byte by byte on PostgreSQL (COLLATE "C", the
#: same order for digits as any collation; the database's own collation made building the
#: 2.6 million NIKs' unique index several times slower, migration 0013). SQLite compares
#: text bytewise already.
NUMBER_16 = String(16).with_variant(String(16, collation="C"), "postgresql")
#: A DTKS id, compared byte by byte on PostgreSQL too (COLLATE "C": only ever looked up by
#: equality, which no deterministic collation changes; the first import's rebuild of its
#: unique index sorted 805,000 of them with strcoll otherwise, migration 0015).
DTKS_ID = String(32).with_variant(String(32, collation="C"), "postgresql")
#: How a record last changed: the synthetic seed, a DTKS file import, an agency's API call.
CHANNELS = ("SEED", "IMPORT", "API")


class Provenance:
    """Version and last-change columns shared by households and citizens."""

    #: 1 when created, +1 on every change; an API update must carry the version it read.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    changed_via: Mapped[str] = mapped_column(String(8), default="SEED", server_default="SEED")
    changed_by_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    #: The OAuth2 client that made the change through the API (an import names its runner).
    changed_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    changed_by_import_id: Mapped[int | None] = mapped_column(ForeignKey("dtks_imports.id"))
    #: GraphQL names of the fields the last change set, space-separated (`fullName household`).
    changed_fields: Mapped[str | None] = mapped_column(String(200))
    #: Listed in the latest DTKS file imported; false once a month's file no longer lists it.
    dtks_listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    delisted_on: Mapped[dt.date | None] = mapped_column(Date)


class Household(Provenance, Base):
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
    kk_number: Mapped[str] = mapped_column(NUMBER_16, unique=True)
    dtks_id: Mapped[str | None] = mapped_column(DTKS_ID, unique=True)
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

    kk_number: Mapped[str] = mapped_column(NUMBER_16, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)


class Citizen(Provenance, Base):
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
    nik: Mapped[str] = mapped_column(NUMBER_16, unique=True)
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
    #: PPKS type (Permensos 5/2019) as DTKS records it (`jenis_pmks`).
    ppks_code: Mapped[str | None] = mapped_column(ForeignKey("need_categories.code"))
    #: Since when the citizen belongs to `household_id` (null: since the record was created).
    household_since: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CitizenHouseholdHistory(Base):
    """An earlier household (KK) of a citizen, and when they belonged to it.

    The current membership is `citizens.household_id`; a move closes it here, so that a
    citizen who moves to another KK keeps their history.
    """

    __tablename__ = "citizen_household_history"
    __table_args__ = (
        CheckConstraint("valid_to >= valid_from", name="period"),
        Index(None, "citizen_id", "valid_from"),
        Index(None, "household_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    relationship: Mapped[str] = mapped_column(String(12))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
