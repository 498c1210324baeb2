"""`hub orgs` and `hub clients` against a real database."""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from pathlib import Path

from joserfc.jwk import ECKey
from sqlalchemy import select
from typer.testing import CliRunner

from hub.audit.models import AuditEventRecord
from hub.cli import clients, orgs
from hub.db import create_engine

# The audit trail's development keys go to a throw-away folder, not ./var.
runner = CliRunner(env={"COLUMNS": "200", "HUB_VAR_DIR": tempfile.mkdtemp(prefix="hub-cli-")})


def _client_id(output: str) -> str:
    """The client id printed by `create` or `rotate`."""
    found = re.search(r"client_id:\s+(\S+)", output)
    assert found, output
    return found.group(1)


def _secret(output: str) -> str:
    """The secret printed by `create` or `rotate`."""
    found = re.search(r"client_secret:\s+(\S+)", output)
    assert found, output
    return found.group(1)


def test_orgs_add_list_suspend(auth_database_url: str) -> None:
    url = ["--database-url", auth_database_url]
    added = runner.invoke(
        orgs.app, ["add", "LKS-0007", "--kind", "lks", "--name", "Yayasan Tujuh", *url]
    )
    assert added.exit_code == 0, added.output
    assert "LKS-0007 (LKS) is PENDING" in added.output
    duplicate = runner.invoke(orgs.app, ["add", "LKS-0007", "--kind", "LKS", "--name", "x", *url])
    assert duplicate.exit_code == 1
    assert "ALREADY_EXISTS" in duplicate.output
    assert "ACTIVE" in runner.invoke(orgs.app, ["approve", "LKS-0007", *url]).output
    listed = runner.invoke(orgs.app, ["list", "--kind", "LKS", *url])
    assert listed.exit_code == 0 and "Yayasan Tujuh" in listed.output
    suspended = runner.invoke(orgs.app, ["suspend", "LKS-0007", *url])
    assert "SUSPENDED" in suspended.output
    missing = runner.invoke(orgs.app, ["suspend", "NOPE", *url])
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.output


def test_clients_create_list_rotate_revoke(auth_database_url: str, tmp_path: Path) -> None:
    url = ["--database-url", auth_database_url]
    roles = ["--role", "dinsos_admin", "--role", "opd_officer"]
    created = runner.invoke(clients.app, ["create", "--org", "dinsos", *roles, *url])
    assert created.exit_code == 0, created.output
    client_id, secret = _client_id(created.output), _secret(created.output)
    assert client_id.startswith("dinsos-")

    listed = runner.invoke(clients.app, ["list", "--org", "DINSOS", *url])
    assert client_id in listed.output and "dinsos_admin opd_officer" in listed.output
    assert secret not in listed.output

    rotated = runner.invoke(clients.app, ["rotate", client_id, "--overlap", "60", *url])
    assert rotated.exit_code == 0, rotated.output
    assert _secret(rotated.output) != secret
    assert "60 more seconds" in rotated.output

    revoked = runner.invoke(clients.app, ["revoke", client_id, *url])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert client_id not in runner.invoke(clients.app, ["list", *url]).output
    assert client_id in runner.invoke(clients.app, ["list", "--all", *url]).output

    wrong = runner.invoke(clients.app, ["create", "--org", "DINKES", "--role", "auditor", *url])
    assert wrong.exit_code == 1 and "INVALID_INPUT" in wrong.output

    jwk = tmp_path / "agency.jwk.json"
    jwk.write_text(json.dumps(ECKey.generate_key("P-256", private=True).as_dict(private=False)))
    options = ["--role", "opd_officer", "--jwk", str(jwk), "--no-secret"]
    keyed = runner.invoke(clients.app, ["create", "--org", "DINKES", *options, *url])
    assert keyed.exit_code == 0, keyed.output
    assert "client_secret" not in keyed.output


def test_administrative_changes_are_audited(auth_database_url: str) -> None:
    url = ["--database-url", auth_database_url]
    assert (
        runner.invoke(orgs.app, ["add", "LKS-0042", "--kind", "LKS", "--name", "Y", *url]).exit_code
        == 0
    )
    created = runner.invoke(
        clients.app, ["create", "--org", "DINSOS", "--role", "dinsos_admin", *url]
    )
    secret = _secret(created.output)

    async def admin_events() -> list[tuple[str, str, str]]:
        engine = create_engine(auth_database_url)
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(
                    AuditEventRecord.kind,
                    AuditEventRecord.operation_name,
                    AuditEventRecord.variables,
                ).order_by(AuditEventRecord.seq)
            )
            found = [(r.kind, r.operation_name, json.dumps(r.variables)) for r in rows]
        await engine.dispose()
        return found

    events = asyncio.run(admin_events())
    assert [(k, op) for k, op, _ in events] == [("ADMIN", "orgs add"), ("ADMIN", "clients create")]
    assert all(secret not in variables for _, _, variables in events)
