"""`hub documents`: the trusted documents partners may send by id (`schema/operations/`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from hub.edge.documents import MANIFEST_NAME, OPERATIONS_DIR

app = typer.Typer(help="The trusted documents (schema/operations/).", no_args_is_help=True)
console = Console()


@app.command("export")
def export(
    out: Path = typer.Option(
        OPERATIONS_DIR / MANIFEST_NAME, "--out", "-o", help="Where to write the manifest."
    ),
    directory: Path = typer.Option(
        OPERATIONS_DIR, "--from", help="The folder of .graphql documents."
    ),
) -> None:
    """Write Apollo's persisted query manifest of the documents: each with its id, the
    SHA-256 (hex) of the file's bytes, its operation's name and type, and its text."""
    import graphql

    from hub.edge.documents import Catalogue, CatalogueError
    from hub.graphql.schema import schema_sdl

    try:
        catalogue = Catalogue.from_directory(directory, graphql.build_schema(schema_sdl()))
    except CatalogueError as error:
        console.print(f"[red]cannot export:[/] {error}")
        raise typer.Exit(1) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(catalogue.manifest_json(), encoding="utf-8", newline="\n")
    console.print(f"Wrote {out} ({len(catalogue)} documents)")
