"""Checkpoints as C2SP signed notes, signed with Ed25519.

A checkpoint follows https://c2sp.org/tlog-checkpoint and https://c2sp.org/signed-note, so
generic tools (Go's `golang.org/x/mod/sumdb/note`) can check its signature:

    bandung.go.id/satu-pintu-hub/audit        <- origin (also the key name)
    1234                                      <- tree size: seq of the last sealed event
    q1w2...base64...=                         <- its hash (32 bytes, standard base64)
    time 2026-11-27T19:35:42Z                 <- extension line: when it was signed
                                              <- blank line
    — bandung.go.id/satu-pintu-hub/audit AbCd...base64(key id || signature)...

The log is a hash chain, not a Merkle tree, so the "root hash" is the last event's hash;
since every event hashes its predecessor's hash, it commits to the whole prefix. The key id
is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key), and the
signature covers the note text up to and including the newline before the blank line.
An export's seal is the same note with one more extension line, `export <first seq>`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_ED25519 = b"\x01"
_DASH = "\u2014 "


class NoteError(ValueError):
    """A note or checkpoint that is malformed, unsigned by a known key, or badly signed."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The content of a checkpoint note."""

    origin: str
    #: The seq of the last event it seals.
    size: int
    #: That event's hash, lowercase hex.
    last_hash: str
    signed_at: dt.datetime | None
    #: First seq of the export this note seals, or None for a stored checkpoint.
    export_first_seq: int | None = None


def _key_id(name: str, public: Ed25519PublicKey) -> bytes:
    """The signed-note key id of an Ed25519 key named `name`."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + raw).digest()[:4]


def checkpoint_body(
    origin: str,
    size: int,
    last_hash: str,
    *,
    signed_at: dt.datetime,
    export_first_seq: int | None = None,
) -> str:
    """The text of a checkpoint note, before its signature."""
    root = base64.b64encode(bytes.fromhex(last_hash)).decode()
    lines = [origin, str(size), root, "time " + signed_at.astimezone(dt.UTC).isoformat()]
    if export_first_seq is not None:
        lines.append(f"export {export_first_seq}")
    return "\n".join(lines) + "\n"


def parse_checkpoint(body: str) -> Checkpoint:
    """The checkpoint in a note's text; raise `NoteError` when it is not one."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a size and a hash, each on its own line")
    origin, size, root, *extensions = lines[:-1]
    try:
        digest = base64.b64decode(root, validate=True)
        seq = int(size)
    except (binascii.Error, ValueError):
        raise NoteError("checkpoint size or hash is malformed") from None
    if len(digest) != 32 or str(seq) != size or seq < 0:
        raise NoteError("checkpoint size or hash is malformed")
    signed_at = None
    export_first_seq = None
    for line in extensions:
        word, _, value = line.partition(" ")
        try:
            if word == "time":
                signed_at = dt.datetime.fromisoformat(value)
            elif word == "export":
                export_first_seq = int(value)
        except ValueError:
            raise NoteError(f"checkpoint extension line {line!r} is malformed") from None
    return Checkpoint(origin, seq, digest.hex(), signed_at, export_first_seq)


class NoteSigner:
    """Signs notes with one Ed25519 private key under a key name."""

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        self.name = name
        self.key = key
        self.key_id = _key_id(name, key.public_key())

    def __repr__(self) -> str:
        return f"NoteSigner({self.name!r}, key_id={self.key_id.hex()})"

    def sign(self, body: str) -> str:
        """The signed note: `body`, a blank line and this key's signature line."""
        if not body.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        signature = self.key_id + self.key.sign(body.encode())
        return f"{body}\n{_DASH}{self.name} {base64.b64encode(signature).decode()}\n"

    def verifier(self) -> NoteVerifier:
        """The verifier of this signer's signatures."""
        return NoteVerifier(self.name, self.key.public_key())


class NoteVerifier:
    """Checks signatures by one Ed25519 public key under a key name."""

    def __init__(self, name: str, key: Ed25519PublicKey) -> None:
        self.name = name
        self.key = key
        self.key_id = _key_id(name, key)

    def __repr__(self) -> str:
        return f"NoteVerifier({self.name!r}, key_id={self.key_id.hex()})"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse the signed-note verifier key format `<name>+<hex key id>+<base64 key>`."""
        try:
            name, key_id, encoded = vkey.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("malformed verifier key") from None
        if raw[:1] != _ED25519 or len(raw) != 33:
            raise NoteError("only Ed25519 verifier keys are supported")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if verifier.key_id.hex() != key_id.lower():
            raise NoteError("the verifier key's id does not match its key")
        return verifier

    @classmethod
    def from_pem(cls, pem: str | bytes, *, name: str) -> NoteVerifier:
        """A verifier of a PEM (SubjectPublicKeyInfo) Ed25519 public key named `name`."""
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            raise NoteError("unreadable PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise NoteError("the public key is not an Ed25519 key")
        return cls(name, key)

    def vkey(self) -> str:
        """This key in the signed-note verifier key format."""
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(_ED25519 + raw).decode()}"

    def public_pem(self) -> str:
        """This key as PEM (SubjectPublicKeyInfo), the form published for auditors."""
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def open_note(note: str, verifiers: list[NoteVerifier]) -> str:
    """The text of `note` once a known key's signature on it checks; else raise `NoteError`.

    Signatures by unknown keys are ignored (a note may carry witnesses' cosignatures), but
    a bad signature by a known key is an error, and so is a note no known key signed.
    """
    body, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("not a signed note")
    body += "\n"
    verified = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(_DASH):
            raise NoteError("malformed signature line")
        name, _, encoded = line[len(_DASH) :].partition(" ")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError("malformed signature line") from None
        for verifier in verifiers:
            if verifier.name == name and verifier.key_id == signature[:4]:
                try:
                    verifier.key.verify(signature[4:], body.encode())
                except InvalidSignature:
                    raise NoteError(f"bad signature by key {name}") from None
                verified = True
    if not verified:
        raise NoteError("no signature by a known key")
    return body


def open_checkpoint(note: str, verifiers: list[NoteVerifier], *, origin: str) -> Checkpoint:
    """The checkpoint in a signed note, checked against `verifiers` and `origin`."""
    checkpoint = parse_checkpoint(open_note(note, verifiers))
    if checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint
