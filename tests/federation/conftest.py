"""The example agency subgraph, live on loopback, with a record for every city citizen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.federation.servers import free_port, start_agency, stop, write_agency_table

AGENCY_TOKEN = "agency-test-token"
#: Where the hub reads the agency's token: connectors name `env:HUB_TEST_AGENCY_TOKEN`.
SECRET_ENV = "HUB_TEST_AGENCY_TOKEN"
#: The hub's client secret at the agency's token endpoint (client credentials).
CLIENT_SECRET_ENV = "HUB_TEST_AGENCY_CLIENT_SECRET"


@pytest.fixture(autouse=True)
def _agency_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credential the hub reads through the connector's secret reference."""
    monkeypatch.setenv(SECRET_ENV, AGENCY_TOKEN)
    monkeypatch.setenv(CLIENT_SECRET_ENV, f"secret-of-{AGENCY_TOKEN}")


@dataclass(frozen=True)
class Agency:
    """Where the example agency listens, and the NIKs it knows."""

    url: str
    niks: list[str]

    async def requests(self) -> int:
        """How many GraphQL requests it has answered so far."""
        async with httpx.AsyncClient() as client:
            return int(
                (await client.get(self.url.replace("/graphql", "/stats"))).json()["requests"]
            )


@pytest.fixture(scope="session")
async def agency(
    city_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Agency]:
    """The example agency (token required) on the city's citizens."""
    table = Path(tmp_path_factory.mktemp("agency")) / "records.csv"
    niks = await write_agency_table(city_database_url, table)
    port = free_port()
    process = await start_agency(table, port, AGENCY_TOKEN)
    try:
        yield Agency(f"http://127.0.0.1:{port}/graphql", niks)
    finally:
        await stop(process)
