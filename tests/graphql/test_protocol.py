"""GraphQL over HTTP details: GET mutations, nullable node, coded validation, production mode."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.settings import Settings
from tests.support.api import Api, close_api, make_api


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_a_mutation_over_get_is_405_with_allow(city: Api) -> None:
    response = await city.client.get(
        "/graphql",
        params={"query": 'mutation { verifyNeed(id: "TmVlZDox") { errors { code } } }'},
        headers=city.headers(),
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]
    assert response.headers["x-request-id"]


async def test_unknown_node_is_null_without_nulling_its_siblings(city: Api) -> None:
    unknown = base64.b64encode(b"Need:999999999").decode()
    body = await city.query(
        "query($id: ID!) { node(id: $id) { id } programs { code } }", {"id": unknown}
    )
    assert body["data"]["node"] is None
    assert body["data"]["programs"]
    assert codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["path"] == ["node"]


async def test_validation_and_parse_errors_carry_codes(city: Api) -> None:
    assert codes(await city.query("{ programs { nope } }")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(await city.query("{ programs { code }")) == ["GRAPHQL_PARSE_FAILED"]
    bad_variable = await city.query("query($n: Int!) { needs(first: $n) { nodes { id } } }")
    assert codes(bad_variable) == ["BAD_USER_INPUT"]


async def test_two_operations_need_an_operation_name(city: Api) -> None:
    document = "query A { programs { code } } query B { programs { name } }"
    body = await city.query(document)
    assert codes(body) == ["OPERATION_NAME_REQUIRED"]
    assert body["errors"][0]["extensions"]["operations"] == ["A", "B"]
    response = await city.client.post(
        "/graphql",
        json={"query": document, "operationName": "C"},
        headers=city.headers(),
    )
    assert codes(response.json()) == ["UNKNOWN_OPERATION"]
    named = await city.client.post(
        "/graphql", json={"query": document, "operationName": "B"}, headers=city.headers()
    )
    assert named.json()["data"]["programs"]


async def test_development_introspects_and_suggests(city: Api) -> None:
    assert "errors" not in await city.query("{ __schema { queryType { name } } }")
    body = await city.query("{ programs { cod } }")
    assert "Did you mean 'code'?" in body["errors"][0]["message"]


async def test_production_turns_off_introspection_and_suggestions(city_database_url: str) -> None:
    production = Settings.from_env({"HUB_ENV": "production"})
    assert production.introspection is False and production.suggestions is False
    assert Settings.from_env({"HUB_ENV": "production", "HUB_INTROSPECTION": "on"}).introspection
    api = await make_api(city_database_url, introspection=False, suggestions=False)
    try:
        body = await api.query("{ __schema { queryType { name } } }")
        assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in body["errors"][0]["message"].lower()
        typo = await api.query("{ programs { cod } }")
        assert typo["errors"][0]["message"] == "Cannot query field 'cod' on type 'Program'."
        assert "errors" not in await api.query("{ __typename programs { code } }")
    finally:
        await close_api(api)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_serve_port_reaches_the_issuer_and_metadata(tmp_path: Path) -> None:
    hub = str(Path(sys.executable).with_name("hub"))
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        "HUB_VAR_DIR": str(tmp_path / "var"),
        "HUB_ENV": "development",
    }
    for name in ("HUB_ISSUER", "HUB_HOST", "HUB_PORT"):
        env.pop(name, None)
    subprocess.run([hub, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [hub, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server"
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "hub serve did not answer within 30 s"
                time.sleep(0.2)
        metadata = response.json()
        assert metadata["issuer"] == f"http://127.0.0.1:{port}"
        assert metadata["token_endpoint"] == f"http://127.0.0.1:{port}/oauth/token"
    finally:
        server.terminate()
        server.wait(timeout=20)
