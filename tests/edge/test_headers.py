"""Security headers everywhere, HSTS over HTTPS only, CORS for the configured origins only."""

from __future__ import annotations

import httpx

from hub.edge.settings import EdgeSettings
from tests.support.api import Api, close_api, make_api

ORIGIN = "https://mitra.example.org"


async def test_security_headers_and_hsts_only_over_https(city: Api) -> None:
    plain = await city.client.get("/healthz")
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert plain.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in plain.headers
    transport = httpx.ASGITransport(app=city.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.example") as tls:
        secure = await tls.get("/healthz")
    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_no_origin_is_allowed_unless_configured(city: Api) -> None:
    preflight = await city.client.options(
        "/graphql", headers={"origin": ORIGIN, "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_configured_origins_may_call_from_a_browser(city_database_url: str) -> None:
    api = await make_api(
        city_database_url, edge=EdgeSettings(rate_limits=False, cors_origins=[ORIGIN])
    )
    try:
        preflight = await api.client.options(
            "/graphql",
            headers={
                "origin": ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type, x-purpose",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        answer = await api.client.post(
            "/graphql",
            json={"query": "{ me { clientId } }"},
            headers={**api.headers(), "origin": ORIGIN},
        )
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in answer.headers["access-control-expose-headers"]
        other = await api.client.options(
            "/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert other.status_code == 400
    finally:
        await close_api(api)


def test_origins_are_read_from_a_comma_separated_variable() -> None:
    settings = EdgeSettings.from_env({"HUB_CORS_ORIGINS": f"{ORIGIN}/, https://b.example"})
    assert settings.cors_origins == [ORIGIN, "https://b.example"]
