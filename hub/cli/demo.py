"""`hub demo`: a ready-to-browse hub on loopback for a newcomer, with a token per role."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import func, select

from hub.auth.demo import (
    SECRETS_FILE,
    DemoCredential,
    DemoFoundation,
    demo_foundation,
    issue_demo_credentials,
    load_demo_secrets,
    save_demo_secrets,
)
from hub.auth.state import AuthState
from hub.db import create_engine, session_factory, transaction
from hub.migrations import upgrade
from hub.registry.models import Citizen
from hub.settings import Settings

#: Demo tokens outlive the usual 15 minutes so that a GraphiQL session is not cut short.
DEMO_TOKEN_SECONDS = 8 * 3600
#: The synthetic city `hub demo` seeds when the registry is empty (the README's examples
#: are written for it: see tests/auth/test_demo.py).
DEMO_CITIZENS = 3000
DEMO_SEED = 1

#: What an agency may try: its identity, the regions, open needs in full.
AGENCY_QUERY = """{
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

#: The README's second example: a foundation's open needs in one kecamatan.
FOUNDATION_QUERY = """{
  needs(first: 10, filter: {status: [OPEN], kecamatan: ["%s"]}, orderBy: URGENT) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id status severity waitingDays description
      category { labelId } ppksType { labelId }
      kelurahan { name } kecamatan { name }
      citizen { fullName age household { address rt rw welfareDecile } }
    }
  }
}"""

#: An auditor reads the trail and the contributions, never the registry.
AUDITOR_QUERY = """{
  auditIntegrity { ok lastSeq unsealed }
  auditEvents(first: 5) {
    totalCount
    nodes { occurredAt kind decision organizationCode purpose operationName }
  }
  contributions(first: 5) {
    totalCount
    nodes { kind amount deliveredOn organization { code } kecamatan { name } }
  }
}"""

_SECRET_NOTES = {
    "new": "new client",
    "kept": "the same secret as last time",
    "renewed": "RENEWED: the secret printed before for this client no longer works",
}


def example_query(role: str, foundation: DemoFoundation) -> str:
    """A query `role` may run, showing what it is for."""
    if role == "auditor":
        return AUDITOR_QUERY
    if role == "lks_partner" and foundation.kecamatan_code is not None:
        return FOUNDATION_QUERY % foundation.kecamatan_code
    return AGENCY_QUERY


async def prepare_demo(
    settings: Settings, *, citizens: int, seed: int, console: Console
) -> list[DemoCredential]:
    """Migrate, seed when the registry is empty, issue demo clients, say where to go."""
    from hub.synthetic import seed_city

    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    secrets_path = settings.var_dir / SECRETS_FILE
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
            foundation = await demo_foundation(session)
            credentials = await issue_demo_credentials(
                session,
                auth,
                token_ttl_seconds=DEMO_TOKEN_SECONDS,
                known_secrets=load_demo_secrets(secrets_path),
                foundation=foundation,
            )
        save_demo_secrets(secrets_path, credentials)
    finally:
        await engine.dispose()
    _show(console, settings, credentials, foundation, secrets_path.as_posix())
    return credentials


def _show(
    console: Console,
    settings: Settings,
    credentials: list[DemoCredential],
    foundation: DemoFoundation,
    secrets_path: str,
) -> None:
    url = f"http://127.0.0.1:{settings.port}/graphql"
    # Plain lines, not a table: ids, secrets and tokens must be copyable whole.
    console.print(
        f"[bold]Demo clients, one per role[/] (secrets kept in {secrets_path}, mode 0600):",
        highlight=False,
    )
    for c in credentials:
        console.print(f"\n[bold]{c.role}[/] of {c.organization_code}", highlight=False)
        console.print(f"  client id:     {c.client_id}", soft_wrap=True, highlight=False)
        console.print(
            f"  client secret: {c.client_secret}  ({_SECRET_NOTES[c.secret_status]})",
            soft_wrap=True,
            highlight=False,
        )
        console.print("  GraphiQL headers (paste into the Headers tab):", highlight=False)
        console.print(f"  {c.graphiql_headers}", soft_wrap=True, highlight=False, markup=False)
        console.print("  Try:", highlight=False)
        console.print(
            "    " + example_query(c.role, foundation).replace("\n", "\n    "),
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    renewed = [c.role for c in credentials if c.secret_status == "renewed"]
    if renewed:
        console.print(
            f"\n[bold yellow]Secrets renewed[/] for {', '.join(renewed)}: {secrets_path} did "
            "not hold them; the secrets printed before for these clients no longer work.",
            highlight=False,
        )
    console.print(
        Panel.fit(
            f"GraphiQL: [bold]{url}[/] (bound to 127.0.0.1 only; synthetic data)\n\n"
            f"Tokens above last {DEMO_TOKEN_SECONDS // 3600} hours. A new one, with any OAuth2 "
            "library or curl:\n"
            f"  curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials "
            f"http://127.0.0.1:{settings.port}/oauth/token",
            title="Satu Pintu Hub — demo",
        )
    )
