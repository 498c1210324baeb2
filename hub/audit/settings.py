"""Configuration of the audit trail, read once from the environment.

- `HUB_AUDIT_KEY_FILE` or `HUB_AUDIT_KEY`: the Ed25519 checkpoint key(s), PEM, as a file or
  a value; generated under `var/keys` in development, required in production.
- `HUB_AUDIT_PEPPER_FILE` or `HUB_AUDIT_PEPPER`: the secret of the keyed hashes of personal
  values (at least 32 characters); generated under `var/keys` in development.
- `HUB_AUDIT_ORIGIN`: the checkpoints' origin line and key name
  (default `bandung.go.id/satu-pintu-hub/audit`).
- `HUB_AUDIT_CHECKPOINT_EVERY`: seal after this many events (default 1000).
- `HUB_AUDIT_CHECKPOINT_SECONDS`: or this many seconds after the last seal (default 60).
- `HUB_AUDIT_RETENTION_DAYS`: events older than this may be archived off the live table
  (default 1825, five years; at least 365).
- `HUB_AUDIT_MAX_BATCH`: the most events one group commit carries (default 500).

Retention is a records-management decision, not a technical one: the default keeps five
years live; `hub audit archive` moves older events to a verified, signed JSON Lines file
that stays verifiable with the public key, so archiving never destroys the evidence.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hub.settings import SettingsError, _int

DEFAULT_ORIGIN = "bandung.go.id/satu-pintu-hub/audit"

# A signed-note key name: printable, no spaces and no '+' (C2SP signed-note).
_ORIGIN = re.compile(r"^[!-*,-~]+$")


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Typed settings of the audit trail."""

    #: A PEM file holding the Ed25519 checkpoint key(s), newest first; see `hub.audit.keys`.
    key_file: Path | None = None
    #: The PEM itself, for deployments that inject secrets as variables (never logged).
    key_pem: str | None = field(default=None, repr=False)
    #: A file holding the pepper of the keyed hashes (HMAC-SHA256) of personal values.
    pepper_file: Path | None = None
    #: The pepper itself (never logged).
    pepper: str | None = field(default=None, repr=False)
    #: The first line of every checkpoint, and the name of the key that signs it.
    origin: str = DEFAULT_ORIGIN
    #: Write a checkpoint once this many events are unsealed.
    checkpoint_every: int = 1000
    #: Or once the oldest unsealed event is this many seconds past the last checkpoint.
    checkpoint_seconds: int = 60
    #: Events older than this many days may be archived (exported, then deleted).
    retention_days: int = 1825
    #: The largest number of events committed together by the group-commit writer.
    max_batch: int = 500

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuditSettings:
        """Build settings from `HUB_AUDIT_*` variables; raise `SettingsError` on a bad value."""
        env = os.environ if env is None else env
        origin = env.get("HUB_AUDIT_ORIGIN") or DEFAULT_ORIGIN
        if not _ORIGIN.match(origin):
            raise SettingsError(
                f"HUB_AUDIT_ORIGIN={origin!r} must be printable ASCII without spaces or '+'"
            )
        key_file = env.get("HUB_AUDIT_KEY_FILE") or None
        pepper_file = env.get("HUB_AUDIT_PEPPER_FILE") or None
        return cls(
            key_file=Path(key_file) if key_file else None,
            key_pem=env.get("HUB_AUDIT_KEY") or None,
            pepper_file=Path(pepper_file) if pepper_file else None,
            pepper=env.get("HUB_AUDIT_PEPPER") or None,
            origin=origin,
            checkpoint_every=_int(env, "HUB_AUDIT_CHECKPOINT_EVERY", 1000, low=1, high=1_000_000),
            checkpoint_seconds=_int(env, "HUB_AUDIT_CHECKPOINT_SECONDS", 60, low=1, high=86400),
            # Less than a year would defeat the Ombudsman's annual review.
            retention_days=_int(env, "HUB_AUDIT_RETENTION_DAYS", 1825, low=365, high=36500),
            max_batch=_int(env, "HUB_AUDIT_MAX_BATCH", 500, low=1, high=10_000),
        )
