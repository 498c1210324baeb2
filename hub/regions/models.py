"""Region tables: the Kemendagri hierarchy and the alias table for free-text names."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base

REGION_LEVELS = ("CITY", "KECAMATAN", "KELURAHAN")


class Region(Base):
    """One administrative region, keyed by its Kemendagri code (`32.73.02.1006`)."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("level IN ('CITY', 'KECAMATAN', 'KELURAHAN')", name="level"),
        Index(None, "level", "code"),
        Index(None, "parent_code"),
    )

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(80))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))


class RegionAlias(Base):
    """Another spelling of a region's name, as found in DTKS exports and older decrees."""

    __tablename__ = "region_aliases"

    #: Normalised: lower case, letters and digits only (`sadangserang`).
    alias: Mapped[str] = mapped_column(String(80), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
