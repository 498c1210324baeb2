"""Messages a partner can act on: ids as the client sent them, purposes, credentials."""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.support.api import Api


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_need_errors_name_the_global_id_the_client_sent(city: Api) -> None:
    data = await city.data("{ needs(first: 1, filter: {status: [REPORTED]}) { nodes { id } } }")
    need = data["needs"]["nodes"][0]["id"]
    body = await city.as_("lks_partner").query(
        "mutation($id: ID!) { pledgeNeed(id: $id) { errors { code message } } }", {"id": need}
    )
    message = body["data"]["pledgeNeed"]["errors"][0]["message"]
    row_id = base64.b64decode(need).decode().partition(":")[2]
    assert need in message, message
    assert not re.search(rf"\bneed {row_id}\b", message), message
    missing = base64.b64encode(b"Need:987654321").decode()
    closed = await city.query(
        'mutation($id: ID!) { closeNeed(id: $id, outcome: NO_LONGER_NEEDED, reason: "x") '
        "{ errors { code message } } }",
        {"id": missing},
    )
    errors = closed["data"]["closeNeed"]["errors"]
    assert errors[0]["code"] == "NEED_NOT_FOUND"
    assert missing in errors[0]["message"] and "987654321" not in errors[0]["message"]


async def test_a_foundation_without_purpose_is_told_fields_come_masked(city: Api) -> None:
    lks = city.as_("lks_partner", purpose=None)
    body = await lks.query("{ citizens(first: 3) { nodes { fullName } } }")
    assert "errors" not in body, body
    warning = body["extensions"]["warnings"][0]
    assert warning["code"] == "PURPOSE_WOULD_UNMASK"
    assert warning["fields"] == ["Citizen.fullName"]
    assert "SERVICE_DELIVERY" in warning["message"]
    stated = await city.as_("lks_partner").query("{ citizens(first: 3) { nodes { fullName } } }")
    assert "warnings" not in (stated.get("extensions") or {})


async def test_a_refused_purpose_names_what_the_role_may_state(city: Api) -> None:
    lks = city.as_("lks_partner", purpose="NONSENSE")
    body = await lks.query("{ citizens(first: 1) { nodes { fullName } } }")
    assert codes(body) == ["BAD_PURPOSE"]
    error = body["errors"][0]
    assert error["extensions"]["accepted"] == ["SERVICE_DELIVERY"]
    assert "your role may state: SERVICE_DELIVERY." in error["message"]
    forbidden = await city.as_("lks_partner", purpose="AUDIT").query(
        "{ citizens(first: 1) { nodes { fullName } } }"
    )
    assert codes(forbidden) == ["FORBIDDEN"]
    assert "it may state: SERVICE_DELIVERY" in forbidden["errors"][0]["message"]


async def test_a_wrong_client_secret_says_the_credentials_were_not_accepted(city: Api) -> None:
    identity = city.identities["lks_partner"]
    response = await city.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(identity.client_id, "not-the-secret"),
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert "client id and secret" in body["error_description"]
    assert "not accepted" in body["error_description"]
