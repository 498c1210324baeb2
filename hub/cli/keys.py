"""`hub keys`: make and rotate the production key files (see `hub.edge.keys`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="The production key files.", no_args_is_help=True)
console = Console()


@app.command("init")
def init(directory: Path = typer.Argument(..., help="Where to write the key files.")) -> None:
    """Write the token signing key, the audit checkpoint key and the audit pepper (0600);
    refuse to overwrite any of them."""
    from hub.edge.keys import KeyFilesExist, init_keys

    try:
        files = init_keys(directory)
    except KeyFilesExist as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    console.print(f"Wrote the key files in {directory}. Point the hub at them:")
    for name, value in files.environment().items():
        typer.echo(f"{name}={value}")


@app.command("rotate")
def rotate(
    directory: Path = typer.Argument(..., help="The directory `hub keys init` wrote."),
    audit: bool = typer.Option(False, "--audit", help="Also rotate the audit checkpoint key."),
) -> None:
    """Put a new signing key first, keeping the previous one so live tokens still verify;
    workers pick it up within 30 s. The pepper is never rotated."""
    from hub.edge.keys import rotate_keys

    try:
        changed = rotate_keys(directory, audit=audit)
    except FileNotFoundError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from None
    for path in changed:
        console.print(f"Rotated {path}")
