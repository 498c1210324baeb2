"""The GraphQL endpoint requires a token and knows who is calling."""

from __future__ import annotations

from tests.support.api import Api


async def test_graphql_without_a_token_is_401_with_a_bearer_challenge(city: Api) -> None:
    response = await city.client.post("/graphql", json={"query": "{ programs { code } }"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="satu-pintu-hub"'
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_tampered_token_is_refused(city: Api) -> None:
    token = city.headers()["authorization"]
    response = await city.client.post(
        "/graphql",
        json={"query": "{ me { clientId } }"},
        headers={"authorization": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")},
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_me_names_the_client_its_roles_and_organisation(city: Api) -> None:
    lks = city.as_("lks_partner")
    data = await lks.data(
        "{ me { clientId roles organization { code kind areas { code } categories { code } } } }"
    )
    me = data["me"]
    assert me["clientId"] == lks.identity.client_id
    assert me["roles"] == ["LKS_PARTNER"]
    assert me["organization"]["code"] == lks.identity.organization_code
    assert me["organization"]["kind"] == "LKS"
    assert me["organization"]["areas"]


async def test_health_and_oauth_metadata_stay_open(city: Api) -> None:
    assert (await city.client.get("/healthz")).status_code == 200
    metadata = (await city.client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["token_endpoint"].endswith("/oauth/token")
    assert (await city.client.get("/.well-known/jwks.json")).json()["keys"]


async def test_the_graphiql_page_needs_no_token_but_its_queries_do(city: Api) -> None:
    page = await city.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    query = await city.client.get("/graphql", params={"query": "{ programs { code } }"})
    assert query.status_code == 401
