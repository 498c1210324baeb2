"""Personal values in recorded variables become keyed hashes, never stored in clear.

`redact_variables` walks the variables of an operation and replaces the value of every
member whose name is personal (`nik`, `fullName`, `address`, … at any depth, in input objects
and lists) by `"hmac-sha256:<hex>"`: HMAC-SHA256 keyed with the hub's secret pepper, over
the value itself when it is a string and over its canonical JSON otherwise. The same value
always gives the same digest, so an auditor holding the pepper can answer "was NIK x ever
searched?" without the log revealing any NIK to whoever reads it; without the pepper the
digest cannot be reversed by trying the ~10^10 plausible NIKs, as a plain hash could.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable
from typing import Any

from hub.audit.chain import canonical_json

PREFIX = "hmac-sha256:"

#: Member names (normalised: lower case, without `_` and `-`) whose values are personal.
PERSONAL_KEYS = frozenset(
    {
        "nik",
        "niks",
        "fullname",
        "name",
        "firstname",
        "lastname",
        "mothername",
        "birthdate",
        "dateofbirth",
        "birthplace",
        "phone",
        "phonenumber",
        "email",
        "address",
        "street",
        "rt",
        "rw",
        "kknumber",
        "kk",
        "nokk",
        "dtksid",
        "description",
        "note",
        "notes",
        "search",
        # A tracking code is a credential for a need's status: never in the trail in clear.
        "trackingcode",
    }
)

#: Variables larger than this (canonical bytes, after redaction) are recorded as a digest.
MAX_VARIABLES_BYTES = 65536


def normalise_key(name: str) -> str:
    """`fullName`, `full_name` and `FULL-NAME` all become `fullname`."""
    return name.replace("_", "").replace("-", "").lower()


def keyed_hash(value: Any, *, pepper: bytes) -> str:
    """`hmac-sha256:<hex>` of a value: over its text for strings, its canonical JSON otherwise."""
    data = value.encode() if isinstance(value, str) else canonical_json(value)
    return PREFIX + hmac.new(pepper, data, hashlib.sha256).hexdigest()


def redact_variables(
    variables: Any, *, pepper: bytes, personal_keys: Iterable[str] = PERSONAL_KEYS
) -> Any:
    """A copy of `variables` with every personal member's value replaced by its keyed hash.

    Nulls stay null (nothing personal was sent). A result larger than `MAX_VARIABLES_BYTES`
    is replaced by `{"truncated": true, "sha256": …}` so one bulk upload cannot bloat the log.
    """
    keys = frozenset(normalise_key(key) for key in personal_keys)
    redacted = _redact(variables, pepper, keys)
    encoded = canonical_json(redacted)
    if len(encoded) > MAX_VARIABLES_BYTES:
        return {
            "truncated": True,
            "bytes": len(encoded),
            "sha256": hashlib.sha256(encoded).hexdigest(),
        }
    return redacted


def _redact(value: Any, pepper: bytes, keys: frozenset[str]) -> Any:
    """The recursive step of `redact_variables`."""
    if isinstance(value, dict):
        return {
            str(name): (
                keyed_hash(item, pepper=pepper)
                if item is not None and normalise_key(str(name)) in keys
                else _redact(item, pepper, keys)
            )
            for name, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(item, pepper, keys) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # lenient JSON parsers accept NaN; the canonical form cannot hold it
    return value
