"""The audit trail's two secrets: the checkpoint signing key and the redaction pepper.

Both mirror `hub.auth.keys`: in production they come from a file or a variable named by the
settings; in development they are generated on first use under `var/keys/` (owner-only
files); tests hold them in memory. Neither ever lives in the repository or the database.

- The **signing key** is Ed25519 (a PEM bundle of PKCS#8 keys, newest first). The first key
  signs checkpoints; the others only verify, so checkpoints signed before a rotation keep
  verifying. Publish every key's public half (`hub audit public-key`) for auditors.
- The **pepper** keys the HMAC that replaces personal values in recorded variables. It must
  stay the same for the life of the trail, or the same NIK would hash differently before
  and after a change and an auditor could no longer match them.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.notes import NoteSigner, NoteVerifier
from hub.audit.settings import AuditSettings
from hub.env import SettingsError

# `[ ]` is a plain space; written so, the pattern is not mistaken for a committed key.
_PEM_BLOCK = re.compile(r"-----BEGIN PRIVATE[ ]KEY-----.+?-----END PRIVATE[ ]KEY-----", re.DOTALL)
#: 32 bytes of entropy written as 43 base64url characters; shorter secrets are refused.
MIN_PEPPER_LENGTH = 32


class AuditKeyError(SettingsError):
    """The audit key or pepper is missing or unusable."""


def parse_key_bundle(text: str) -> list[Ed25519PrivateKey]:
    """The Ed25519 private keys of a PEM bundle, in order; raise `AuditKeyError` if none."""
    keys = []
    for block in _PEM_BLOCK.findall(text):
        try:
            key = serialization.load_pem_private_key(block.encode(), password=None)
        except (ValueError, TypeError):
            raise AuditKeyError("unreadable audit signing key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError("audit signing keys must be Ed25519")
        keys.append(key)
    if not keys:
        raise AuditKeyError("no PEM private key found in the audit key material")
    return keys


def dump_key_bundle(keys: list[Ed25519PrivateKey]) -> str:
    """The PEM bundle of `keys`, newest first."""
    return "".join(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        for key in keys
    )


@dataclass(frozen=True, slots=True)
class AuditKeyRing:
    """The key that signs checkpoints now, and every key whose checkpoints still verify."""

    keys: tuple[Ed25519PrivateKey, ...]

    def signer(self, origin: str) -> NoteSigner:
        """The signer of new checkpoints for the log named `origin`."""
        return NoteSigner(origin, self.keys[0])

    def verifiers(self, origin: str) -> list[NoteVerifier]:
        """Verifiers for every key in the ring, under the key name `origin`."""
        return [NoteVerifier(origin, key.public_key()) for key in self.keys]


class AuditKeyStore(Protocol):
    """Where the checkpoint signing keys live."""

    def load(self) -> AuditKeyRing:
        """Read the ring; raise `AuditKeyError` when it is missing or unusable."""
        ...


class PepperStore(Protocol):
    """Where the redaction pepper lives."""

    def load(self) -> bytes:
        """Read the pepper; raise `AuditKeyError` when it is missing or too short."""
        ...


def _write_private(path: Path, text: str) -> None:
    """Create `path` owner-only and atomically; an existing file wins (racing workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


class _SecretFile:
    """A secret in a file, generated on first use when allowed (development)."""

    def __init__(self, path: Path, generate: Callable[[], str], *, create: bool) -> None:
        self.path = path
        self.create = create
        self._generate = generate
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def read(self) -> str:
        """The file's text, generating the secret first when allowed and missing."""
        with self._lock:
            if not self.path.exists():
                if not self.create:
                    raise AuditKeyError(f"{self.path} does not exist")
                _write_private(self.path, self._generate())
            return self.path.read_text()


def _check_pepper(text: str) -> bytes:
    """The pepper's bytes; raise `AuditKeyError` when it is too short to be a secret."""
    pepper = text.strip().encode()
    if len(pepper) < MIN_PEPPER_LENGTH:
        raise AuditKeyError(f"the audit pepper must be at least {MIN_PEPPER_LENGTH} characters")
    return pepper


def generate_pepper() -> str:
    """A fresh pepper: 32 random bytes, base64url."""
    return secrets.token_urlsafe(32) + "\n"


class FileAuditKeyStore(_SecretFile):
    """Signing keys in a PEM file; in development the file is created on first use."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        super().__init__(
            path, lambda: dump_key_bundle([Ed25519PrivateKey.generate()]), create=create
        )

    def load(self) -> AuditKeyRing:
        """The ring in the file."""
        return AuditKeyRing(tuple(parse_key_bundle(self.read())))


class EnvAuditKeyStore:
    """Signing keys given as a PEM bundle in `HUB_AUDIT_KEY`, read-only."""

    def __init__(self, pem: str) -> None:
        self._pem = pem

    def __repr__(self) -> str:
        return "EnvAuditKeyStore(<redacted>)"

    def load(self) -> AuditKeyRing:
        """The ring held in the variable."""
        return AuditKeyRing(tuple(parse_key_bundle(self._pem)))


class MemoryAuditKeyStore:
    """Signing keys in memory only, for tests and throw-away servers."""

    def __init__(self, keys: list[Ed25519PrivateKey] | None = None) -> None:
        self.keys = keys or [Ed25519PrivateKey.generate()]

    def load(self) -> AuditKeyRing:
        """The ring held in memory."""
        return AuditKeyRing(tuple(self.keys))

    def rotate(self) -> AuditKeyRing:
        """Put a new signing key first; the old ones keep verifying."""
        self.keys = [Ed25519PrivateKey.generate(), *self.keys]
        return self.load()


class FilePepperStore(_SecretFile):
    """The pepper in a file; in development the file is created on first use."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        super().__init__(path, generate_pepper, create=create)

    def load(self) -> bytes:
        """The pepper in the file."""
        return _check_pepper(self.read())


class EnvPepperStore:
    """The pepper given in `HUB_AUDIT_PEPPER`."""

    def __init__(self, pepper: str) -> None:
        self._pepper = pepper

    def __repr__(self) -> str:
        return "EnvPepperStore(<redacted>)"

    def load(self) -> bytes:
        """The pepper held in the variable."""
        return _check_pepper(self._pepper)


class MemoryPepperStore:
    """A pepper in memory only, for tests."""

    def __init__(self, pepper: bytes | None = None) -> None:
        self.pepper = pepper or secrets.token_bytes(32)

    def load(self) -> bytes:
        """The pepper held in memory."""
        return self.pepper


def key_store_from_settings(
    settings: AuditSettings, *, var_dir: Path, production: bool
) -> AuditKeyStore:
    """The key store the settings name; a generated file under `var_dir` in development only."""
    if settings.key_pem:
        return EnvAuditKeyStore(settings.key_pem.get_secret_value())
    if settings.key_file is not None:
        return FileAuditKeyStore(settings.key_file)
    if production:
        raise AuditKeyError(
            "set HUB_AUDIT_KEY_FILE or HUB_AUDIT_KEY in production "
            "(`hub keys init DIR` makes the file)"
        )
    return FileAuditKeyStore(var_dir / "keys" / "audit-key.pem", create=True)


def pepper_store_from_settings(
    settings: AuditSettings, *, var_dir: Path, production: bool
) -> PepperStore:
    """The pepper store the settings name; a generated file under `var_dir` in development."""
    if settings.pepper:
        return EnvPepperStore(settings.pepper.get_secret_value())
    if settings.pepper_file is not None:
        return FilePepperStore(settings.pepper_file)
    if production:
        raise AuditKeyError(
            "set HUB_AUDIT_PEPPER_FILE or HUB_AUDIT_PEPPER in production "
            "(`hub keys init DIR` makes the file)"
        )
    return FilePepperStore(var_dir / "keys" / "audit-pepper", create=True)
