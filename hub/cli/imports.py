"""`hub import dtks FILE`: bring a SIKS-NG export in, with a progress bar and a summary."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cli.admin import record_admin_change
from hub.db import WRITE_TRANSACTION, create_engine, session_factory
from hub.imports.bulk import BULK_MIN_ROWS
from hub.imports.service import ImportFileError, ImportSummary, import_dtks
from hub.settings import Settings

app = typer.Typer(help="Bring the city's data in: DTKS (SIKS-NG) exports.", no_args_is_help=True)
console = Console()


async def run_import(
    settings: Settings,
    file: Path,
    *,
    rejects: Path,
    dry_run: bool,
    progress: Progress | None = None,
    bulk_min_rows: int = BULK_MIN_ROWS,
) -> ImportSummary:
    """Import `file` in one transaction with its ADMIN audit event; a dry run rolls back."""
    engine = create_engine(settings.database_url)
    ran_by = f"cli:{getpass.getuser()}"[:64]
    task: TaskID | None = None
    started = asyncio.get_running_loop().time()

    def on_progress(done: int, total: int, rows: int, refused: int) -> None:
        nonlocal task
        if progress is None:
            return
        if task is None:
            task = progress.add_task("Reading", total=total, rows=0, rate=0.0, rejects=0)
        rate = rows / max(asyncio.get_running_loop().time() - started, 1e-6)
        progress.update(task, completed=done, rows=rows, rate=rate, rejects=refused)

    try:
        async with engine.execution_options(**WRITE_TRANSACTION).connect() as connection:
            transaction = await connection.begin()
            try:
                summary = await import_dtks(
                    connection,
                    file,
                    rejects_path=rejects,
                    ran_by=ran_by,
                    dry_run=dry_run,
                    on_progress=on_progress,
                    bulk_min_rows=bulk_min_rows,
                )
                if dry_run:
                    await transaction.rollback()
                    return summary
                async with AsyncSession(bind=connection) as session:
                    details = summary.as_dict()
                    details["import_id"] = summary.import_id
                    details["rejects_file"] = str(rejects)
                    await record_admin_change(
                        settings,
                        session_factory(engine),
                        session,
                        operation="import dtks",
                        details=details,
                    )
                await transaction.commit()
                return summary
            except BaseException:
                if transaction.is_active:
                    await transaction.rollback()
                raise
    finally:
        await engine.dispose()


def summary_table(summary: ImportSummary) -> Table:
    """Rows, households and citizens: what the import found and did."""
    table = Table(
        title=f"{summary.file_name} ({summary.format})" + (" — dry run" if summary.dry_run else "")
    )
    table.add_column("")
    for heading in ("new", "changed", "of which moved", "unchanged", "no longer listed"):
        table.add_column(heading, justify="right")
    for name, counts in (("households", summary.households), ("citizens", summary.citizens)):
        moved = f"{counts.moved:,}" if name == "citizens" else ""
        table.add_row(
            name,
            f"{counts.new:,}",
            f"{counts.changed:,}",
            moved,
            f"{counts.unchanged:,}",
            f"{counts.delisted:,}",
        )
    return table


def dtks(
    file: Path = typer.Argument(..., help="The export: pipe-separated, CSV (, or ;) or .xlsx."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Where to write refused rows (default: FILE.rejects.csv)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check and compare, print the summary, write nothing."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Overrides HUB_DATABASE_URL."
    ),
) -> None:
    """Import a DTKS (SIKS-NG PMKS) export and apply the month's difference."""
    settings = Settings.from_env()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    rejects = rejects or file.with_name(file.name + ".rejects.csv")
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:>12,} rows"),
        TextColumn("{task.fields[rate]:>9,.0f} rows/s"),
        TextColumn("[red]{task.fields[rejects]:,} rejects[/]"),
        TimeElapsedColumn(),
        console=console,
    )
    try:
        with progress:
            summary = asyncio.run(
                run_import(settings, file, rejects=rejects, dry_run=dry_run, progress=progress)
            )
    except ImportFileError as error:
        console.print(f"[red]Cannot import {file}:[/] {error.code}: {error}. Nothing was written.")
        raise typer.Exit(1) from None
    rate = summary.rows_read / summary.seconds if summary.seconds else 0.0
    console.print(
        f"Rows: {summary.rows_read:,} read, {summary.rows_accepted:,} accepted, "
        f"[red]{summary.rows_rejected:,} refused[/] ({summary.reject_lines:,} lines in "
        f"{rejects}); {summary.seconds:,.1f} s, {rate:,.0f} rows/s"
    )
    console.print(summary_table(summary))
    if summary.fuzzy:
        fuzzy = Table(title="Region names matched by similarity")
        for heading in ("level", "in the file", "taken as", "code", "score", "rows"):
            fuzzy.add_column(heading)
        for d in summary.fuzzy:
            fuzzy.add_row(d.level, d.text, d.name, d.code, f"{d.score:.1f}", f"{d.rows:,}")
        console.print(fuzzy)
    for import_id, finished in summary.previous_imports:
        console.print(
            f"[yellow]The same file (SHA-256 {summary.sha256[:12]}…) was imported before as "
            f"#{import_id} on {finished:%Y-%m-%d %H:%M} UTC.[/]"
        )
    if summary.dry_run:
        console.print("[yellow]Dry run: nothing was written (the rejects file was).[/]")
    else:
        console.print(f"[green]Imported as #{summary.import_id}; recorded in the audit trail.[/]")


app.command("dtks")(dtks)
