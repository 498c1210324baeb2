"""`hub policy`: the permission matrix generated from the policy."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="The authorization policy.", no_args_is_help=True)
console = Console()


@app.command("matrix")
def matrix(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Where to write it (default: policies/MATRIX.md)."
    ),
) -> None:
    """Write the human-readable permission matrix generated from policies/policy.csv."""
    from hub.authz.matrix import markdown
    from hub.authz.policy import load_policy, policy_dir
    from hub.graphql.schema import build_schema, operations_of
    from hub.settings import Settings

    directory = policy_dir()
    policy = load_policy(directory, operations_of(build_schema(Settings())))
    target = output or directory / "MATRIX.md"
    target.write_text(markdown(policy))
    console.print(f"Wrote {target}")
