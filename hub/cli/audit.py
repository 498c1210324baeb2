"""`hub audit`: verify, export, archive and seal the audit trail; citizen reports; the key.

Dates given without an offset are Western Indonesia Time (WIB, UTC+7), as people in
Bandung write them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.archive import archive_events, retention_cutoff
from hub.audit.checkpoints import CheckpointPolicy, Sealer
from hub.audit.events import AuditEvent, CitizenAccess
from hub.audit.export import (
    ExportError,
    export_events,
    resolve_verifiers,
    seq_range,
    verify_export_files,
)
from hub.audit.head import AuditChainError
from hub.audit.keys import AuditKeyError, key_store_from_settings, pepper_store_from_settings
from hub.audit.notes import NoteError
from hub.audit.queries import integrity_status
from hub.audit.recorder import append
from hub.audit.redact import redact_variables
from hub.audit.report import REPORT_FIELDS, citizen_report, find_citizen
from hub.audit.settings import AuditSettings
from hub.audit.verify import Verification, verify_database
from hub.db import create_engine, session_factory, transaction, utcnow
from hub.localtime import WIB
from hub.settings import Settings, SettingsError

T = TypeVar("T")

app = typer.Typer(
    help="The audit trail: verify, export, archive, citizen reports.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

DatabaseUrl = typer.Option(None, "--database-url", help="Overrides HUB_DATABASE_URL.")


@dataclass(frozen=True, slots=True)
class _Context:
    """What the commands need: settings, and the keys loaded from the configured stores."""

    settings: Settings
    audit: AuditSettings

    def sealer(self) -> Sealer:
        """The sealer signing with the configured key."""
        ring = key_store_from_settings(
            self.audit, var_dir=self.settings.var_dir, production=self.settings.is_production
        ).load()
        return Sealer(
            ring.signer(self.audit.origin),
            policy=CheckpointPolicy(self.audit.checkpoint_every, self.audit.checkpoint_seconds),
            verifiers=ring.verifiers(self.audit.origin),
        )

    def pepper(self) -> bytes:
        """The redaction pepper."""
        return pepper_store_from_settings(
            self.audit, var_dir=self.settings.var_dir, production=self.settings.is_production
        ).load()


def _context(database_url: str | None) -> _Context:
    """Settings from the environment, the database URL overridden; exit 2 when invalid."""
    try:
        settings = Settings.from_env()
        audit = AuditSettings.from_env()
    except SettingsError as error:
        errors.print(f"[red]configuration:[/] {error}")
        raise typer.Exit(2) from None
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return _Context(settings, audit)


def _run(database_url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work` with sessions on a short-lived engine; exit 1 on an expected failure."""

    async def main() -> T:
        """`work` on the engine, disposed afterwards."""
        engine = create_engine(database_url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (AuditKeyError, AuditChainError, NoteError) as error:
        errors.print(f"[red]{type(error).__name__}:[/] {error}")
        raise typer.Exit(1) from None
    except ExportError as error:
        _show(error.verification, title="verification before writing")
        raise typer.Exit(1) from None


def _moment(text: str | None) -> dt.datetime | None:
    """An ISO date or date-time; without an offset it is read as WIB."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO date (2026-01-31 or 2026-01-31T08:00)"
        ) from None
    return moment.replace(tzinfo=WIB) if moment.tzinfo is None else moment


def _read_key(value: str) -> str:
    """A public key given as a file path or inline (PEM or `name+id+key`)."""
    path = Path(value)
    return path.read_text() if path.is_file() else value


def _show(result: Verification, *, title: str) -> None:
    """Print a verification result."""
    table = Table(title=title, show_header=False)
    table.add_row("result", "[green]valid[/]" if result.ok else "[red]BROKEN[/]")
    table.add_row("events checked", str(result.events))
    table.add_row("seqs", f"{result.first_seq}..{result.last_seq}" if result.events else "none")
    table.add_row("anchor", f"{result.anchor_seq} {result.anchor_hash[:16]}…")
    table.add_row("checkpoints", str(result.checkpoints))
    table.add_row("sealed through", str(result.sealed_through))
    if result.last_hash:
        table.add_row("last hash", result.last_hash)
    if not result.ok:
        table.add_row("first bad seq", f"[red]{result.first_bad_seq}[/]")
        for seq, problem in result.problems[:10]:
            table.add_row(f"problem at {seq}", problem)
    for warning in result.warnings:
        table.add_row("note", f"[yellow]{warning}[/]")
    console.print(table)


@app.command("verify")
def verify(
    files: list[Path] = typer.Argument(None, help="Exports to verify offline, oldest first."),
    public_key: list[str] = typer.Option(
        None, "--public-key", help="PEM file or `name+id+key`; repeat for rotated keys."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Verify the live chain, or exports (FILE…) offline with only the public key."""
    if files:
        if not public_key:
            raise typer.BadParameter(
                "offline verification needs --public-key", param_hint="--public-key"
            )
        try:
            results = verify_export_files(files, public_keys=[_read_key(key) for key in public_key])
        except (OSError, NoteError) as error:
            errors.print(f"[red]cannot verify:[/] {error}")
            raise typer.Exit(1) from None
        for path, result in zip(files, results, strict=True):
            _show(result, title=str(path))
        if not all(result.ok for result in results):
            raise typer.Exit(1)
        return
    context = _context(database_url)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Verification:
        """Verify the whole stored chain."""
        if public_key:
            keys = [_read_key(key) for key in public_key]
            verifiers = resolve_verifiers(keys, origin=context.audit.origin)
        else:
            verifiers = context.sealer().verifiers
        async with transaction(sessions) as session:
            return await verify_database(session, verifiers=verifiers, origin=context.audit.origin)

    result = _run(context.settings.database_url, work)
    _show(result, title="live audit chain")
    if not result.ok:
        raise typer.Exit(1)


@app.command("export")
def export(
    since: str | None = typer.Option(None, "--from", help="First day or moment (inclusive)."),
    until: str | None = typer.Option(None, "--to", help="Last moment (exclusive)."),
    output: Path = typer.Option(Path("-"), "--output", "-o", help="JSON Lines file; - for stdout."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Write events and their checkpoints as JSON Lines, verified and sealed."""
    context = _context(database_url)
    start, end = _moment(since), _moment(until)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        """Find the range, verify it, and write it."""
        sealer = context.sealer()
        async with transaction(sessions) as session:
            seqs = await seq_range(session, since=start, until=end)
            if seqs is None:
                return 0
            if str(output) == "-":
                summary = await export_events(
                    session,
                    sys.stdout,
                    first_seq=seqs[0],
                    last_seq=seqs[1],
                    sealer=sealer,
                    since=start,
                    until=end,
                )
            else:
                with output.open("w", encoding="utf-8") as stream:
                    summary = await export_events(
                        session,
                        stream,
                        first_seq=seqs[0],
                        last_seq=seqs[1],
                        sealer=sealer,
                        since=start,
                        until=end,
                    )
            return summary.events

    count = _run(context.settings.database_url, work)
    errors.print(f"Exported {count} event(s)" + ("" if str(output) == "-" else f" to {output}"))


@app.command("report")
def report(
    nik: str = typer.Option(..., "--nik", help="The citizen's NIK (16 digits)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Markdown file (default: stdout)."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """The UU PDP art. 32 report of one citizen: their data and its processing trail."""
    if not (len(nik) == 16 and nik.isdigit()):
        raise typer.BadParameter("a NIK has 16 digits", param_hint="--nik")
    context = _context(database_url)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str | None:
        """Record the request in the audit trail, then render the report, in one transaction."""
        sealer = context.sealer()
        async with transaction(sessions) as session:
            subject = await find_citizen(session, nik=nik)
            if subject is None:
                return None
            now = utcnow()
            event = AuditEvent(
                occurred_at=now,
                decision="ALLOWED",
                kind="ADMIN",
                client_id=f"cli:{getpass.getuser()}"[:64],
                purpose="CITIZEN_REQUEST",
                operation_type="cli",
                operation_name="citizenReport",
                variables=redact_variables({"nik": nik}, pepper=context.pepper()),
                citizens=(CitizenAccess(subject.citizen.id, REPORT_FIELDS),),
            )
            # Fail closed: without its audit event the report is not produced.
            (seq,) = await append(session, [event], sealer=sealer)
            integrity = await integrity_status(
                session, verifiers=sealer.verifiers, origin=sealer.origin, now=now
            )
            return await citizen_report(
                session, subject=subject, generated_at=now, integrity=integrity, request_seq=seq
            )

    text = _run(context.settings.database_url, work)
    if text is None:
        errors.print(f"[red]No citizen with NIK {nik}.[/]")
        raise typer.Exit(1)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        errors.print(f"Wrote {output}")


@app.command("public-key")
def public_key(
    format: str = typer.Option("pem", "--format", help="pem, or vkey (signed-note verifier key)."),
) -> None:
    """Print the public key(s) auditors use to verify checkpoints and exports."""
    context = _context(None)
    try:
        verifiers = context.sealer().verifiers
    except AuditKeyError as error:
        errors.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    for verifier in verifiers:
        sys.stdout.write(verifier.public_pem() if format == "pem" else verifier.vkey() + "\n")


@app.command("archive")
def archive(
    before: str | None = typer.Option(
        None, "--before", help="Archive events older than this (default: the retention limit)."
    ),
    directory: Path | None = typer.Option(
        None, "--directory", help="Where archives go (default: VAR_DIR/audit-archive)."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Move events older than the retention limit into a verified archive file."""
    context = _context(database_url)
    cutoff = _moment(before) or retention_cutoff(
        utcnow(), retention_days=context.audit.retention_days
    )
    target = directory or context.settings.var_dir / "audit-archive"

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        """Archive and describe the result."""
        result = await archive_events(
            sessions, before=cutoff, directory=target, sealer=context.sealer()
        )
        if result is None:
            return "Nothing to archive."
        return f"Archived events {result.first_seq}..{result.last_seq} to {result.path}"

    console.print(_run(context.settings.database_url, work))


@app.command("checkpoint")
def checkpoint(database_url: str | None = DatabaseUrl) -> None:
    """Seal the events appended since the last checkpoint now."""
    context = _context(database_url)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int | None:
        """Seal in one transaction."""
        async with transaction(sessions) as session:
            sealed = await context.sealer().seal_if_due(session, force=True)
        return None if sealed is None else sealed.seq

    seq = _run(context.settings.database_url, work)
    console.print("Nothing to seal." if seq is None else f"Sealed through seq {seq}.")
