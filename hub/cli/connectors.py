"""`hub connectors`: register and list agencies' subgraphs (connectors)."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from hub.cli.admin import record_admin_change
from hub.db import create_engine, session_factory, transaction
from hub.federation import service
from hub.federation.errors import ConnectorError
from hub.settings import Settings

app = typer.Typer(
    help="Connectors: agencies' subgraphs for connected fields.", no_args_is_help=True
)
console = Console()

DatabaseUrl = typer.Option(None, "--database-url", help="Overrides HUB_DATABASE_URL.")


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Handle, e.g. dinkes; adding it again updates it."),
    url: str = typer.Option(..., "--url", help="The subgraph's GraphQL endpoint."),
    field: list[str] = typer.Option(
        ..., "--field", help="A connected field it provides (healthCoverage, schooling)."
    ),
    key: str = typer.Option("nik", "--key", help="nik or id."),
    timeout_ms: int = typer.Option(2000, "--timeout-ms", help="50-30000."),
    auth: str = typer.Option("NONE", "--auth", help="NONE, BEARER or CLIENT_CREDENTIALS."),
    secret_ref: str | None = typer.Option(
        None, "--secret-ref", help="env:NAME or file:/path (never the secret itself)."
    ),
    token_url: str | None = typer.Option(None, "--token-url", help="CLIENT_CREDENTIALS."),
    client_id: str | None = typer.Option(None, "--client-id", help="CLIENT_CREDENTIALS."),
    organization: str | None = typer.Option(None, "--org", help="Code of the agency."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Register (or update) a connector; recorded as an ADMIN audit event."""

    async def main() -> None:
        settings = Settings.from_env()
        engine = create_engine(database_url or settings.database_url)
        try:
            sessions = session_factory(engine, write=True)
            async with transaction(sessions) as session:
                connector = await service.register(
                    session,
                    name=name,
                    url=url,
                    fields=field,
                    key_field=key,
                    timeout_ms=timeout_ms,
                    auth=auth.upper(),
                    secret_ref=secret_ref,
                    token_url=token_url,
                    client_id=client_id,
                    organization_code=organization,
                )
                # The secret reference names a place, not a secret, but stays out anyway.
                await record_admin_change(
                    settings,
                    sessions,
                    session,
                    operation="connectors add",
                    details=connector.describe(),
                )
        finally:
            await engine.dispose()

    try:
        asyncio.run(main())
    except ConnectorError as error:
        console.print(f"[red]{error.code.value}:[/] {error.message}")
        raise typer.Exit(1) from None
    console.print(f"Connector [bold]{name}[/] provides {', '.join(field)} from {url}")


@app.command("list")
def list_(database_url: str | None = DatabaseUrl) -> None:
    """The registered connectors (never their credentials)."""

    async def main() -> list[list[str]]:
        engine = create_engine(database_url or Settings.from_env().database_url)
        try:
            async with session_factory(engine)() as session:
                return [
                    [c.name, c.status, ", ".join(c.fields), c.url, c.auth, str(c.timeout_ms)]
                    for c in await service.get_all(session)
                ]
        finally:
            await engine.dispose()

    table = Table("name", "status", "fields", "url", "auth", "timeout ms")
    for row in asyncio.run(main()):
        table.add_row(*row)
    console.print(table)
