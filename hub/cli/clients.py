"""`hub clients`: issue, list, rotate and revoke OAuth2 client credentials."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cli.orgs import DatabaseUrl, run
from hub.organizations import queries, service
from hub.settings import AuthSettings

app = typer.Typer(help="OAuth2 clients and their credentials.", no_args_is_help=True)
console = Console()


def _read_jwk(path: Path) -> dict[str, Any]:
    """The JWK in a JSON file; exit 1 when it is not a JSON object."""
    try:
        jwk = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        console.print(f"[red]cannot read {path}:[/] {error}")
        raise typer.Exit(1) from None
    if not isinstance(jwk, dict):
        console.print(f"[red]{path} does not hold a JWK object[/]")
        raise typer.Exit(1)
    return jwk


def _show_secret(issued: service.IssuedClient) -> None:
    """Print the client id and its secret, once, with the warning that goes with it."""
    lines = [
        f"organisation:  {issued.organization_code}",
        f"roles:         {' '.join(issued.roles)}",
        f"client_id:     [bold]{issued.client.client_id}[/]",
    ]
    if issued.secret is not None:
        lines.append(f"client_secret: [bold]{issued.secret}[/]")
        lines.append("\n[yellow]The secret is shown this once; the hub keeps only a hash.[/]")
    console.print(Panel.fit("\n".join(lines), title="client credentials"))


@app.command("create")
def create(
    org: str = typer.Option(..., "--org", help="The organisation's code."),
    role: list[str] = typer.Option(..., "--role", help="Repeat for several roles."),
    name: str | None = typer.Option(None, "--name", help="What the client is for."),
    jwk: Path | None = typer.Option(
        None, "--jwk", help="A public JWK (JSON file) for private_key_jwt."
    ),
    secret: bool = typer.Option(True, "--secret/--no-secret", help="Issue a client secret."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Create a client; its id and secret are printed once."""
    public_jwk = _read_jwk(jwk) if jwk is not None else None

    async def work(session: AsyncSession) -> service.IssuedClient:
        """The command\'s work, inside its transaction."""
        return await service.create_client(
            session,
            organization_code=org.upper(),
            roles=role,
            name=name,
            public_jwk=public_jwk,
            with_secret=secret,
        )

    details = {"org": org, "roles": role, "name": name}
    _show_secret(run(database_url, work, audit_as="clients create", details=details))


@app.command("list")
def list_(
    org: str | None = typer.Option(None, "--org", help="Only this organisation's clients."),
    all_: bool = typer.Option(False, "--all", help="Include revoked clients."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """List clients (never their secrets)."""

    async def work(session: AsyncSession) -> Table:
        """The command\'s work, inside its transaction."""
        table = Table("client_id", "org", "roles", "name", "created", "rotated", "revoked")
        for view in await queries.get_all_clients(
            session, organization_code=org.upper() if org else None, include_revoked=all_
        ):
            client = view.client
            table.add_row(
                client.client_id,
                view.organization_code,
                " ".join(view.roles),
                client.name,
                f"{client.created_at:%Y-%m-%d %H:%M}",
                f"{client.rotated_at:%Y-%m-%d %H:%M}" if client.rotated_at else "",
                f"[red]{client.revoked_at:%Y-%m-%d %H:%M}[/]" if client.revoked_at else "",
            )
        return table

    console.print(run(database_url, work))


@app.command("rotate")
def rotate(
    client_id: str = typer.Argument(..., help="The client to give a new secret."),
    overlap: int | None = typer.Option(
        None,
        "--overlap",
        help="Seconds the old secret keeps working (HUB_SECRET_OVERLAP_SECONDS; 0 if leaked).",
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Issue a new secret; the old one keeps working for the overlap."""
    seconds = AuthSettings.from_env().secret_overlap_seconds if overlap is None else overlap

    async def work(session: AsyncSession) -> service.IssuedClient:
        """The command\'s work, inside its transaction."""
        return await service.rotate_client_secret(
            session, client_id=client_id, overlap=dt.timedelta(seconds=max(0, seconds))
        )

    details = {"client_id": client_id, "overlap": seconds}
    _show_secret(run(database_url, work, audit_as="clients rotate", details=details))
    console.print(f"The previous secret works for {max(0, seconds)} more seconds.")


@app.command("revoke")
def revoke(
    client_id: str = typer.Argument(..., help="The client to revoke."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Revoke a client: no new tokens, and its live tokens stop within a minute."""

    async def work(session: AsyncSession) -> str:
        """The command\'s work, inside its transaction."""
        client = await service.revoke_client(session, client_id=client_id)
        return f"{client.client_id} revoked at {client.revoked_at:%Y-%m-%d %H:%M:%S} UTC"

    details = {"client_id": client_id}
    console.print(run(database_url, work, audit_as="clients revoke", details=details))


@app.command("add-key")
def add_key(
    client_id: str = typer.Argument(..., help="The client."),
    jwk: Path = typer.Option(..., "--jwk", help="A public JWK (JSON file)."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Register another public key for private_key_jwt (e.g. an agency rotating its key)."""
    public_jwk = _read_jwk(jwk)

    async def work(session: AsyncSession) -> str:
        """The command\'s work, inside its transaction."""
        key = await service.add_client_key(session, client_id=client_id, public_jwk=public_jwk)
        return f"key {key.kid} registered for {client_id}"

    details = {"client_id": client_id}
    console.print(run(database_url, work, audit_as="clients add-key", details=details))
