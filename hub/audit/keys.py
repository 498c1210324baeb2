"""The audit trail's two secrets: the checkpoint signing key and the redaction pepper.

Where they come from (a variable, a file generated on first use in development, memory in
tests) is `hub.keystore`, shared with the identity layer's signing keys.

- The **signing key** is Ed25519 (a PEM bundle of PKCS#8 keys, newest first). The first key
  signs checkpoints; the others only verify, so checkpoints signed before a rotation keep
  verifying. Publish every key's public half (`hub audit public-key`) for auditors.
- The **pepper** keys the HMAC that replaces personal values in recorded variables. It must
  stay the same for the life of the trail, or the same NIK would hash differently before
  and after a change and an auditor could no longer match them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.notes import NoteSigner, NoteVerifier
from hub.audit.settings import AuditSettings
from hub.env import SettingsError
from hub.keystore import EnvSecret, FileSecret

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


def _check_pepper(text: str) -> bytes:
    """The pepper's bytes; raise `AuditKeyError` when it is too short to be a secret."""
    pepper = text.strip().encode()
    if len(pepper) < MIN_PEPPER_LENGTH:
        raise AuditKeyError(f"the audit pepper must be at least {MIN_PEPPER_LENGTH} characters")
    return pepper


def generate_pepper() -> str:
    """A fresh pepper: 32 random bytes, base64url."""
    return secrets.token_urlsafe(32) + "\n"


def _ring(pem: str) -> AuditKeyRing:
    return AuditKeyRing(tuple(parse_key_bundle(pem)))


class FileAuditKeyStore(FileSecret[AuditKeyRing]):
    """Signing keys in a PEM file; in development the file is created on first use."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        super().__init__(
            path,
            parse=_ring,
            generate=lambda: dump_key_bundle([Ed25519PrivateKey.generate()]),
            create=create,
            missing=AuditKeyError,
            what="audit key file",
        )


class EnvAuditKeyStore(EnvSecret[AuditKeyRing]):
    """Signing keys given as a PEM bundle in `HUB_AUDIT_KEY`, read-only."""

    def __init__(self, pem: str) -> None:
        super().__init__(pem, _ring)


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


class FilePepperStore(FileSecret[bytes]):
    """The pepper in a file; in development the file is created on first use."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        super().__init__(
            path,
            parse=_check_pepper,
            generate=generate_pepper,
            create=create,
            missing=AuditKeyError,
            what="audit pepper file",
        )


class EnvPepperStore(EnvSecret[bytes]):
    """The pepper given in `HUB_AUDIT_PEPPER`."""

    def __init__(self, pepper: str) -> None:
        super().__init__(pepper, _check_pepper)


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
