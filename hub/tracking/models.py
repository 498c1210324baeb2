"""The tracking code of each need, kept as a digest."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime


class TrackingCode(Base):
    """The code a citizen follows a need with; one per need, replaced when reissued.

    Only the SHA-256 of the normalised code is stored: the code is a bearer credential for
    the need's status, so a copy of the database (a backup, a replica, a careless export)
    must not be a list of working codes. The code has 40 random bits and is looked up only
    through a rate-limited endpoint, so an unsalted digest is enough to find it by; a lost
    code cannot be read back, and Dinsos reissues one instead.
    """

    __tablename__ = "tracking_codes"

    need_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("needs.id"), primary_key=True, autoincrement=False
    )
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The organisation whose officer received it to hand to the citizen.
    issued_by_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
