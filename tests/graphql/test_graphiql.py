"""The GraphiQL page loads nothing from outside the hub, and its assets are served here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from hub.app import create_app
from hub.auth.keys import MemoryKeyStore
from hub.graphql.graphiql import STATIC_DIR, STATIC_PATH, missing_assets
from tests.support.api import Api

HTML = {"Accept": "text/html,application/xhtml+xml"}
#: Every src/href of the page.
_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')


async def _page(client: httpx.AsyncClient) -> str:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_every_file_the_page_refers_to_is_installed() -> None:
    assert missing_assets() == []


async def test_the_page_refers_only_to_the_hubs_own_assets(city: Api) -> None:
    page = await _page(city.client)
    references = _REFERENCE.findall(page)
    assert len(references) == 9, references
    assert all(ref.startswith(STATIC_PATH + "/") for ref in references), references
    assert "http://" not in page
    assert "https://" not in page
    # No inline script or style: the page works under a CSP without 'unsafe-inline'.
    assert "<script>" not in page
    assert "<style" not in page


async def test_every_asset_is_served_without_a_token_with_types_and_cache_headers(
    city: Api,
) -> None:
    page = await _page(city.client)
    total = 0
    for ref in _REFERENCE.findall(page):
        response = await city.client.get(ref, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, ref
        kind = response.headers["content-type"]
        if ref.endswith(".js"):
            assert kind.startswith("text/javascript"), (ref, kind)
        elif ref.endswith(".css"):
            assert kind.startswith("text/css"), (ref, kind)
        else:
            assert kind.startswith("image/svg+xml"), (ref, kind)
        assert response.headers["x-content-type-options"] == "nosniff"
        versioned = re.search(r"/[a-z-]+-\d+\.\d+\.\d+/", ref) is not None
        expected = "public, max-age=31536000, immutable" if versioned else "no-cache"
        assert response.headers["cache-control"] == expected, ref
        assert "sourceMappingURL" not in response.text, ref
        total += len(response.content)
    # Production builds only: React, GraphiQL and the explorer come to about 4 MB.
    assert total < 4.5 * 1024 * 1024, total


async def test_the_big_bundle_is_compressed_for_browsers_that_ask(city: Api) -> None:
    response = await city.client.get(f"{STATIC_PATH}/graphiql-3.8.3/graphiql.min.js")
    assert response.headers["content-encoding"] == "gzip"
    assert response.num_bytes_downloaded < 1.5 * 1024 * 1024, response.num_bytes_downloaded
    assert len(response.content) == (STATIC_DIR / "graphiql-3.8.3/graphiql.min.js").stat().st_size


@pytest.mark.parametrize(
    "path",
    [
        "/../page.html",
        "/%2e%2e/page.html",
        "/../__init__.py",
        "/../npm/package.json",
        "/nothing-here.js",
    ],
)
async def test_only_the_asset_files_are_reachable(city: Api, path: str) -> None:
    response = await city.client.get(STATIC_PATH + path)
    assert response.status_code == 404, (path, response.status_code)


async def test_assets_answer_get_only(city: Api) -> None:
    url = f"{STATIC_PATH}/hub-graphiql.js"
    assert (await city.client.head(url)).status_code == 200
    for method in ("POST", "PUT", "DELETE"):
        assert (await city.client.request(method, url)).status_code == 405, method


@pytest.fixture
async def production(city: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A hub in production mode on the shared city (only the GraphiQL routes are used)."""
    development = city.app.state.settings
    keys = development.var_dir / "keys"  # the development app's generated audit keys
    audit = development.audit.model_copy(
        update={"key_file": keys / "audit-key.pem", "pepper_file": keys / "audit-pepper"}
    )
    settings = development.model_copy(update={"environment": "production", "audit": audit})
    app = create_app(settings, key_store=MemoryKeyStore())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
    ) as client:
        yield client
    await app.state.recorder.close()  # its writer keeps a connection on PostgreSQL
    await app.state.audit_engine.dispose()
    await app.state.engine.dispose()


async def test_production_serves_neither_the_page_nor_its_assets(
    production: httpx.AsyncClient,
) -> None:
    page = await production.get("/graphql", headers=HTML)
    assert page.status_code == 404
    asset = await production.get(f"{STATIC_PATH}/graphiql-3.8.3/graphiql.min.js")
    assert asset.status_code == 404
