"""Reads of duplicate aid: earlier help in a category, and the warnings a flag recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hub.contributions.models import Contribution
from hub.duplicate_aid.models import DuplicateAidFlag
from hub.ids import contribution_ref
from hub.organizations.models import Organization
from hub.programs.models import Enrolment, Program

#: How far back (and, for a delivery date in the past, forward) earlier help counts.
DUPLICATE_AID_WINDOW = dt.timedelta(days=90)
#: Warnings returned (and flags written) per pledge or contribution, at most.
MAX_WARNINGS = 20


@dataclass(frozen=True, slots=True)
class DuplicateAidWarning:
    """Earlier help in the same category: a programme enrolment or another contribution."""

    #: `ENROLMENT` or `CONTRIBUTION`.
    kind: str
    category_code: str
    #: The programme (for an enrolment) and the enrolment's id.
    program_code: str | None
    enrolment_id: int | None
    #: The earlier contribution's id.
    contribution_id: int | None
    #: The agency running the programme, or the organisation that contributed.
    organization_id: int
    organization_code: str
    #: When the enrolment started, or when the contribution was delivered.
    on: dt.date

    @property
    def message(self) -> str:
        """One sentence for people: what was found, from whom, since when."""
        if self.kind == "ENROLMENT":
            return (
                f"the citizen is enrolled in {self.program_code} ({self.organization_code}) "
                f"since {self.on.isoformat()}, a {self.category_code} programme"
            )
        return (
            f"the citizen received contribution {contribution_ref(self.contribution_id)} in "
            f"{self.category_code} from {self.organization_code} on {self.on.isoformat()}"
        )


_enrolments = Enrolment.__table__
_programs = Program.__table__
_contributions = Contribution.__table__
_organizations = Organization.__table__
_flags = DuplicateAidFlag.__table__


async def find_earlier_aid(
    session: AsyncSession,
    *,
    citizen_id: int,
    category_code: str,
    day: dt.date,
    window: dt.timedelta = DUPLICATE_AID_WINDOW,
    exclude_need_id: int | None = None,
) -> list[DuplicateAidWarning]:
    """Enrolments active and contributions delivered within `window` of `day`, one query."""
    since = day - window
    until = day + window
    enrolled = (
        select(
            literal("ENROLMENT").label("kind"),
            _programs.c.code.label("program_code"),
            _enrolments.c.id.label("enrolment_id"),
            null().label("contribution_id"),
            _organizations.c.id.label("organization_id"),
            _organizations.c.code.label("organization_code"),
            _enrolments.c.started_on.label("found_on"),
        )
        .select_from(
            _enrolments.join(_programs, _programs.c.code == _enrolments.c.program_code).join(
                _organizations, _organizations.c.code == _programs.c.agency_code
            )
        )
        .where(
            _enrolments.c.citizen_id == citizen_id,
            _programs.c.category_code == category_code,
            _enrolments.c.started_on <= day,
            or_(_enrolments.c.ended_on.is_(None), _enrolments.c.ended_on >= since),
        )
    )
    contributed = (
        select(
            literal("CONTRIBUTION").label("kind"),
            null().label("program_code"),
            null().label("enrolment_id"),
            _contributions.c.id.label("contribution_id"),
            _organizations.c.id.label("organization_id"),
            _organizations.c.code.label("organization_code"),
            _contributions.c.delivered_on.label("found_on"),
        )
        .select_from(
            _contributions.join(
                _organizations, _organizations.c.id == _contributions.c.organization_id
            )
        )
        .where(
            _contributions.c.citizen_id == citizen_id,
            _contributions.c.category_code == category_code,
            _contributions.c.delivered_on.between(since, until),
        )
    )
    if exclude_need_id is not None:
        # Several deliveries against one need are instalments of one help, not duplicates.
        contributed = contributed.where(
            or_(_contributions.c.need_id.is_(None), _contributions.c.need_id != exclude_need_id)
        )
    found = union_all(enrolled, contributed).subquery()
    rows = await session.execute(
        select(found)
        .order_by(
            found.c.found_on.desc(), found.c.kind, found.c.enrolment_id, found.c.contribution_id
        )
        .limit(MAX_WARNINGS)
    )
    return [
        DuplicateAidWarning(
            kind=row.kind,
            category_code=category_code,
            program_code=row.program_code,
            enrolment_id=row.enrolment_id,
            contribution_id=row.contribution_id,
            organization_id=row.organization_id,
            organization_code=row.organization_code,
            on=_as_date(row.found_on),
        )
        for row in rows
    ]


def _as_date(value: object) -> dt.date:
    # A UNION's column carries no type on SQLite, so dates may come back as ISO text.
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


async def flagged_warnings(
    session: AsyncSession, *, contribution_id: int
) -> list[DuplicateAidWarning]:
    """The warnings recorded when `contribution_id` was created (for an idempotent replay)."""
    rows = await session.execute(
        select(
            _flags.c.found_kind,
            _flags.c.category_code,
            _enrolments.c.program_code,
            _flags.c.found_enrolment_id,
            _flags.c.found_contribution_id,
            _flags.c.found_organization_id,
            _organizations.c.code,
            _flags.c.found_on,
        )
        .select_from(
            _flags.join(
                _organizations, _organizations.c.id == _flags.c.found_organization_id
            ).outerjoin(_enrolments, _enrolments.c.id == _flags.c.found_enrolment_id)
        )
        .where(_flags.c.contribution_id == contribution_id)
        .order_by(_flags.c.id)
    )
    return [
        DuplicateAidWarning(
            kind=kind,
            category_code=category,
            program_code=program,
            enrolment_id=enrolment_id,
            contribution_id=found_contribution_id,
            organization_id=organization_id,
            organization_code=organization_code,
            on=found_on,
        )
        for (
            kind,
            category,
            program,
            enrolment_id,
            found_contribution_id,
            organization_id,
            organization_code,
            found_on,
        ) in rows
    ]
