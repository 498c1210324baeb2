"""The record of every DTKS file imported: which file (SHA-256), who ran it, what changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow


class DtksImport(Base):
    """One import of a SIKS-NG export (dry runs leave no record)."""

    __tablename__ = "dtks_imports"
    __table_args__ = (Index(None, "sha256"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    #: `cli:<user>`: the operating-system account that ran `hub import dtks`.
    ran_by: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_accepted: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    #: Households and citizens new, changed, unchanged, no longer listed; fuzzy decisions.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
