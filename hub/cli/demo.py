"""`hub demo`: a ready-to-browse hub on loopback for a newcomer, with a token per role."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import func, select

from hub.auth.demo import DemoCredential, issue_demo_credentials
from hub.auth.state import AuthState
from hub.db import create_engine, session_factory, transaction
from hub.migrations import upgrade
from hub.registry.models import Citizen
from hub.settings import Settings

#: Demo tokens outlive the usual 15 minutes so that a GraphiQL session is not cut short.
DEMO_TOKEN_SECONDS = 8 * 3600

EXAMPLE_QUERY = """{
  me { clientId roles organization { code name } }
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


async def prepare_demo(settings: Settings, *, citizens: int, seed: int, console: Console) -> None:
    """Migrate, seed when the registry is empty, issue demo clients, say where to go."""
    from hub.synthetic import seed_city

    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            existing = int(await session.scalar(select(func.count()).select_from(Citizen)) or 0)
        if existing == 0:
            console.print(f"Seeding a synthetic Bandung with {citizens:,} citizens (seed {seed})…")
            summary = await seed_city(settings.database_url, citizens=citizens, seed=seed)
            console.print(f"Seeded in {summary.seconds:.1f} s.")
        auth = AuthState.from_settings(settings, sessions)
        async with transaction(sessions) as session:
            credentials = await issue_demo_credentials(
                session, auth, token_ttl_seconds=DEMO_TOKEN_SECONDS
            )
    finally:
        await engine.dispose()
    _show(console, settings, credentials)


def _show(console: Console, settings: Settings, credentials: list[DemoCredential]) -> None:
    url = f"http://127.0.0.1:{settings.port}/graphql"
    # Plain lines, not a table: ids, secrets and tokens must be copyable whole.
    console.print("[bold]Demo clients, one per role[/] (secrets are shown only now):")
    for c in credentials:
        console.print(f"\n[bold]{c.role}[/] of {c.organization_code}", highlight=False)
        console.print(f"  client id:     {c.client_id}", soft_wrap=True, highlight=False)
        console.print(f"  client secret: {c.client_secret}", soft_wrap=True, highlight=False)
        console.print("  GraphiQL headers:", highlight=False)
        console.print(
            f'  {{"Authorization": "Bearer {c.access_token}", "X-Purpose": "SERVICE_DELIVERY"}}',
            soft_wrap=True,
            highlight=False,
        )
    console.print(
        Panel.fit(
            f"GraphiQL: [bold]{url}[/] (bound to 127.0.0.1 only; synthetic data)\n\n"
            f"Tokens above last {DEMO_TOKEN_SECONDS // 3600} hours. A new one, with any OAuth2 "
            "library or curl:\n"
            f"  curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials "
            f"http://127.0.0.1:{settings.port}/oauth/token\n\n"
            f"Try:\n{EXAMPLE_QUERY}",
            title="Satu Pintu Hub — demo",
        )
    )
