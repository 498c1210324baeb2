"""GraphQL types of the audit trail, mapped from rows in one place."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import strawberry
from sqlalchemy.engine import Row

from hub.graphql.relay import Node, to_global_id


@strawberry.type(description="A citizen whose personal fields a response carried in full.")
class AuditCitizenAccess:
    citizen: strawberry.ID = strawberry.field(description="Global id of the citizen.")
    fields: list[str] = strawberry.field(description="The personal fields returned in full.")


@strawberry.type(description="One recorded operation: who asked, why, what, and the decision.")
class AuditEvent(Node):
    seq: str = strawberry.field(
        description="Position in the chain, as a decimal string (it can pass 2^31)."
    )
    occurred_at: dt.datetime = strawberry.field(description="When the operation started.")
    kind: str = strawberry.field(
        description="`GRAPHQL`, `TOKEN` (token endpoint) or `ADMIN` (command line)."
    )
    decision: str = strawberry.field(description="`ALLOWED` or `DENIED`.")
    reason: str | None = strawberry.field(
        description="Why it was denied, or the error codes of an allowed operation."
    )
    request_id: str | None = strawberry.field(description="The request id (`X-Request-Id`).")
    client_id: str | None = strawberry.field(description="The OAuth2 client.")
    organization_code: str | None = strawberry.field(description="The client's organisation.")
    roles: list[str] = strawberry.field(description="The roles the token carried.")
    source_address: str | None = strawberry.field(description="The caller's network address.")
    purpose: str | None = strawberry.field(description="The purpose stated in `X-Purpose`.")
    operation_type: str | None = strawberry.field(
        description="`query`, `mutation`, `subscription` or `token`."
    )
    operation_name: str | None = strawberry.field(
        description="The operation's name, or its root fields when it had none."
    )
    document_sha256: str | None = strawberry.field(
        description="SHA-256 (hex) of the GraphQL document as received."
    )
    variables: str | None = strawberry.field(
        description="The variables as JSON, personal values replaced by keyed hashes."
    )
    citizen_count: int = strawberry.field(
        description="How many citizens' personal fields the response carried in full."
    )
    result_size: str | None = strawberry.field(description="Bytes of the response's data.")
    duration_us: str | None = strawberry.field(description="Microseconds it took.")
    prev_hash: str = strawberry.field(description="Hash of the previous event (the chain).")
    hash: str = strawberry.field(description="Hash of this event, its fields and `prevHash`.")
    citizens: list[AuditCitizenAccess] | None = strawberry.field(
        default=None, description="Which citizens, and which of their fields."
    )
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row[Any]) -> AuditEvent:
        """Map an `audit_events` row."""
        return cls(
            id=strawberry.ID(to_global_id("AuditEvent", row.seq)),
            seq=str(row.seq),
            occurred_at=row.occurred_at,
            kind=row.kind,
            decision=row.decision,
            reason=row.reason,
            request_id=row.request_id,
            client_id=row.client_id,
            organization_code=row.organization_code,
            roles=list(row.roles or []),
            source_address=row.source_address,
            purpose=row.purpose,
            operation_type=row.operation_type,
            operation_name=row.operation_name,
            document_sha256=row.document_sha256,
            variables=orjson.dumps(row.variables).decode() if row.variables is not None else None,
            citizen_count=row.citizen_count,
            result_size=None if row.result_size is None else str(row.result_size),
            duration_us=None if row.duration_us is None else str(row.duration_us),
            prev_hash=row.prev_hash,
            hash=row.hash,
            pk=row.seq,
        )


@strawberry.type(description="One access to a person's personal data.")
class AccessEntry:
    seq: str = strawberry.field(description="The audit event's position in the chain.")
    occurred_at: dt.datetime = strawberry.field(description="When.")
    organization_code: str | None = strawberry.field(description="Which organisation.")
    client_id: str | None = strawberry.field(description="Which client.")
    roles: list[str] = strawberry.field(description="With which roles.")
    purpose: str | None = strawberry.field(description="For what stated purpose.")
    operation_name: str | None = strawberry.field(description="Through which operation.")
    fields: list[str] = strawberry.field(description="Which personal fields it received.")
    request_id: str | None = strawberry.field(description="The request id, to trace it.")

    @classmethod
    def from_row(cls, row: Row[Any]) -> AccessEntry:
        """Map a row of the access report query."""
        return cls(
            seq=str(row.seq),
            occurred_at=row.occurred_at,
            organization_code=row.organization_code,
            client_id=row.client_id,
            roles=list(row.roles or []),
            purpose=row.purpose,
            operation_name=row.operation_name,
            fields=list(row.fields or []),
            request_id=row.request_id,
        )


@strawberry.type(
    description="The accesses to one person's personal data by one organisation for one "
    "purpose (UU PDP art. 32): how often, which fields, first and last."
)
class AccessGroup:
    organization_code: str | None = strawberry.field(
        description="Which organisation; null for the public or the hub itself."
    )
    public: bool = strawberry.field(
        description="True for lookups by the public: a tracking code, without a token."
    )
    purpose: str | None = strawberry.field(description="The purpose stated in `X-Purpose`.")
    count: int = strawberry.field(description="How many recorded accesses.")
    fields: list[str] = strawberry.field(
        description="Every field received (`Citizen.nik`, `Household.address`, `Need.tracking`)."
    )
    first_at: dt.datetime = strawberry.field(description="The first access.")
    last_at: dt.datetime = strawberry.field(description="The latest access.")


@strawberry.type(description="Whether the audit trail is intact, as verified just now.")
class AuditIntegrity:
    ok: bool = strawberry.field(description="True when verification found nothing wrong.")
    checked_at: dt.datetime = strawberry.field(description="When it was verified.")
    last_seq: str = strawberry.field(description="The last event's position.")
    last_checkpoint_seq: str | None = strawberry.field(
        description="The position the last signed checkpoint seals."
    )
    last_checkpoint_at: dt.datetime | None = strawberry.field(
        description="When the last checkpoint was signed."
    )
    last_checkpoint: str | None = strawberry.field(
        description="The last checkpoint as a signed note, verifiable with the public key."
    )
    unsealed: int = strawberry.field(description="Events appended since the last checkpoint.")
    verified_from_seq: str = strawberry.field(description="Where this verification started.")
    first_bad_seq: str | None = strawberry.field(
        description="The first position found altered, missing or out of order; null when ok."
    )
    problems: list[str] = strawberry.field(description="What was found wrong, lowest first.")
