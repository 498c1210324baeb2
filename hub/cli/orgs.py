"""`hub orgs`: onboard, list, approve and suspend organisations."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cli.admin import record_admin_change
from hub.db import create_engine, session_factory, transaction
from hub.organizations import queries, service
from hub.organizations.errors import OrganizationError
from hub.settings import Settings

T = TypeVar("T")

app = typer.Typer(help="Organisations: OPD, LKS and auditors.", no_args_is_help=True)
console = Console()

DatabaseUrl = typer.Option(None, "--database-url", help="Overrides HUB_DATABASE_URL.")


def run(
    database_url: str | None,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    audit_as: str | None = None,
    details: dict[str, Any] | None = None,
) -> T:
    """Run `work` in one transaction on the configured database; exit 1 on an expected error.

    With `audit_as` (`clients create`, …) the change is an ADMIN event of the audit trail,
    appended in the same transaction: no administrative change without its record.
    """

    async def main() -> T:
        """`work` inside a transaction on a short-lived engine."""
        settings = Settings.from_env()
        engine = create_engine(database_url or settings.database_url)
        try:
            sessions = session_factory(engine, write=True)
            async with transaction(sessions) as session:
                result = await work(session)
                if audit_as is not None:
                    await record_admin_change(
                        settings, sessions, session, operation=audit_as, details=details or {}
                    )
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except OrganizationError as error:
        console.print(f"[red]{error.code}:[/] {error}")
        raise typer.Exit(1) from None


@app.command("add")
def add(
    code: str = typer.Argument(..., help="Short stable handle, e.g. LKS-0042."),
    kind: str = typer.Option(..., "--kind", help="OPD, LKS or AUDITOR."),
    name: str = typer.Option(..., "--name", help="Full name."),
    registration_number: str | None = typer.Option(None, "--registration-number"),
    approve: bool = typer.Option(False, "--approve", help="Activate at once."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Register an organisation (pending approval unless --approve)."""

    async def work(session: AsyncSession) -> str:
        """The command\'s work, inside its transaction."""
        org = await service.create_organization(
            session,
            code=code,
            kind=kind.upper(),
            name=name,
            registration_number=registration_number,
        )
        if approve:
            org = await service.approve_organization(session, code=org.code)
        return f"{org.code} ({org.kind}) is {org.status}"

    details = {"code": code, "kind": kind, "approve": approve}
    console.print(run(database_url, work, audit_as="orgs add", details=details))


@app.command("list")
def list_(
    kind: str | None = typer.Option(None, "--kind", help="OPD, LKS or AUDITOR."),
    status: str | None = typer.Option(None, "--status", help="PENDING, ACTIVE or SUSPENDED."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """List organisations."""

    async def work(session: AsyncSession) -> Table:
        """The command\'s work, inside its transaction."""
        table = Table("code", "kind", "status", "name", "registration", title="Organisations")
        for org in await queries.get_all_organizations(
            session,
            kind=kind.upper() if kind else None,
            status=status.upper() if status else None,
        ):
            style = {"ACTIVE": "green", "SUSPENDED": "red"}.get(org.status, "yellow")
            table.add_row(
                org.code,
                org.kind,
                f"[{style}]{org.status}[/]",
                org.name,
                org.registration_number or "",
            )
        return table

    console.print(run(database_url, work))


@app.command("approve")
def approve(
    code: str = typer.Argument(..., help="The organisation's code."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Activate a pending or suspended organisation."""

    async def work(session: AsyncSession) -> str:
        """The command\'s work, inside its transaction."""
        org = await service.approve_organization(session, code=code)
        return f"{org.code} is {org.status}"

    console.print(run(database_url, work, audit_as="orgs approve", details={"code": code}))


@app.command("suspend")
def suspend(
    code: str = typer.Argument(..., help="The organisation's code."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Suspend an organisation: no new tokens, and live ones stop within a minute."""

    async def work(session: AsyncSession) -> str:
        """The command\'s work, inside its transaction."""
        org = await service.suspend_organization(session, code=code)
        return f"{org.code} is {org.status}; its live tokens stop working within a minute"

    console.print(run(database_url, work, audit_as="orgs suspend", details={"code": code}))
