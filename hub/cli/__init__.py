"""The `hub` command: serve, demo, db, seed, schema, documents, orgs, clients, policy, audit,
import, connectors, keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from hub.settings import Settings

app = typer.Typer(
    help="Satu Pintu Hub: Kota Bandung's social-welfare data hub.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database migrations and checks.", no_args_is_help=True)
schema_app = typer.Typer(help="The GraphQL contract.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(schema_app, name="schema")

console = Console()
SCHEMA_FILE = Path("schema/hub.graphql")
SUBGRAPH_FILE = Path("schema/hub.subgraph.graphql")


def _settings(database_url: str | None = None) -> Settings:
    settings = Settings.from_env()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


DatabaseUrl = typer.Option(None, "--database-url", help="Overrides HUB_DATABASE_URL.")


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = DatabaseUrl) -> None:
    """Apply every migration and load missing reference data (regions, taxonomy, agencies)."""
    from hub.migrations import upgrade

    settings = _settings(database_url)
    added = asyncio.run(upgrade(settings.database_url))
    console.print(f"[green]Database is at the latest schema.[/] Reference rows added: {added}")


@db_app.command("check")
def db_check(database_url: str | None = DatabaseUrl) -> None:
    """Fail when the database schema and the models differ (a migration is missing)."""
    from hub.migrations import drift

    differences = asyncio.run(drift(_settings(database_url).database_url))
    if differences:
        for difference in differences:
            console.print(f"[red]drift:[/] {difference}")
        raise typer.Exit(1)
    console.print("[green]Models and migrations agree.[/]")


@schema_app.command("export")
def schema_export(
    output: Path = typer.Option(SCHEMA_FILE, "--output", "-o", help="Where to write the SDL."),
    subgraph: Path = typer.Option(
        SUBGRAPH_FILE, "--subgraph", help="Where to write the federation subgraph SDL."
    ),
) -> None:
    """Write the GraphQL schema (SDL) that clients code against, and the subgraph SDL a
    federation gateway composes (`_service { sdl }`)."""
    from hub.graphql.schema import schema_sdl, subgraph_sdl

    for path, text in ((output, schema_sdl()), (subgraph, subgraph_sdl())):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        console.print(f"Wrote {path}")


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="Overrides HUB_HOST."),
    port: int | None = typer.Option(None, help="Overrides HUB_PORT."),
    workers: int | None = typer.Option(None, help="Overrides HUB_WORKERS."),
) -> None:
    """Serve the hub with uvicorn."""
    import logging.config
    import os
    import shutil

    import uvicorn

    # The app factory (in every worker process) builds its settings from the environment:
    # the flags go there, so that the issuer and the RFC 8414 metadata name this address.
    if host is not None:
        os.environ["HUB_HOST"] = host
    if port is not None:
        os.environ["HUB_PORT"] = str(port)
    from hub.edge.keys import production_problems
    from hub.edge.logs import log_config
    from hub.edge.metrics import MULTIPROC_DIR_VARIABLE

    settings = _settings()
    problems = production_problems(settings)
    if problems:
        # Say it once, here, rather than as a traceback from every worker.
        for problem in problems:
            console.print(f"[red]cannot start:[/] {problem}")
        raise typer.Exit(2)
    config = log_config(settings.log_level, json=settings.edge.log_format == "json")
    logging.config.dictConfig(config)
    count = workers or settings.workers
    if count > 1 and not os.environ.get(MULTIPROC_DIR_VARIABLE):
        # Several workers: prometheus-client must keep its samples in files that /metrics
        # sums; a fresh directory per start, or a dead run's counters would add in.
        samples = settings.var_dir / "metrics"
        shutil.rmtree(samples, ignore_errors=True)
        samples.mkdir(parents=True)
        os.environ[MULTIPROC_DIR_VARIABLE] = str(samples.resolve())
    uvicorn.run(
        "hub.app:create_served_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=count,
        # A worker answers the supervisor's health ping only once it has imported the hub.
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
        log_level=settings.log_level,
        # Subscriptions: the sans-I/O websockets protocol (the legacy one is deprecated).
        ws="websockets-sansio",
        log_config=config,
        # The hub writes its own access line (hub.access: request id, client, outcome).
        access_log=False,
    )


@app.command("demo")
def demo(
    citizens: int | None = typer.Option(
        None, help="Citizens to seed when the registry is empty [default: 3000]."
    ),
    seed: int | None = typer.Option(None, help="Random seed of the synthetic city [default: 1]."),
) -> None:
    """Migrate, seed a small synthetic Bandung when empty, and serve GraphiQL on loopback."""
    import uvicorn

    from hub.cli.demo import DEMO_CITIZENS, DEMO_SEED, prepare_demo

    settings = _settings()
    asyncio.run(
        prepare_demo(
            settings,
            citizens=DEMO_CITIZENS if citizens is None else citizens,
            seed=DEMO_SEED if seed is None else seed,
            console=console,
        )
    )
    uvicorn.run(
        "hub.app:create_served_app",
        factory=True,
        host="127.0.0.1",
        port=settings.port,
        log_level="warning",
        ws="websockets-sansio",
    )


def _register_domain_commands() -> None:
    from hub.cli import audit, clients, connectors, documents, imports, keys, orgs, policy
    from hub.cli.seed import seed_command

    app.command("seed", help="Fill an empty registry with a deterministic synthetic Bandung.")(
        seed_command
    )
    app.add_typer(orgs.app, name="orgs")
    app.add_typer(clients.app, name="clients")
    app.add_typer(policy.app, name="policy")
    app.add_typer(audit.app, name="audit")
    app.add_typer(imports.app, name="import")
    app.add_typer(connectors.app, name="connectors")
    app.add_typer(keys.app, name="keys")
    app.add_typer(documents.app, name="documents")


_register_domain_commands()


def main() -> None:
    """Entry point of the `hub` console script."""
    app()
