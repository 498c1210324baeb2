"""The table of duplicate-aid flags, which Dinsos reviews."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow

#: What a flag found: an enrolment in a programme of the category, or another contribution.
FOUND_KINDS = ("ENROLMENT", "CONTRIBUTION")


class DuplicateAidFlag(Base):
    """A pledge or contribution made while the citizen already had help in its category."""

    __tablename__ = "duplicate_aid_flags"
    __table_args__ = (
        CheckConstraint("found_kind IN ('ENROLMENT', 'CONTRIBUTION')", name="found_kind"),
        # Exactly one subject: the pledge or the contribution that raised the flag.
        CheckConstraint("(pledge_id IS NULL) <> (contribution_id IS NULL)", name="one_subject"),
        CheckConstraint(
            "(found_kind = 'ENROLMENT' AND found_enrolment_id IS NOT NULL "
            "AND found_contribution_id IS NULL) OR (found_kind = 'CONTRIBUTION' "
            "AND found_contribution_id IS NOT NULL AND found_enrolment_id IS NULL)",
            name="found_reference",
        ),
        Index(None, "pledge_id"),
        Index(None, "contribution_id"),
        Index(None, "citizen_id"),
        # Dinsos's review queue: the unreviewed flags, oldest first.
        Index(
            "ix_duplicate_aid_flags_unreviewed",
            "created_at",
            sqlite_where=text("reviewed_at IS NULL"),
            postgresql_where=text("reviewed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    category_code: Mapped[str] = mapped_column(ForeignKey("need_categories.code"))
    #: The organisation whose pledge or contribution raised the flag.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))
    contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"))
    #: What was found: an ENROLMENT in a programme of the category, or a CONTRIBUTION.
    found_kind: Mapped[str] = mapped_column(String(12))
    found_enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    found_contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"))
    #: Who gave the earlier help: the programme's agency, or the contributing organisation.
    found_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    #: The enrolment's start or the earlier contribution's delivery date.
    found_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
