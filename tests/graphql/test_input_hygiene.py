"""Input hygiene at the edge: every string argument is checked once, before execution."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_composite_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.audit.models import AuditEventRecord
from hub.db import create_engine, session_factory
from hub.graphql.schema import build_schema
from tests.support.api import Api, close_api, make_api


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def gid(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


REPORT = """mutation($input: ReportNeedInput!) { reportNeed(input: $input) {
  need { id } errors { code message } } }"""


async def _citizen_id(api: Api) -> str:
    data = await api.data("{ citizens(first: 1) { nodes { id } } }")
    return str(data["citizens"]["nodes"][0]["id"])


async def test_nul_in_a_variable_is_refused_naming_the_argument(fresh_city: Api) -> None:
    citizen = await _citizen_id(fresh_city)
    body = await fresh_city.query(
        REPORT, {"input": {"citizen": citizen, "category": "PANGAN", "description": "a\x00b"}}
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    error = body["errors"][0]
    assert error["extensions"]["argument"] == "reportNeed(input).description"
    assert "NUL" in error["message"] and "position 1" in error["message"]


async def test_control_characters_are_refused_in_literals_tab_and_newline_pass(
    fresh_city: Api,
) -> None:
    body = await fresh_city.query('{ regions(parentCode: "32\\u001b73") { code } }')
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "U+001B at position 2" in body["errors"][0]["message"]
    assert "tab, line feed and carriage return" in body["errors"][0]["message"]
    fine = await fresh_city.query('{ regions(parentCode: "32\\t73\\n") { code } }')
    assert "errors" not in fine


async def test_lone_surrogates_are_answered_in_graphql_with_request_id_and_audited(
    fresh_city: Api,
) -> None:
    raw = (
        '{"query": "query Q($p: String) { regions(parentCode: $p) { code } }", '
        '"variables": {"p": "x\\ud800"}, "operationName": "Q\\udfff"}'
    )
    response = await fresh_city.client.post(
        "/graphql",
        content=raw.encode(),
        headers={
            **fresh_city.headers(),
            "content-type": "application/json",
            "x-request-id": "surrogate-0001",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "surrogate-0001"
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert {e["extensions"]["argument"] for e in body["errors"]} == {
        "operationName",
        "variables.p",
    }
    engine = create_engine(str(fresh_city.app.state.settings.database_url))
    try:
        async with session_factory(engine)() as session:
            reasons = list(
                await session.scalars(
                    select(AuditEventRecord.reason).where(
                        AuditEventRecord.request_id == "surrogate-0001"
                    )
                )
            )
    finally:
        await engine.dispose()
    assert reasons == ["errors: BAD_USER_INPUT"]


async def test_strings_longer_than_their_column_are_refused(fresh_city: Api) -> None:
    organization = (await fresh_city.data("{ organizations(first: 1) { nodes { code } } }"))[
        "organizations"
    ]["nodes"][0]["code"]
    body = await fresh_city.query(
        """mutation($input: CreateClientInput!) { createClient(input: $input) {
             secret errors { code message } } }""",
        {"input": {"organization": organization, "name": "n" * 121, "roles": []}},
    )
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "121 characters long; at most 120" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["argument"] == "createClient(input).name"


@pytest.mark.parametrize("key", ["99999999999999999999", "9223372036854775808", "\u0661\u0662"])
async def test_ids_whose_number_the_database_cannot_hold_are_invalid(city: Api, key: str) -> None:
    body = await city.query("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Citizen", key)})
    assert codes(body) == ["INVALID_ID"]
    assert body["data"] == {"node": None}
    pledge = await city.as_("lks_partner").query(
        "mutation($id: ID!) { pledgeNeed(id: $id) { errors { code } } }",
        {"id": gid("Need", key)},
    )
    assert codes(pledge) == ["INVALID_ID"]


@pytest.mark.parametrize("amount", ["\u0661\u0662", "\uff11\uff10\uff10\uff10", "12a"])
async def test_rupiah_takes_ascii_digits_only(city: Api, amount: str) -> None:
    body = await city.as_("lks_partner").query(
        """mutation($input: RecordContributionInput!) { recordContribution(input: $input) {
             errors { code } } }""",
        {
            "input": {
                "citizen": gid("Citizen", 1),
                "category": "PANGAN",
                "kind": "CASH",
                "amount": amount,
                "deliveredOn": "2026-11-01",
                "idempotencyKey": "hygiene-1",
            }
        },
    )
    assert codes(body) == ["INVALID_RUPIAH"], body


async def test_nik_takes_ascii_digits_only(city: Api) -> None:
    arabic = "".join(chr(0x0660 + int(d)) for d in "3273010101900001")  # Arabic-Indic
    assert arabic.isdigit() and len(arabic) == 16
    body = await city.query("query($n: NIK!) { citizen(nik: $n) { id } }", {"n": arabic})
    assert codes(body) == ["INVALID_NIK"]


async def test_a_body_over_the_cap_is_413_graphql_shaped_with_request_id(
    city_database_url: str,
) -> None:
    api = await make_api(city_database_url, max_body_bytes=2048)
    try:
        big = {"query": "{ programs { code } }", "variables": {"pad": "x" * 4096}}
        declared = await api.client.post(
            "/graphql", json=big, headers={**api.headers(), "x-request-id": "too-large-0001"}
        )
        assert declared.status_code == 413
        assert declared.headers["x-request-id"] == "too-large-0001"
        error = declared.json()["errors"][0]
        assert error["extensions"] == {
            "code": "REQUEST_TOO_LARGE",
            "limit": 2048,
            "requestId": "too-large-0001",
        }

        async def chunks() -> AsyncIterator[bytes]:
            encoded = json.dumps(big).encode()
            for start in range(0, len(encoded), 512):
                yield encoded[start : start + 512]

        streamed = await api.client.post(
            "/graphql",
            content=chunks(),
            headers={**api.headers(), "content-type": "application/json"},
        )
        assert streamed.status_code == 413
        assert streamed.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
        small = await api.client.post(
            "/graphql", json={"query": "{ programs { code } }"}, headers=api.headers()
        )
        assert small.status_code == 200
    finally:
        await close_api(api)


# --- every string argument of the schema, with generated strings ---------------------------


def _filler(type_: GraphQLInputType, text: str) -> Any:
    """A value of `type_` with `text` in every string leaf (numbers and enums plausible)."""
    if isinstance(type_, GraphQLNonNull):
        return _filler(type_.of_type, text)
    if isinstance(type_, GraphQLList):
        return [_filler(type_.of_type, text)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _filler(field.type, text)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) or _has_string(field.type)
        }
    assert isinstance(type_, GraphQLScalarType)
    return {"Int": 1, "Float": 1.0, "Boolean": True}.get(type_.name, text)


def _has_string(type_: GraphQLInputType) -> bool:
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        return any(_has_string(f.type) for f in named.fields.values())
    return isinstance(named, GraphQLScalarType) and named.name not in ("Int", "Float", "Boolean")


def _operations(api: Api) -> Iterator[tuple[str, str, dict[str, GraphQLInputType]]]:
    """(operation type, field, its arguments) of every root field taking a string."""
    schema = build_schema(api.app.state.settings)._schema
    for keyword, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        for name, field in root.fields.items():
            arguments = {a: arg.type for a, arg in field.args.items()}
            if any(_has_string(t) for t in arguments.values()):
                yield keyword, name, arguments


def _document(keyword: str, name: str, arguments: dict[str, GraphQLInputType], schema: Any) -> str:
    definitions = ", ".join(f"${a}: {t}" for a, t in arguments.items())
    passed = ", ".join(f"{a}: ${a}" for a in arguments)
    output = schema.query_type.fields.get(name) or schema.mutation_type.fields[name]
    selection = " { __typename }" if is_composite_type(get_named_type(output.type)) else ""
    return f"{keyword}({definitions}) {{ {name}({passed}){selection} }}"


ARABIC_NIK = "".join(chr(0x0660 + int(d)) for d in "3273010101900001")
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc"]), min_size=1, max_size=5),
    st.sampled_from(
        [
            "\x00",
            "a\x00",
            "\ud800",
            "x\udfff",
            "\u0661\u0662",
            "\uff11\uff10\uff10\uff10",
            ARABIC_NIK,
        ]
    ),
    st.builds(lambda n: "x" * n, st.sampled_from([121, 161, 4001, 70_000])),
    st.text(alphabet="0123456789", min_size=10, max_size=30),
)


@pytest.fixture
async def hostile_api(fresh_city_database_url: str) -> AsyncIterator[Api]:
    api = await make_api(fresh_city_database_url)
    yield api
    await close_api(api)


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=HOSTILE,
    pick=st.integers(min_value=0),
    role=st.sampled_from(["dinsos_admin", "lks_partner"]),
)
async def test_no_string_argument_yields_internal_error(
    hostile_api: Api, text: str, pick: int, role: str
) -> None:
    operations = list(_operations(hostile_api))
    assert len(operations) > 20
    keyword, name, arguments = operations[pick % len(operations)]
    schema = build_schema(hostile_api.app.state.settings)._schema
    document = _document(keyword, name, arguments, schema)
    variables = {a: _filler(t, text) for a, t in arguments.items()}
    payload = json.dumps({"query": document, "variables": variables})  # keeps surrogates escaped
    api = hostile_api.as_(role)
    response = await api.client.post(
        "/graphql",
        content=payload.encode(),
        headers={**api.headers(), "content-type": "application/json"},
    )
    assert response.status_code < 500, response.text
    body = response.json()
    assert "INTERNAL_ERROR" not in codes(body), (document, variables, body)
    assert "INTERNAL_ERROR" not in json.dumps(body.get("data")), body


async def test_a_repeated_document_checks_each_request_s_own_variables(city: Api) -> None:
    # The document's arguments are found once (cached per parsed document); the values
    # sent with each request are still checked, whatever the requests before sent.
    document = "query($p: String) { regions(parentCode: $p) { code } }"
    for _ in range(2):
        assert "errors" not in await city.query(document, {"p": "32.73.02"})
        body = await city.query(document, {"p": "32.73\x0002"})
        assert codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["argument"] == "regions(parentCode)"
