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

This module builds on `hub.env` only; `hub.settings` nests it (no import circle).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, StringConstraints
from pydantic_settings import SettingsConfigDict

from hub.env import HubSettings

DEFAULT_ORIGIN = "bandung.go.id/satu-pintu-hub/audit"


class AuditSettings(HubSettings):
    """Typed settings of the audit trail."""

    model_config = SettingsConfigDict(env_prefix="HUB_AUDIT_")

    #: A PEM file holding the Ed25519 checkpoint key(s), newest first; see `hub.audit.keys`.
    key_file: Path | None = None
    #: The PEM itself, for deployments that inject secrets as variables (never logged).
    key_pem: SecretStr | None = Field(default=None, validation_alias="HUB_AUDIT_KEY")
    #: A file holding the pepper of the keyed hashes (HMAC-SHA256) of personal values.
    pepper_file: Path | None = None
    #: The pepper itself (never logged).
    pepper: SecretStr | None = None
    #: The first line of every checkpoint, and the name of the key that signs it. A
    #: signed-note key name: printable ASCII, no spaces and no '+' (C2SP signed-note).
    origin: Annotated[
        str,
        StringConstraints(pattern=r"^[!-*,-~]+$"),
        Field(description="printable ASCII without spaces or '+'"),
    ] = DEFAULT_ORIGIN
    #: Write a checkpoint once this many events are unsealed.
    checkpoint_every: int = Field(default=1000, ge=1, le=1_000_000)
    #: Or once the oldest unsealed event is this many seconds past the last checkpoint.
    checkpoint_seconds: int = Field(default=60, ge=1, le=86400)
    #: Events older than this many days may be archived (exported, then deleted). Less than
    #: a year would defeat the Ombudsman's annual review.
    retention_days: int = Field(default=1825, ge=365, le=36500)
    #: The largest number of events committed together by the group-commit writer.
    max_batch: int = Field(default=500, ge=1, le=10_000)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuditSettings:
        """Build settings from `HUB_AUDIT_*` variables; raise `SettingsError` on a bad value."""
        return cls.read(env)
