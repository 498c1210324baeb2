"""Batch loaders of the audit trail, and the relations they serve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy import select

from hub.audit.models import AuditEventCitizen
from hub.audit.types import AuditCitizenAccess, AuditEvent
from hub.graphql.context import Context
from hub.graphql.loaders import many_each
from hub.graphql.prefetch import relation
from hub.graphql.relay import to_global_id

_links = AuditEventCitizen.__table__


def _access(row: Any) -> AuditCitizenAccess:
    return AuditCitizenAccess(
        citizen=strawberry.ID(to_global_id("Citizen", row.citizen_id)),
        fields=list(row.fields or []),
    )


async def citizens_by_event(
    context: Context, seqs: Sequence[Any]
) -> list[list[AuditCitizenAccess]]:
    """For each event, the citizens whose personal fields it returned, by citizen id."""
    statement = select(_links).order_by(_links.c.citizen_id)
    return await many_each(context, statement, _links.c.event_seq, seqs, _access, rows=None)


relation(
    AuditEvent, "citizens", attr="citizens", key=lambda e: e.pk, load=citizens_by_event, many=True
)
