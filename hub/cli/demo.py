"""`hub demo`: a ready-to-browse hub on loopback for a newcomer."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import func, select

from hub.database import upgrade
from hub.db import create_engine, session_factory
from hub.registry.models import Citizen
from hub.settings import Settings

EXAMPLE_QUERY = """{
  regions(level: KECAMATAN) { code name }
  needs(first: 5, filter: {status: [OPEN]}) {
    totalCount
    nodes {
      status severity description waitingDays
      category { labelId } kecamatan { name } kelurahan { name }
      citizen { fullName age household { address rt rw } }
    }
  }
}"""


async def _citizen_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(Citizen)) or 0)
    finally:
        await engine.dispose()


async def prepare_demo(settings: Settings, *, citizens: int, seed: int, console: Console) -> None:
    """Migrate, seed when the registry is empty, and tell the user where to go."""
    from hub.synthetic import seed_city

    await upgrade(settings.database_url)
    if await _citizen_count(settings.database_url) == 0:
        console.print(f"Seeding a synthetic Bandung with {citizens:,} citizens (seed {seed})…")
        summary = await seed_city(settings.database_url, citizens=citizens, seed=seed)
        console.print(f"Seeded in {summary.seconds:.1f} s: {summary.counts}")
    url = f"http://127.0.0.1:{settings.port}/graphql"
    console.print(
        Panel.fit(
            f"GraphiQL: [bold]{url}[/]\n\n"
            "[yellow]This API is not yet authenticated: it is bound to loopback (127.0.0.1) "
            "only and serves synthetic data. Do not expose it.[/]\n\n"
            f"Try:\n{EXAMPLE_QUERY}",
            title="Satu Pintu Hub — demo",
        )
    )
