"""GraphQL fields of the audit trail, for auditors (and organisations, for their own)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from hub.audit import queries
from hub.audit.types import AccessEntry, AuditEvent, AuditIntegrity
from hub.graphql.context import Context
from hub.graphql.errors import NotFound
from hub.graphql.lists import page_of
from hub.graphql.relay import After, Connection, First, pk_of
from hub.graphql.scalars import NIK
from hub.registry.models import Citizen


@strawberry.input(description="Which audit events to list. Every given condition must hold.")
class AuditEventFilter:
    since: dt.datetime | None = strawberry.field(default=None, description="At or after this.")
    until: dt.datetime | None = strawberry.field(default=None, description="Before this.")
    organization: str | None = strawberry.field(default=None, description="Organisation code.")
    client: str | None = strawberry.field(default=None, description="OAuth2 client id.")
    operation: str | None = strawberry.field(default=None, description="Operation name.")
    decision: str | None = strawberry.field(default=None, description="`ALLOWED` or `DENIED`.")
    citizen: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of a citizen whose personal data was returned."
    )


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="Audit events, newest first. Auditors see every event; other roles only "
        "their own organisation's."
    )
    async def audit_events(
        self,
        info: Info[Context, Any],
        filter: Annotated[
            AuditEventFilter | None,
            strawberry.argument(description="Which events; all when omitted."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[AuditEvent]:
        f = filter or AuditEventFilter()
        statement = queries.events_statement(
            queries.EventFilter(
                since=f.since,
                until=f.until,
                organization_code=f.organization,
                client_id=f.client,
                operation_name=f.operation,
                decision=f.decision,
                citizen_id=pk_of(f.citizen, "Citizen") if f.citizen else None,
            )
        )
        return await page_of(
            info,
            "AuditEvent",
            statement,
            queries.EVENT_ORDER,
            AuditEvent.from_row,
            first=first,
            after=after,
        )

    @strawberry.field(
        description="Every recorded access to one person's personal data: who, when, for "
        "what purpose, which fields (UU PDP art. 32). Newest first; an index range, fast at "
        "city scale. Errors with NOT_FOUND for a NIK the hub does not hold."
    )
    async def access_report(
        self,
        info: Info[Context, Any],
        nik: Annotated[NIK, strawberry.argument(description="The person's NIK.")],
        first: First = None,
        after: After = None,
    ) -> Connection[AccessEntry]:
        context = info.context
        citizen_id = await context.scalar(select(Citizen.id).where(Citizen.nik == nik))
        if citizen_id is None:
            raise NotFound("The hub holds no person with this NIK")
        statement = queries.access_report_query(citizen_id=citizen_id).order_by(None)
        return await page_of(
            info,
            "AuditEvent",
            statement,
            queries.ACCESS_ORDER,
            AccessEntry.from_row,
            first=first,
            after=after,
        )

    @strawberry.field(
        description="The last signed checkpoint and whether the chain since verifies now."
    )
    async def audit_integrity(self, info: Info[Context, Any]) -> AuditIntegrity:
        context = info.context
        recorder = context.recorder
        if recorder is None:
            raise NotFound("The audit trail is switched off on this server")
        async with context.db_lock:
            status = await queries.integrity_status(
                context.session, verifiers=recorder.verifiers(), origin=recorder.origin
            )
        verification = status.verification
        return AuditIntegrity(
            ok=status.ok,
            checked_at=status.checked_at,
            last_seq=str(status.last_seq),
            last_checkpoint_seq=None
            if status.last_checkpoint_seq is None
            else str(status.last_checkpoint_seq),
            last_checkpoint_at=status.last_checkpoint_at,
            last_checkpoint=status.last_checkpoint_note,
            unsealed=status.unsealed,
            verified_from_seq=str(status.verified_from_seq),
            first_bad_seq=None
            if verification.first_bad_seq is None
            else str(verification.first_bad_seq),
            problems=[f"{seq}: {problem}" for seq, problem in verification.problems],
        )
