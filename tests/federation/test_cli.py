"""`hub connectors add` and `list` against a real database; the change is an ADMIN event."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from hub.audit.models import AuditEventRecord
from hub.cli.connectors import app
from hub.db import create_engine, session_factory
from hub.federation.models import Connector


def _rows(url: str) -> tuple[list[Connector], list[AuditEventRecord]]:
    async def read() -> tuple[list[Connector], list[AuditEventRecord]]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                connectors = list(await session.scalars(select(Connector)))
                events = list(
                    await session.scalars(
                        select(AuditEventRecord).where(
                            AuditEventRecord.operation_name == "connectors add"
                        )
                    )
                )
                return connectors, events
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_add_and_list(fresh_city_database_url: str, tmp_path: Path) -> None:
    url = fresh_city_database_url
    runner = CliRunner(
        env={"COLUMNS": "200", "HUB_AUDIT_PEPPER": "p" * 40, "HUB_VAR_DIR": str(tmp_path)}
    )
    added = runner.invoke(
        app,
        ["add", "disdik", "--url", "https://api.disdik.example/graphql", "--field", "schooling",
         "--auth", "BEARER", "--secret-ref", "env:DISDIK_TOKEN", "--org", "DINKES",
         "--timeout-ms", "1500", "--database-url", url],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "disdik" in added.output
    (connector,), (event,) = _rows(url)
    assert (connector.name, connector.fields, connector.timeout_ms) == (
        "disdik",
        ["schooling"],
        1500,
    )
    assert event.kind == "ADMIN" and set(event.variables) == {"name", "url", "fields", "auth"}
    assert "DISDIK_TOKEN" not in str(event.variables)

    listed = runner.invoke(app, ["list", "--database-url", url])
    assert listed.exit_code == 0 and "disdik" in listed.output and "schooling" in listed.output

    refused = runner.invoke(
        app,
        ["add", "disdik", "--url", "https://x/graphql", "--field", "schooling", "--auth",
         "BEARER", "--secret-ref", "the-token-itself", "--database-url", url],
    )  # fmt: skip
    assert refused.exit_code == 1 and "BAD_CREDENTIALS" in refused.output
    assert "the-token-itself" not in refused.output
