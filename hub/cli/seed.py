"""`hub seed`: fill an empty registry with a deterministic synthetic Bandung."""

from __future__ import annotations

import asyncio

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

from hub.migrations import upgrade
from hub.settings import Settings
from hub.synthetic import SeedError, SeedSummary, seed_city

STAGES = {
    "foundations": "Foundations",
    "citizens": "Citizens",
    "finishing": "Sequences and statistics",
}


async def _seed(url: str, citizens: int, seed: int, progress: Progress) -> SeedSummary:
    """Migrate, then seed while advancing one progress bar per stage."""
    await upgrade(url)
    tasks: dict[str, TaskID] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(STAGES.get(stage, stage), total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return await seed_city(url, citizens=citizens, seed=seed, on_progress=on_progress)


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
) -> None:
    """Fill an empty registry with a deterministic synthetic Bandung."""
    url = database_url or Settings.from_env().database_url
    console = Console()
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
            summary = asyncio.run(_seed(url, citizens, seed, progress))
    except SeedError as error:
        console.print(f"[red]Cannot seed:[/] {error}")
        raise typer.Exit(1) from None
    console.print(_summary_table(summary))
