"""The production key files: made once by `hub keys init DIR`, rotated by `hub keys rotate`.

Three files, each owner-only (0600): the token signing key(s) (`signing-key.pem`, EC P-256,
newest first), the audit checkpoint key(s) (`audit-key.pem`, Ed25519, newest first) and
the audit pepper (`audit-pepper`, the secret of the keyed hashes of personal values).
`init` refuses to overwrite any of them. Rotation puts a new key first and keeps the
previous one, so tokens and checkpoints it signed still verify; the pepper is never
rotated (a new one would unlink a person's earlier audit events from their later ones).

`production_problems` names, for a production start, each missing setting and the
command that makes what it needs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.keys import (
    AuditKeyError,
    dump_key_bundle,
    generate_pepper,
    parse_key_bundle,
    pepper_store_from_settings,
)
from hub.audit.keys import (
    key_store_from_settings as audit_key_store,
)
from hub.auth.keys import (
    FileKeyStore,
    KeyStoreError,
    dump_pem_bundle,
    generate_key,
    key_store_from_settings,
)
from hub.settings import Settings

SIGNING_KEY = "signing-key.pem"
AUDIT_KEY = "audit-key.pem"
AUDIT_PEPPER = "audit-pepper"


class KeyFilesExist(FileExistsError):
    """`hub keys init` found key files it will not overwrite."""


@dataclass(frozen=True, slots=True)
class KeyFiles:
    """Where the three key files of one directory are, and the variables naming them."""

    directory: Path

    @property
    def signing_key(self) -> Path:
        return self.directory / SIGNING_KEY

    @property
    def audit_key(self) -> Path:
        return self.directory / AUDIT_KEY

    @property
    def audit_pepper(self) -> Path:
        return self.directory / AUDIT_PEPPER

    def environment(self) -> dict[str, str]:
        """The `HUB_*` variables that point the hub at these files."""
        return {
            "HUB_SIGNING_KEY_FILE": str(self.signing_key.resolve()),
            "HUB_AUDIT_KEY_FILE": str(self.audit_key.resolve()),
            "HUB_AUDIT_PEPPER_FILE": str(self.audit_pepper.resolve()),
        }


def _create(path: Path, text: str) -> None:
    """Write a new owner-only file; never replace one (O_EXCL)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w") as stream:
        stream.write(text)


def init_keys(directory: Path) -> KeyFiles:
    """Make the three key files in `directory`; raise `KeyFilesExist` if any is there."""
    files = KeyFiles(directory)
    paths = (files.signing_key, files.audit_key, files.audit_pepper)
    present = [str(path) for path in paths if path.exists()]
    if present:
        raise KeyFilesExist(
            "refusing to overwrite " + ", ".join(present) + " (rotate with `hub keys rotate`)"
        )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    _create(files.signing_key, dump_pem_bundle([generate_key()]))
    _create(files.audit_key, dump_key_bundle([Ed25519PrivateKey.generate()]))
    _create(files.audit_pepper, generate_pepper())
    return files


def rotate_keys(directory: Path, *, audit: bool = False) -> list[Path]:
    """A new signing key first in its file (and, with `audit`, a new checkpoint key),
    the previous one kept; return the files changed."""
    files = KeyFiles(directory)
    if not files.signing_key.exists():
        raise FileNotFoundError(f"{files.signing_key} does not exist; run `hub keys init`")
    FileKeyStore(files.signing_key).rotate(keep_previous=1)
    changed = [files.signing_key]
    if audit:
        previous = parse_key_bundle(files.audit_key.read_text())
        text = dump_key_bundle([Ed25519PrivateKey.generate(), *previous[:1]])
        temporary = files.audit_key.with_name(f".{AUDIT_KEY}.new")
        temporary.unlink(missing_ok=True)
        _create(temporary, text)
        os.replace(temporary, files.audit_key)
        changed.append(files.audit_key)
    return changed


def production_problems(settings: Settings) -> list[str]:
    """What a production start lacks: each missing or unusable setting, and the command."""
    if not settings.is_production:
        return []
    var = settings.var_dir
    problems = []
    try:
        key_store_from_settings(settings.auth, var_dir=var, production=True).load()
    except KeyStoreError as problem:
        problems.append(str(problem))
    try:
        audit_key_store(settings.audit, var_dir=var, production=True).load()
    except AuditKeyError as problem:
        problems.append(str(problem))
    try:
        pepper_store_from_settings(settings.audit, var_dir=var, production=True).load()
    except AuditKeyError as problem:
        problems.append(str(problem))
    return problems
