"""`hub audit` against a real database, with the keys given as the environment would."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from hub.audit.keys import dump_key_bundle
from hub.audit.notes import NoteVerifier
from hub.audit.settings import DEFAULT_ORIGIN
from hub.cli.audit import app
from hub.db import create_engine, session_factory, transaction
from hub.registry.models import Citizen
from tests.audit.conftest import append_events

KEY = dump_key_bundle([Ed25519PrivateKey.generate()])


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    """A runner whose environment holds the audit key and pepper, and a private var dir."""
    return CliRunner(
        env={
            "COLUMNS": "200",
            "HUB_AUDIT_KEY": KEY,
            "HUB_AUDIT_PEPPER": "p" * 40,
            "HUB_AUDIT_CHECKPOINT_EVERY": "4",
            "HUB_VAR_DIR": str(tmp_path / "var"),
        }
    )


def _first_citizen_nik(url: str) -> str:
    """The NIK of some citizen of the seeded city."""

    async def find() -> str:
        """The NIK of citizen 1."""
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as session:
                citizen = await session.get(Citizen, 1)
                assert citizen is not None
                return citizen.nik
        finally:
            await engine.dispose()

    return asyncio.run(find())


def _append(url: str, count: int) -> None:
    """Append `count` events signed by the CLI's key (seals every 4)."""
    from hub.audit.checkpoints import CheckpointPolicy, Sealer
    from hub.audit.keys import EnvAuditKeyStore

    async def work() -> None:
        """Append on a short-lived engine."""
        engine = create_engine(url)
        ring = EnvAuditKeyStore(KEY).load()
        sealer = Sealer(
            ring.signer(DEFAULT_ORIGIN),
            policy=CheckpointPolicy(4, 60),
            verifiers=ring.verifiers(DEFAULT_ORIGIN),
        )
        try:
            await append_events(session_factory(engine), count, sealer=sealer)
        finally:
            await engine.dispose()

    asyncio.run(work())


def test_public_key_formats(runner: CliRunner, tmp_path: Path) -> None:
    pem = runner.invoke(app, ["public-key"])
    assert pem.exit_code == 0 and pem.output.startswith("-----BEGIN PUBLIC KEY-----")
    vkey = runner.invoke(app, ["public-key", "--format", "vkey"])
    verifier = NoteVerifier.from_vkey(vkey.output)
    assert verifier.public_pem() == pem.output and verifier.name == DEFAULT_ORIGIN


def test_report_export_and_verify(
    runner: CliRunner, fresh_city_database_url: str, tmp_path: Path
) -> None:
    url = ["--database-url", fresh_city_database_url]
    nik = _first_citizen_nik(fresh_city_database_url)
    _append(fresh_city_database_url, 5)

    report_file = tmp_path / "laporan.md"
    made = runner.invoke(app, ["report", "--nik", nik, "--output", str(report_file), *url])
    assert made.exit_code == 0, made.output
    text = report_file.read_text()
    assert nik in text and "tercatat di log audit dengan nomor urut 6" in text
    assert "Permintaan Anda sendiri" in text  # the report's own access is in its trail
    assert runner.invoke(app, ["report", "--nik", "0" * 16, *url]).exit_code == 1
    assert runner.invoke(app, ["report", "--nik", "123", *url]).exit_code == 2

    assert runner.invoke(app, ["checkpoint", *url]).output.strip() == "Sealed through seq 6."
    verified = runner.invoke(app, ["verify", *url])
    assert verified.exit_code == 0 and "valid" in verified.output, verified.output

    export_file = tmp_path / "audit.jsonl"
    exported = runner.invoke(
        app, ["export", "--from", "2026-03-01", "--output", str(export_file), *url]
    )
    assert exported.exit_code == 0, exported.output
    assert len([line for line in export_file.read_text().splitlines() if '"event"' in line]) == 6
    key_file = tmp_path / "audit-public.pem"
    key_file.write_text(runner.invoke(app, ["public-key"]).output)
    offline = runner.invoke(app, ["verify", str(export_file), "--public-key", str(key_file)])
    assert offline.exit_code == 0 and "valid" in offline.output, offline.output

    lines = export_file.read_text().splitlines()
    record = json.loads(lines[3])
    record["purpose"] = "AUDIT"
    lines[3] = json.dumps(record)
    export_file.write_text("\n".join(lines) + "\n")
    broken = runner.invoke(app, ["verify", str(export_file), "--public-key", str(key_file)])
    assert broken.exit_code == 1
    assert re.search(rf"first bad seq\s+│?\s*{record['seq']}", broken.output), broken.output
    assert runner.invoke(app, ["verify", str(export_file)]).exit_code == 2  # key required


def test_archive_command(runner: CliRunner, empty_database_url: str, tmp_path: Path) -> None:
    url = ["--database-url", empty_database_url]
    _append(empty_database_url, 6)  # events in March 2026
    nothing = runner.invoke(app, ["archive", "--before", "2026-01-01", *url])
    assert nothing.exit_code == 0 and "Nothing to archive" in nothing.output
    done = runner.invoke(
        app, ["archive", "--before", "2026-04-01", "--directory", str(tmp_path), *url]
    )
    assert done.exit_code == 0 and "Archived events 1..6" in done.output, done.output
    assert runner.invoke(app, ["verify", *url]).exit_code == 0
    archive = next(tmp_path.glob("audit-*.jsonl"))
    vkey = runner.invoke(app, ["public-key", "--format", "vkey"]).output.strip()
    assert runner.invoke(app, ["verify", str(archive), "--public-key", vkey]).exit_code == 0
    # The live chain verifies with the published key alone, too.
    live = runner.invoke(app, ["verify", "--public-key", vkey, *url])
    assert live.exit_code == 0 and "valid" in live.output, live.output
