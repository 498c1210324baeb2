"""`hub seed`: fill an empty registry with a deterministic synthetic Bandung."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from hub.migrations import upgrade
from hub.settings import Settings
from hub.synthetic import SeedError, SeedSummary, resume_hint, seed_city

STAGES = {
    "foundations": "Foundations",
    "citizens": "Citizens",
    "finishing": "Sequences and statistics",
}


async def _seed(
    url: str, citizens: int, seed: int, progress: Progress, *, resume: bool
) -> SeedSummary:
    """Migrate, then seed (or finish a cut-short seed) advancing one progress bar per stage."""
    await upgrade(url)
    tasks: dict[str, TaskID] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(STAGES.get(stage, stage), total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return await seed_city(
        url, citizens=citizens, seed=seed, on_progress=on_progress, resume=resume
    )


def _summary_table(summary: SeedSummary) -> Table:
    """Rows inserted per table, and the time it took."""
    table = Table(title="Synthetic Bandung")
    table.add_column("Table")
    table.add_column("Rows", justify="right")
    for name, count in summary.counts.items():
        table.add_row(name, f"{count:,}")
    table.add_section()
    table.add_row("seconds", f"{summary.seconds:,.1f}")
    return table


def seed_command(
    citizens: int = typer.Option(5000, "--citizens", help="How many residents to generate."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed gives the same city."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Overrides HUB_DATABASE_URL."
    ),
    export_dtks: Path | None = typer.Option(
        None,
        "--export-dtks",
        help="Instead of filling the database, write the city as a SIKS-NG PMKS export "
        "(pipe-separated, about 1 % of families with a defect) to this file.",
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Finish a seed that was cut short (a crash, a database restart), with the same "
        "--citizens and --seed: what it wrote is checked and kept, the rest is written.",
    ),
    next_month: Path | None = typer.Option(
        None,
        "--next-month",
        help="With --export-dtks: derive the file from this earlier export, as the next "
        "month's with about 2 % of rows changed.",
    ),
) -> None:
    """Fill an empty registry with a deterministic synthetic Bandung."""
    console = Console()
    if export_dtks is not None:
        _export(console, export_dtks, citizens=citizens, seed=seed, previous=next_month)
        return
    url = database_url or Settings.from_env().database_url
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    try:
        with progress:
            summary = asyncio.run(_seed(url, citizens, seed, progress, resume=resume))
    except SeedError as error:
        console.print(f"[red]Cannot seed:[/] {error}")
        raise typer.Exit(1) from None
    except (SQLAlchemyError, OSError) as error:
        # Every batch is its own transaction: what was committed before the failure is whole.
        reason = str(error).splitlines()[0][:300]
        console.print(
            f"[red]The seed stopped:[/] {type(error).__name__}: {reason}\n"
            "The batches written before it are kept, so the registry holds part of the city. "
            "Once the database is back, finish it with:\n"
            f"  {resume_hint(citizens, seed)}"
            + (f" --database-url {database_url}" if database_url else "")
        )
        raise typer.Exit(1) from None
    if summary.resumed_citizens:
        console.print(f"Resumed: {summary.resumed_citizens:,} citizens were already written.")
    console.print(_summary_table(summary))


def refused_lines_file(export: Path) -> Path:
    """Where `hub seed --export-dtks` notes the lines of the households an import of the
    export refuses (the defects), for `--next-month` to leave them as they are."""
    return export.with_suffix(".refused.json")


def _export(
    console: Console, path: Path, *, citizens: int, seed: int, previous: Path | None
) -> None:
    """Write a synthetic DTKS export, or the next month's of `previous`."""
    from hub.synthetic.dtks import write_export, write_next_month

    if previous is not None:
        # Month 1's refused households stay as they were (`write_next_month`): changed, a
        # repeated NIK's first listing could go and its household be imported after all.
        noted = refused_lines_file(previous)
        untouched: list[int] = json.loads(noted.read_text()) if noted.is_file() else []
        changed = write_next_month(previous, path, seed=seed, untouched=untouched)
        what = ", ".join(f"{n:,} {kind}" for kind, n in sorted(changed.changes.items()))
        console.print(f"Wrote {path}: {changed.rows:,} rows; changes: {what}")
        if not noted.is_file():
            console.print(
                f"[yellow]No {noted.name} beside {previous.name}:[/] its refused households "
                "were not known, so some of them may have changed."
            )
        return
    summary = write_export(path, citizens=citizens, seed=seed)
    refused_lines_file(path).write_text(json.dumps(summary.refused_household_lines))
    defects = ", ".join(f"{len(lines):,} {kind}" for kind, lines in sorted(summary.defects.items()))
    console.print(
        f"Wrote {path}: {summary.rows:,} rows, {summary.households:,} households; "
        f"rows with a defect: {defects or 'none'} (their households' lines: "
        f"{refused_lines_file(path).name})"
    )
