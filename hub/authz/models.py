"""Policy changes made at run time, persisted so that every worker applies them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UTCDateTime, utcnow


class FieldAccessOverride(Base):
    """A role's level on one personal field, replacing what `policies/policy.csv` says."""

    __tablename__ = "field_access_overrides"
    __table_args__ = (
        CheckConstraint("level IN ('full', 'pledged', 'masked', 'none')", name="level"),
    )

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: `Type.field` in GraphQL names, e.g. `Citizen.phone`.
    field: Mapped[str] = mapped_column(String(60), primary_key=True)
    level: Mapped[str] = mapped_column(String(8))
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PolicyVersion(Base):
    """One row whose number grows with every policy change; workers poll it to reload."""

    __tablename__ = "policy_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
