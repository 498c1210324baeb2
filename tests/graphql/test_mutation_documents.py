"""A mutation document is one truth: it commits whole, or nothing of it is written."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.partners import sql

REGISTER = """registerOrganization(input: {code: "%s", kind: LKS, name: "Yayasan %s",
  categories: ["FOOD"], kecamatan: []}) { organization { code } errors { code } }"""
#: A global id this hub never issued: a top-level error (INVALID_ID), not a payload error.
BAD_APPROVE = 'approveOrganization(code: "NOPE") { errors { code } }'
BAD_VERIFY = 'verifyNeed(id: "Need:1", note: "x") { errors { code } }'


async def _organizations(api: Api, code: str) -> list[dict[str, Any]]:
    url = str(api.app.state.settings.database_url)
    return await sql(url, "SELECT code FROM organizations WHERE code = :code", code=code)


async def test_a_top_level_error_leaves_nothing_written(fresh_city: Api) -> None:
    document = (
        "mutation { first: " + REGISTER % ("LKS-ONE", "One") + " second: " + BAD_VERIFY + " }"
    )
    response = await fresh_city.post(document)
    body = response.json()
    assert response.status_code == 200, body
    assert body["data"] is None
    codes = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert codes == {("second",): "INVALID_ID", ("first",): "NOT_COMMITTED"}
    assert await _organizations(fresh_city, "LKS-ONE") == []
    # The refusal itself is in the audit trail.
    url = str(fresh_city.app.state.settings.database_url)
    events = await sql(
        url,
        "SELECT reason FROM audit_events WHERE request_id = :rid",
        rid=response.headers["x-request-id"],
    )
    assert [e["reason"] for e in events] == ["errors: INVALID_ID, NOT_COMMITTED"]


async def test_payload_errors_write_nothing_and_the_rest_commits(fresh_city: Api) -> None:
    document = (
        "mutation { first: " + REGISTER % ("LKS-TWO", "Two") + " second: " + BAD_APPROVE + " }"
    )
    body = await fresh_city.query(document)
    assert "errors" not in body, body
    assert body["data"]["first"] == {"organization": {"code": "LKS-TWO"}, "errors": []}
    assert [e["code"] for e in body["data"]["second"]["errors"]]
    assert await _organizations(fresh_city, "LKS-TWO") == [{"code": "LKS-TWO"}]
