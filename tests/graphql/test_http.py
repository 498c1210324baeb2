"""GraphQL over HTTP as clients meet it: media types, GET, request ids, masked failures."""

from __future__ import annotations

from sqlalchemy import text

from hub.db import create_engine
from tests.support.api import Api


async def test_graphql_response_json_media_type_and_400_for_request_errors(city: Api) -> None:
    accept = {"accept": "application/graphql-response+json"}
    ok = await city.post("{ programs { code } }", **accept)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    bad = await city.post("{ programs { nope } }", **accept)
    assert bad.status_code == 400
    assert "data" not in bad.json()
    plain = await city.post("{ programs { nope } }")
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("application/json")


async def test_queries_over_get_but_not_mutations(city: Api) -> None:
    response = await city.client.get(
        "/graphql", params={"query": "{ programs { code } }"}, headers=city.headers()
    )
    assert response.status_code == 200
    assert response.json()["data"]["programs"]


async def test_request_id_is_echoed_or_made(city: Api) -> None:
    given = await city.client.get("/healthz", headers={"x-request-id": "abcdef123456"})
    assert given.headers["x-request-id"] == "abcdef123456"
    made = await city.client.get("/healthz", headers={"x-request-id": "bad id!"})
    assert len(made.headers["x-request-id"]) == 32


async def test_unexpected_failure_is_masked_with_request_id(fresh_city: Api) -> None:
    engine = create_engine(str(fresh_city.app.state.settings.database_url))
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE need_status_changes"))
    await engine.dispose()
    response = await fresh_city.post(
        "{ needs(first: 1) { nodes { history { toStatus } } } }",
        **{"x-request-id": "trace-0001-abcd"},
    )
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "trace-0001-abcd"}
    assert "need_status_changes" not in error["message"]


async def test_query_depth_is_limited(city: Api) -> None:
    deep = "{ regions " + "{ parent " * 10 + "{ code }" + " }" * 10 + " }"
    body = await city.query(deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_health_and_readiness(city: Api) -> None:
    assert (await city.client.get("/healthz")).json() == {"status": "ok"}
    assert (await city.client.get("/readyz")).json() == {"status": "ok", "database": "ok"}


async def test_readiness_fails_when_the_database_is_unreachable() -> None:
    import httpx

    from hub.app import create_app
    from hub.settings import Settings

    app = create_app(Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/readyz")
    await app.state.audit_engine.dispose()
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
