"""The hash chain: how an event is serialised and hashed, so anyone can re-check it.

An auditor can re-implement verification from this docstring alone.

**Canonical form.** An event is the JSON object with exactly these members:

    seq, prev_hash, occurred_at, kind, request_id, client_id, organization_code, roles,
    token_id, source_address, purpose, operation_type, operation_name, document_sha256,
    variables, decision, reason, citizens, citizen_count, result_size, duration_us

- `seq` is an integer, 1 for the first event ever, each next event +1, no gaps.
- `prev_hash` is the `hash` of event `seq - 1` (64 `0`s for `seq = 1`), lowercase hex.
- `occurred_at` is UTC with microseconds: `2026-11-27T19:35:42.000123Z`.
- `roles` is a JSON array of strings in the order recorded.
- `citizens` is an array of `{"citizen_id": int, "fields": [str, ...]}` sorted by
  `citizen_id`, each `fields` sorted and without duplicates; `citizen_count` is its length.
- `variables` is any JSON value (personal values already replaced by keyed hashes).
- Absent values are `null`; integers are plain JSON integers.

It is serialised as JSON with object keys sorted by code point at every level, no
insignificant whitespace (`","` and `":"` separators), non-ASCII characters written as
themselves in UTF-8, and no NaN or infinities. For the hub's data (ASCII keys, integers, no
floats) this is the same byte string as RFC 8785 (JCS) produces.

**Hash.** `hash = lowercase_hex(SHA-256(canonical UTF-8 bytes))`. Because `prev_hash` is
inside the hashed bytes, changing, removing, inserting or reordering any event changes every
later hash; a signed checkpoint (`hub.audit.notes`) over the hash of event `n` therefore
seals events 1..n.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64

#: The members of an event's canonical form, in the order documented above.
CANONICAL_FIELDS = (
    "seq",
    "prev_hash",
    "occurred_at",
    "kind",
    "request_id",
    "client_id",
    "organization_code",
    "roles",
    "token_id",
    "source_address",
    "purpose",
    "operation_type",
    "operation_name",
    "document_sha256",
    "variables",
    "decision",
    "reason",
    "citizens",
    "citizen_count",
    "result_size",
    "duration_us",
)
_FIELD_SET = frozenset(CANONICAL_FIELDS)


class CanonicalFormError(ValueError):
    """A record is not an event's canonical form (missing or unknown members)."""


def format_time(moment: dt.datetime) -> str:
    """`moment` as canonical UTC text with microseconds; naive times are refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; audit times are timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """The aware UTC datetime of a canonical time string."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 JSON bytes of any JSON value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed for an event record holding exactly the canonical members."""
    keys = set(record)
    if keys != _FIELD_SET:
        missing = sorted(_FIELD_SET - keys)
        extra = sorted(keys - _FIELD_SET)
        raise CanonicalFormError(f"not a canonical event: missing {missing}, unknown {extra}")
    return canonical_json(dict(record))


def event_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 (lowercase hex) of the canonical form of `record`."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()
