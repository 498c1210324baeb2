"""Batch loaders of the programmes domain, and the relations they serve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from hub.graphql.context import Context
from hub.graphql.loaders import many_each, reference_each
from hub.graphql.prefetch import relation
from hub.needs.loaders import categories_by_code, needs_by_citizen
from hub.organizations.loaders import organizations_by_code
from hub.programs.models import Enrolment, Program
from hub.programs.types import Enrolment as EnrolmentType
from hub.programs.types import Program as ProgramType
from hub.registry.types import Citizen as CitizenType

_programs = Program.__table__
_enrolments = Enrolment.__table__

# Built once: the batch loads key their final statements on it (`hub.graphql.loaders`).
_ENROLMENTS_NEWEST_FIRST = select(_enrolments).order_by(
    _enrolments.c.started_on.desc(), _enrolments.c.id
)


async def programs_by_code(context: Context, codes: Sequence[Any]) -> list[ProgramType | None]:
    """Programmes for the given codes, aligned with them (reference data, as regions and
    the need taxonomy: `hub db upgrade` adds the missing ones and nothing changes one, so
    from the process's copy)."""
    return await reference_each(context, _programs, _programs.c.code, codes, ProgramType.from_row)


async def enrolments_by_citizen(context: Context, ids: Sequence[Any]) -> list[list[EnrolmentType]]:
    """For each citizen id, that person's enrolments, newest first."""
    return await many_each(
        context,
        _ENROLMENTS_NEWEST_FIRST,
        _enrolments.c.citizen_id,
        ids,
        EnrolmentType.from_row,
        # Reached only through a citizen, whom the row rules already narrowed.
        rows=None,
    )


relation(
    ProgramType, "agency", attr="agency", key=lambda p: p.agency_code, load=organizations_by_code
)
relation(
    ProgramType, "category", attr="category", key=lambda p: p.category_code, load=categories_by_code
)
relation(
    EnrolmentType, "program", attr="program", key=lambda e: e.program_code, load=programs_by_code
)
relation(
    CitizenType,
    "enrolments",
    attr="enrolments",
    key=lambda c: c.pk,
    load=enrolments_by_citizen,
    many=True,
)
relation(CitizenType, "needs", attr="needs", key=lambda c: c.pk, load=needs_by_citizen, many=True)
