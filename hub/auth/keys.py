"""The hub's signing keys: a key ring, and the stores it is loaded from.

Access tokens are signed with ES256 (ECDSA on P-256): every JOSE library an agency is
likely to run verifies it, whereas `EdDSA` is deprecated by RFC 9864 and its replacement
`Ed25519` is not yet widely supported.

Key material never lives in the repository. A store holds a PEM bundle: one or more
PKCS#8 private keys, newest first. The first key signs; the others are retired and only
verify, so tokens they signed keep working until they expire. Rotating means putting a new
key in front and dropping the oldest once its tokens have expired (one token lifetime
later). Each key's `kid` is its RFC 7638 thumbprint, so the PEM needs no metadata.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread
from joserfc.jwk import ECKey, KeyParameters

from hub.keystore import EnvSecret, FileSecret
from hub.settings import AuthSettings, SettingsError

log = logging.getLogger(__name__)

ALGORITHM = "ES256"
CURVE = "P-256"

_PEM_BLOCK = re.compile(
    r"-----BEGIN (?:EC )?PRIVATE KEY-----.+?-----END (?:EC )?PRIVATE KEY-----", re.DOTALL
)


class KeyStoreError(SettingsError):
    """The signing key material is missing or unusable."""


def _with_kid(key: ECKey) -> ECKey:
    """`key` tagged with its thumbprint as `kid`, for signatures with ES256 only."""
    if key.curve_name != CURVE:
        raise KeyStoreError(f"signing keys must be EC {CURVE}, not {key.curve_name}")
    params: KeyParameters = {"use": "sig", "alg": ALGORITHM, "kid": key.thumbprint()}
    return ECKey.import_key(key.as_dict(private=key.is_private), parameters=params)


def generate_key() -> ECKey:
    """A fresh private signing key."""
    return _with_kid(ECKey.generate_key(CURVE, private=True))


def parse_pem_bundle(text: str) -> list[ECKey]:
    """The private keys in a PEM bundle, in order; raise `KeyStoreError` when there are none."""
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise KeyStoreError("no PEM private key found in the signing key material")
    keys = []
    for block in blocks:
        try:
            key = ECKey.import_key(block.encode())
        except Exception as error:  # cryptography raises several unrelated types here
            raise KeyStoreError(f"unreadable signing key: {type(error).__name__}") from None
        if not key.is_private:
            raise KeyStoreError("the signing key material must hold private keys")
        keys.append(_with_kid(key))
    return keys


def dump_pem_bundle(keys: Iterable[ECKey]) -> str:
    """The PEM bundle of `keys`, newest first."""
    return "".join(key.as_pem(private=True).decode() for key in keys)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The key that signs now, and every key whose tokens may still be live."""

    signing: ECKey
    verifying: tuple[ECKey, ...]

    @classmethod
    def of(cls, keys: list[ECKey]) -> KeyRing:
        """A ring signing with the first of `keys` and verifying with all of them."""
        return cls(signing=keys[0], verifying=tuple(keys))

    def by_kid(self, kid: str) -> ECKey | None:
        """The verifying key named `kid`, or None."""
        for key in self.verifying:
            if key.kid == kid:
                return key
        return None

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set published at `/.well-known/jwks.json`."""
        return {"keys": [dict(key.as_dict(private=False)) for key in self.verifying]}


class KeyStore(Protocol):
    """Where the signing keys live."""

    def load(self) -> KeyRing:
        """Read the key ring; raise `KeyStoreError` when it is missing or unusable."""
        ...


def _ring(pem: str) -> KeyRing:
    return KeyRing.of(parse_pem_bundle(pem))


class EnvKeyStore(EnvSecret[KeyRing]):
    """Keys given as a PEM bundle in a variable (`HUB_SIGNING_KEY`), read-only."""

    def __init__(self, pem: str) -> None:
        super().__init__(pem, _ring)


class FileKeyStore(FileSecret[KeyRing]):
    """Keys in a PEM file; in development the file is created on first use."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        super().__init__(
            path,
            parse=_ring,
            generate=lambda: dump_pem_bundle([generate_key()]),
            create=create,
            missing=KeyStoreError,
            what="signing key file",
        )

    def rotate(self, *, keep_previous: int = 1) -> KeyRing:
        """Put a new signing key first, keep `keep_previous` older keys; return the new ring.

        Drop a key only once its tokens have expired: `keep_previous=1` is right when
        rotations are at least one token lifetime apart.
        """
        with self._lock:
            existing = parse_pem_bundle(self.path.read_text()) if self.path.exists() else []
            keys = [generate_key(), *existing[:keep_previous]]
            self._write(keys)
            return KeyRing.of(keys)

    def _write(self, keys: list[ECKey], *, replace: bool = True) -> None:
        """Write `keys` as the file's bundle (see `FileSecret._write_text`)."""
        self._write_text(dump_pem_bundle(keys), replace=replace)


class MemoryKeyStore:
    """Keys held in memory only, for tests and throw-away servers."""

    def __init__(self, keys: list[ECKey] | None = None) -> None:
        self.keys = keys or [generate_key()]

    def load(self) -> KeyRing:
        """The key ring held in memory."""
        return KeyRing.of(self.keys)

    def rotate(self, *, keep_previous: int = 1) -> KeyRing:
        """Put a new signing key first, keep `keep_previous` older keys; return the new ring."""
        self.keys = [generate_key(), *self.keys[:keep_previous]]
        return KeyRing.of(self.keys)


def key_store_from_settings(settings: AuthSettings, *, var_dir: Path, production: bool) -> KeyStore:
    """The store the settings name; a generated file under `var_dir` in development only."""
    if settings.signing_key_pem:
        return EnvKeyStore(settings.signing_key_pem.get_secret_value())
    if settings.signing_key_file is not None:
        return FileKeyStore(settings.signing_key_file)
    if production:
        raise KeyStoreError(
            "set HUB_SIGNING_KEY_FILE or HUB_SIGNING_KEY in production "
            "(`hub keys init DIR` makes the file)"
        )
    return FileKeyStore(var_dir / "keys" / "signing-key.pem", create=True)


class SigningKeys:
    """The live key ring of a process, reloaded when a token names a key it does not know.

    Several workers restart one by one after a rotation; a worker still on the old ring
    reloads when it meets the new `kid` instead of refusing tokens its peers issued.
    """

    def __init__(
        self, store: KeyStore, *, clock: Callable[[], float], reload_interval: float = 30.0
    ) -> None:
        self.store = store
        self.ring = store.load()
        self._clock = clock
        self._reload_interval = reload_interval
        self._loaded_at = clock()

    async def reload_if_stale(self) -> bool:
        """Re-read the store unless it was read recently; return whether the ring changed."""
        now = self._clock()
        if now - self._loaded_at < self._reload_interval:
            return False
        self._loaded_at = now
        try:
            ring = await anyio.to_thread.run_sync(self.store.load)
        except KeyStoreError as error:
            # Keep serving with the ring in hand; a half-edited key file must not stop us.
            log.warning("could not reload the signing keys: %s", error)
            return False
        changed = ring.jwks() != self.ring.jwks() or ring.signing.kid != self.ring.signing.kid
        self.ring = ring
        return changed
