"""`_entities` answers exactly what `node(id)` answers: the same rows, masks and audit."""

from __future__ import annotations

import uuid
from typing import Any

from hub.graphql.relay import from_global_id
from tests.federation.audit import event_of
from tests.support.api import Api

FIELDS = "id nik fullName birthDate age ageBand phone household { kkNumber address rt rw }"
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Citizen {{ {FIELDS} }} }} }}"
ENTITIES = f"""query($r: [_Any!]!) {{ _entities(representations: $r) {{
  ... on Citizen {{ {FIELDS} }} ... on Need {{ id status }} ... on Region {{ id code }} }} }}"""


def _ref(citizen_id: str) -> dict[str, str]:
    return {"__typename": "Citizen", "id": citizen_id}


async def _with_id(
    api: Api, document: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    request_id = f"fed-{uuid.uuid4().hex}"
    body = await api.query(document, variables, **{"x-request-id": request_id})
    return body, request_id


async def _visible_and_hidden(api: Api) -> tuple[str, str]:
    """A citizen the test foundation reaches, and one it does not."""
    lks = api.as_("lks_partner")
    needs = await lks.data(
        "{ needs(first: 5, filter: {status: [OPEN]}) { nodes { citizen { id } } } }"
    )
    visible = needs["needs"]["nodes"][0]["citizen"]["id"]
    everyone = await api.as_("dinsos_admin").data("{ citizens(first: 100) { nodes { id } } }")
    for node in everyone["citizens"]["nodes"]:
        body = await lks.query(NODE, {"id": node["id"]})
        if body.get("errors"):
            return visible, node["id"]
    raise AssertionError("every citizen is visible to the test foundation")


async def test_service_sdl_is_the_committed_subgraph(city: Api) -> None:
    from tests.test_contract import SUBGRAPH_FILE

    for who in ("dinsos_admin", "lks_partner", "auditor"):
        sdl = (await city.as_(who, purpose=None).data("{ _service { sdl } }"))["_service"]["sdl"]
        assert sdl + "\n" == SUBGRAPH_FILE.read_text()


async def test_entities_refuse_what_node_refuses_and_mask_the_same(fresh_city: Api) -> None:
    visible, hidden = await _visible_and_hidden(fresh_city)
    lks = fresh_city.as_("lks_partner")
    url = str(fresh_city.app.state.settings.database_url)

    node_hidden, node_hidden_id = await _with_id(lks, NODE, {"id": hidden})
    entity_hidden, entity_hidden_id = await _with_id(lks, ENTITIES, {"r": [_ref(hidden)]})
    assert node_hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND", entity_hidden
    assert entity_hidden["data"] == {"_entities": [None]}, entity_hidden
    assert entity_hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert entity_hidden["errors"][0]["path"] == ["_entities", 0]

    node_seen, node_seen_id = await _with_id(lks, NODE, {"id": visible})
    entity_seen, entity_seen_id = await _with_id(lks, ENTITIES, {"r": [_ref(visible)]})
    person = node_seen["data"]["node"]
    assert entity_seen["data"]["_entities"] == [person]
    assert person["nik"].count("*") == 8 and person["birthDate"] is None  # masked, as node
    assert person["household"]["kkNumber"].count("*") == 8

    # The same audit event: decision, purpose and the citizens' fields shown in full.
    for node_id, entity_id in ((node_hidden_id, entity_hidden_id), (node_seen_id, entity_seen_id)):
        assert await event_of(url, node_id) == await event_of(url, entity_id)

    # An agency sees everything in full, and the audit records the same reads either way.
    opd = fresh_city.as_("opd_officer", purpose="ELIGIBILITY_CHECK")
    node_full, node_full_id = await _with_id(opd, NODE, {"id": hidden})
    entity_full, entity_full_id = await _with_id(opd, ENTITIES, {"r": [_ref(hidden)]})
    assert entity_full["data"]["_entities"] == [node_full["data"]["node"]]
    node_event = await event_of(url, node_full_id)
    person = int(from_global_id(hidden)[1])
    shown = {"Citizen.age", "Citizen.birthDate", "Citizen.fullName", "Citizen.nik", "Citizen.phone"}
    assert shown <= set(node_event.citizens[person])
    assert await event_of(url, entity_full_id) == node_event


async def test_entities_by_nik_and_the_purpose_check(city: Api) -> None:
    opd = city.as_("opd_officer", purpose="SERVICE_DELIVERY")
    people = (await opd.data("{ citizens(first: 3) { nodes { id nik } } }"))["citizens"]["nodes"]
    refs = [{"__typename": "Citizen", "nik": p["nik"]} for p in people]
    found = (await opd.data(ENTITIES, {"r": refs}))["_entities"]
    assert [f["id"] for f in found] == [p["id"] for p in people]

    refused = await opd.as_("opd_officer", purpose=None).query(ENTITIES, {"r": refs})
    assert refused["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert refused["data"] is None


async def test_bad_references_are_coded(city: Api) -> None:
    body = await city.query(
        ENTITIES,
        {
            "r": [
                {"__typename": "Citizen", "id": "not-an-id"},
                {"__typename": "Citizen", "nik": "123"},
                {"__typename": "Citizen", "name": "x"},
            ]
        },
    )
    codes = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert codes == {
        ("_entities", 0): "INVALID_ID",
        ("_entities", 1): "INVALID_NIK",
        ("_entities", 2): "INVALID_REFERENCE",
    }

    region = (await city.data("{ regions(level: CITY) { id } }"))["regions"][0]["id"]
    body = await city.query(
        ENTITIES,
        {
            "r": [
                "x",
                {"__typename": "Nope", "id": "1"},
                {"id": region},
                {"__typename": "Region", "id": region},
            ]
        },
    )
    codes = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert codes == {
        ("_entities", 0): "INVALID_REFERENCE",
        ("_entities", 1): "INVALID_REFERENCE",
        ("_entities", 2): "INVALID_REFERENCE",
    }
    assert body["data"]["_entities"][3] == {"id": region, "code": "32.73"}


async def test_entities_are_batched_one_statement_per_type(city: Api) -> None:
    opd = city.as_("opd_officer")
    people = (await opd.data("{ citizens(first: 40) { nodes { id } } }"))["citizens"]["nodes"]
    regions = (await opd.data("{ regions(level: KECAMATAN) { id } }"))["regions"]

    def refs(n: int) -> list[dict[str, str]]:
        return [_ref(p["id"]) for p in people[:n]] + [
            {"__typename": "Region", "id": r["id"]} for r in regions[:n]
        ]

    one = await opd.count_statements(ENTITIES, {"r": refs(1)})
    many = await opd.count_statements(ENTITIES, {"r": refs(30)})
    assert one == many
