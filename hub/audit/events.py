"""What the request path hands to the recorder: an event, and the citizens it touched."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

#: Longest text per column of `audit_events`; longer values are cut (before hashing).
_TEXT_LIMITS = {
    "request_id": 64,
    "client_id": 64,
    "organization_code": 24,
    "token_id": 64,
    "source_address": 64,
    "purpose": 24,
    "operation_type": 16,
    "operation_name": 120,
    "document_sha256": 64,
    "reason": 200,
}

#: GRAPHQL: a GraphQL operation (admin mutations included); TOKEN: a request to the OAuth2
#: endpoints (`operation_type="token"`, `operation_name` the grant or `revoke`/`introspect`);
#: ADMIN: a change or a personal-data read made outside GraphQL, from the `hub` command.
EventKind = Literal["GRAPHQL", "TOKEN", "ADMIN"]
Decision = Literal["ALLOWED", "DENIED"]


def document_digest(document: str) -> str:
    """SHA-256 (hex) of a GraphQL document as received, so persisted queries are recognisable."""
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CitizenAccess:
    """One citizen whose personal fields a response contained, and which fields."""

    citizen_id: int
    #: GraphQL field names, sorted and unique.
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One operation to be appended to the trail; `seq` and `hash` are given on append.

    `variables` must already be redacted (`hub.audit.redact`); `AuditRecorder.event` does
    that, and the digest of the document, for the request path.
    """

    occurred_at: dt.datetime
    decision: Decision
    kind: EventKind = "GRAPHQL"
    reason: str | None = None
    request_id: str | None = None
    client_id: str | None = None
    organization_code: str | None = None
    roles: tuple[str, ...] = ()
    token_id: str | None = None
    source_address: str | None = None
    purpose: str | None = None
    operation_type: str | None = None
    operation_name: str | None = None
    document_sha256: str | None = None
    variables: Any = None
    citizens: tuple[CitizenAccess, ...] = ()
    result_size: int | None = None
    duration_us: int | None = None

    def __post_init__(self) -> None:
        for name, limit in _TEXT_LIMITS.items():
            value = getattr(self, name)
            if value is not None and (len(value) > limit or "\x00" in value):
                # Client-supplied text (an operation name, a request id) must never make the
                # write fail, or a long name would turn into a refused request.
                object.__setattr__(self, name, value.replace("\x00", "\ufffd")[:limit])
        if self.occurred_at.tzinfo is None:
            raise ValueError("AuditEvent.occurred_at must be timezone-aware")
        if self.decision not in ("ALLOWED", "DENIED"):
            raise ValueError(f"unknown decision {self.decision!r}")
        if self.kind not in ("GRAPHQL", "TOKEN", "ADMIN"):
            raise ValueError(f"unknown event kind {self.kind!r}")
        # Normalised here so the stored rows and the hashed form agree by construction.
        object.__setattr__(self, "citizens", merge_accesses(self.citizens))


def merge_accesses(accesses: Iterable[CitizenAccess]) -> tuple[CitizenAccess, ...]:
    """Accesses merged per citizen (fields united), sorted by citizen id."""
    fields: dict[int, set[str]] = {}
    for access in accesses:
        fields.setdefault(access.citizen_id, set()).update(access.fields)
    return tuple(CitizenAccess(cid, tuple(sorted(fields[cid]))) for cid in sorted(fields))


@dataclass
class CitizenAccessLog:
    """Collects, during one request, which citizens' personal fields the response holds.

    The GraphQL context holds one (`Context.personal_reads`): the field-masking layer adds
    each personal field a response returns in full, and `hub.graphql.audit` puts
    `snapshot()` into the request's event.
    """

    _fields: dict[int, set[str]] = field(default_factory=dict)

    def add(self, citizen_id: int, *fields: str) -> None:
        """Record that the response holds `fields` of citizen `citizen_id`."""
        self._fields.setdefault(citizen_id, set()).update(fields)

    def __len__(self) -> int:
        return len(self._fields)

    def snapshot(self) -> tuple[CitizenAccess, ...]:
        """The accesses so far, sorted by citizen id, fields sorted."""
        return tuple(
            CitizenAccess(cid, tuple(sorted(self._fields[cid]))) for cid in sorted(self._fields)
        )
