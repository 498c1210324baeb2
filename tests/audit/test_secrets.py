"""Redaction of personal values, the key and pepper stores, and the settings."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from hub.audit.keys import (
    AuditKeyError,
    EnvAuditKeyStore,
    EnvPepperStore,
    FileAuditKeyStore,
    FilePepperStore,
    MemoryAuditKeyStore,
    dump_key_bundle,
    key_store_from_settings,
    pepper_store_from_settings,
)
from hub.audit.notes import NoteError, checkpoint_body, open_checkpoint
from hub.audit.redact import MAX_VARIABLES_BYTES, keyed_hash, redact_variables
from hub.audit.settings import AuditSettings
from hub.settings import SettingsError

PEPPER = b"a-test-pepper-of-at-least-32-bytes!!"


def test_personal_values_become_keyed_hashes_at_any_depth() -> None:
    variables = {
        "nik": "3273154207260001",
        "input": {"fullName": "Dewi", "birth_date": "2026-07-02", "severity": 3, "phone": None},
        "members": [{"name": "Budi", "relationship": "CHILD"}],
        "first": 10,
        "ratio": float("nan"),
    }
    redacted = redact_variables(variables, pepper=PEPPER)
    expected = "hmac-sha256:" + hmac.new(PEPPER, b"3273154207260001", hashlib.sha256).hexdigest()
    assert redacted["nik"] == expected == keyed_hash("3273154207260001", pepper=PEPPER)
    assert redacted["input"]["fullName"].startswith("hmac-sha256:")
    assert redacted["input"]["birth_date"].startswith("hmac-sha256:")
    assert redacted["input"]["severity"] == 3 and redacted["input"]["phone"] is None
    assert redacted["members"][0]["name"].startswith("hmac-sha256:")
    assert redacted["members"][0]["relationship"] == "CHILD"
    assert redacted["first"] == 10 and redacted["ratio"] == "nan"
    assert "Dewi" not in str(redacted) and "3273154207260001" not in str(redacted)
    # Another pepper, another digest: without the pepper a NIK cannot be confirmed.
    assert redact_variables(variables, pepper=b"x" * 32)["nik"] != expected
    # Structured values are hashed whole.
    assert redact_variables({"address": {"street": "Jl. A"}}, pepper=PEPPER)["address"].startswith(
        "hmac"
    )


def test_huge_variables_are_recorded_as_a_digest() -> None:
    redacted = redact_variables({"rows": ["x" * 100] * (MAX_VARIABLES_BYTES // 50)}, pepper=PEPPER)
    assert redacted["truncated"] is True and len(redacted["sha256"]) == 64


def test_key_stores(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-key.pem"
    with pytest.raises(AuditKeyError, match="does not exist"):
        FileAuditKeyStore(path).load()
    ring = FileAuditKeyStore(path, create=True).load()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert FileAuditKeyStore(path).load().verifiers("o")[0].key_id == ring.verifiers("o")[0].key_id
    env = EnvAuditKeyStore(path.read_text())
    assert "BEGIN" not in repr(env)
    with pytest.raises(AuditKeyError):
        EnvAuditKeyStore("not a key").load()

    # After a rotation, checkpoints signed by the old key still verify with the ring.
    memory = MemoryAuditKeyStore()
    old = memory.load().signer("o")
    note = old.sign(
        checkpoint_body(
            "o", 1, "00" * 32, signed_at=__import__("datetime").datetime.now().astimezone()
        )
    )
    rotated = memory.rotate()
    assert open_checkpoint(note, rotated.verifiers("o"), origin="o").size == 1
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_checkpoint(note, rotated.verifiers("o")[:1], origin="o")
    assert dump_key_bundle(list(rotated.keys)).count("BEGIN PRIVATE KEY") == 2


def test_pepper_stores(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-pepper"
    first = FilePepperStore(path, create=True).load()
    assert FilePepperStore(path).load() == first and len(first) >= 32
    with pytest.raises(AuditKeyError, match="at least 32"):
        EnvPepperStore("short").load()


def test_stores_from_settings(tmp_path: Path) -> None:
    settings = AuditSettings.from_env({})
    assert isinstance(
        key_store_from_settings(settings, var_dir=tmp_path, production=False), FileAuditKeyStore
    )
    with pytest.raises(AuditKeyError, match="HUB_AUDIT_KEY_FILE"):
        key_store_from_settings(settings, var_dir=tmp_path, production=True)
    with pytest.raises(AuditKeyError, match="HUB_AUDIT_PEPPER_FILE"):
        pepper_store_from_settings(settings, var_dir=tmp_path, production=True)
    given = AuditSettings.from_env({"HUB_AUDIT_PEPPER": "q" * 32, "HUB_AUDIT_KEY_FILE": "/k.pem"})
    assert isinstance(
        pepper_store_from_settings(given, var_dir=tmp_path, production=True), EnvPepperStore
    )
    assert key_store_from_settings(given, var_dir=tmp_path, production=True).path == Path("/k.pem")  # type: ignore[attr-defined]
    assert "q" * 32 not in repr(given)


def test_settings_defaults_and_bounds() -> None:
    settings = AuditSettings.from_env({})
    assert (settings.checkpoint_every, settings.checkpoint_seconds, settings.retention_days) == (
        1000,
        60,
        1825,
    )
    assert AuditSettings.from_env({"HUB_AUDIT_RETENTION_DAYS": "3650"}).retention_days == 3650
    for env in (
        {"HUB_AUDIT_RETENTION_DAYS": "30"},
        {"HUB_AUDIT_CHECKPOINT_EVERY": "0"},
        {"HUB_AUDIT_ORIGIN": "has space"},
        {"HUB_AUDIT_ORIGIN": "a+b"},
    ):
        with pytest.raises(SettingsError):
            AuditSettings.from_env(env)
