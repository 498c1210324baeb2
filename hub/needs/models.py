"""Need category, need, status history and pledge tables.

A need's kecamatan and kelurahan are copied from the citizen's household when it is reported:
a foundation's feed filters on them with every request, and the place where help is needed
should not move when the family later moves.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigId, UTCDateTime, utcnow

NEED_STATUSES = ("REPORTED", "VERIFIED", "OPEN", "PLEDGED", "FULFILLED", "REFERRED", "CLOSED")
CATEGORY_KINDS = ("SERVICE_DOMAIN", "PPKS")
PLEDGE_STATUSES = ("ACTIVE", "RELEASED", "EXPIRED", "FULFILLED")
_STATUS_SQL = ", ".join(f"'{s}'" for s in NEED_STATUSES)
#: The columns a foundation's service area tests (`hub.needs.queries.open_in_service_area`).
SERVICE_AREA_COLUMNS = ["kecamatan_code", "category_code", "ppks_code"]


class NeedCategory(Base):
    """One entry of the fixed taxonomy: a service domain or a PPKS type (Permensos 5/2019)."""

    __tablename__ = "need_categories"
    __table_args__ = (CheckConstraint("kind IN ('SERVICE_DOMAIN', 'PPKS')", name="kind"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    label_id: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(SmallInteger)


class Need(Base):
    """One person's specific problem and where it stands."""

    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="status"),
        CheckConstraint("severity BETWEEN 1 AND 4", name="severity"),
        Index(None, "status", "kecamatan_code", "category_code"),
        # The PPKS branch of a foundation's service area as a set
        # (`hub.authz.rows.need_filter_as_sets`), as the line above serves the category one.
        Index(None, "status", "kecamatan_code", "ppks_code"),
        # One index per named order of the needs list (`hub.needs.queries.NEED_ORDERS`), with
        # and without a status filter, in the order's own directions: a page reads its rows
        # off the index and stops, instead of sorting every need that matches. URGENT mixes
        # directions (severity descending, waiting ascending), which no backward scan of an
        # ascending index gives; NEWEST is LONGEST_WAITING read backwards.
        # With a status filter, they also hold the columns a foundation's service area tests
        # (PostgreSQL's INCLUDE; SQLite has none): a page under that rule picks its rows off
        # the index alone, and reads only those from the table (`hub.graphql.lists._page`).
        Index(
            "ix_needs_status_urgent",
            "status",
            text("severity DESC"),
            "reported_at",
            "id",
            postgresql_include=SERVICE_AREA_COLUMNS,
        ),
        Index("ix_needs_urgent", text("severity DESC"), "reported_at", "id"),
        Index(None, "status", "reported_at", "id", postgresql_include=SERVICE_AREA_COLUMNS),
        Index(None, "reported_at", "id"),
        # The median time to fulfilment (`hub.stats.queries.fulfilment_time`) reads the
        # middle of this index instead of sorting every fulfilled need. PostgreSQL only
        # (`info["dialects"]`, which the drift check honours): SQLite keeps its window query.
        Index(
            "ix_needs_fulfilment_seconds",
            text("(EXTRACT(epoch FROM fulfilled_at - opened_at))"),
            # The columns too, so that the median is read off the index alone.
            postgresql_include=["opened_at", "fulfilled_at"],
            postgresql_where=text("status = 'FULFILLED'"),
            info={"dialects": ("postgresql",)},
        ),
        Index(None, "citizen_id"),
        Index(None, "holder_organization_id"),
        Index(None, "kelurahan_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    category_code: Mapped[str] = mapped_column(ForeignKey("need_categories.code"))
    ppks_code: Mapped[str | None] = mapped_column(ForeignKey("need_categories.code"))
    description: Mapped[str] = mapped_column(Text)
    #: 1 low, 2 medium, 3 high, 4 critical.
    severity: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(10), default="REPORTED")
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    kelurahan_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    reported_by_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    verified_by_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    #: Who holds the need now: the pledging foundation, or the agency it was referred to.
    holder_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NeedStatusChange(Base):
    """One step of a need's timeline: who moved it, when, from what, to what."""

    __tablename__ = "need_status_changes"
    __table_args__ = (Index(None, "need_id", "changed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    note: Mapped[str | None] = mapped_column(Text)


class Pledge(Base):
    """A foundation's claim on a need. The database allows one active pledge per need."""

    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint("status IN ('ACTIVE', 'RELEASED', 'EXPIRED', 'FULFILLED')", name="status"),
        Index(
            "uq_pledges_one_active_per_need",
            "need_id",
            unique=True,
            sqlite_where=text("status = 'ACTIVE'"),
            postgresql_where=text("status = 'ACTIVE'"),
        ),
        # A foundation's pledges, with what its row rule reads of each (the need, whether it
        # is still in force): the rule's set is read off the index alone (PostgreSQL).
        Index(None, "organization_id", "status", postgresql_include=["need_id", "expires_at"]),
        # A need's pledges (its timeline, whether a foundation pledged it), whatever status.
        Index(None, "need_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    status: Mapped[str] = mapped_column(String(10), default="ACTIVE")
    pledged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


#: `need_counts.ppks_code` of a need without a PPKS type (a key column cannot be NULL).
NO_PPKS = ""


class NeedCount(Base):
    """How many needs are in one cell (status, kecamatan, category, PPKS type, severity).

    Exact at every commit: the triggers of migration 0011 change it in the same statement
    as every insert, update or delete of `needs`, whoever writes (the services, the seed's
    COPY, a script), so a count over a foundation's cells is a sum of a few rows instead of
    a scan of every need it may see. Severity is in the key because it has four values and
    `minSeverity` filters on it.
    """

    __tablename__ = "need_counts"
    # No CHECK (n >= 0): both backends check a row proposed for insertion before they find
    # the conflict that turns it into an update, so the upsert of a decrement would fail.

    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(String(13), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The need's PPKS type, or `NO_PPKS`.
    ppks_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    severity: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger)
