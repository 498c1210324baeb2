"""Citizens and households: lookups by NIK and id, members, filters."""

from __future__ import annotations

from tests.support.api import Api


async def first_citizen(api: Api) -> dict[str, str]:
    data = await api.data("{ citizens(first: 1) { nodes { id nik fullName } } }")
    node: dict[str, str] = data["citizens"]["nodes"][0]
    return node


async def test_citizen_by_nik_with_household_members_and_enrolments(city: Api) -> None:
    citizen = await first_citizen(city)
    data = await city.data(
        """query($nik: NIK!) { citizen(nik: $nik) {
             id nik fullName birthDate age sex relationship
             household { kkNumber members { nik relationship } }
             enrolments { startedOn active program { code agency { code } category { code } } }
             needs { status }
        } }""",
        {"nik": citizen["nik"]},
    )
    found = data["citizen"]
    assert found["id"] == citizen["id"]
    members = found["household"]["members"]
    assert citizen["nik"] in {m["nik"] for m in members}
    assert members[0]["relationship"] == "HEAD"


async def test_unknown_nik_is_null_and_malformed_nik_is_explained(city: Api) -> None:
    data = await city.data('{ citizen(nik: "3273010101010001") { id } }')
    assert data["citizen"] is None
    body = await city.query('{ citizen(nik: "12345") { id } }')
    assert "16 digits" in body["errors"][0]["message"]
    body = await city.query('{ citizen(nik: "3273019913010001") { id } }')
    assert "birth date DDMMYY" in body["errors"][0]["message"]


async def test_node_fetches_each_type_by_global_id(city: Api) -> None:
    data = await city.data(
        """{ citizens(first: 1) { nodes { id household { id } } }
             needs(first: 1) { nodes { id } }
             organizations(first: 1) { nodes { id } }
             contributions(first: 1) { nodes { id } }
             regions(level: KELURAHAN) { id } }"""
    )
    ids = {
        "Citizen": data["citizens"]["nodes"][0]["id"],
        "Household": data["citizens"]["nodes"][0]["household"]["id"],
        "Need": data["needs"]["nodes"][0]["id"],
        "Organization": data["organizations"]["nodes"][0]["id"],
        "Contribution": data["contributions"]["nodes"][0]["id"],
        "Region": data["regions"][0]["id"],
    }
    for type_name, global_id in ids.items():
        node = (
            await city.data(
                "query($id: ID!) { node(id: $id) { __typename id } }", {"id": global_id}
            )
        )["node"]
        assert node == {"__typename": type_name, "id": global_id}


async def test_node_with_unknown_or_wrong_id_is_not_found(city: Api) -> None:
    citizen = await first_citizen(city)
    body = await city.query("query($id: ID!) { need(id: $id) { id } }", {"id": citizen["id"]})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await city.query('{ node(id: "TmVlZDo5OTk5OTk5") { id } }')  # Need:9999999
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await city.query('{ node(id: "garbage!") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ID"


async def test_household_filter_by_decile_and_kelurahan(city: Api) -> None:
    data = await city.data(
        """{ households(first: 100, filter: {maxWelfareDecile: 3}) {
              nodes { welfareDecile kelurahan { code } members { nik } } } }"""
    )
    nodes = data["households"]["nodes"]
    assert nodes and all(n["welfareDecile"] <= 3 for n in nodes)
    assert all(n["members"] for n in nodes)
    kelurahan = nodes[0]["kelurahan"]["code"]
    data = await city.data(
        "query($k: [String!]) { citizens(first: 100, filter: {kelurahan: $k}) { totalCount"
        " nodes { household { kelurahan { code } } } } }",
        {"k": [kelurahan]},
    )
    assert {n["household"]["kelurahan"]["code"] for n in data["citizens"]["nodes"]} == {kelurahan}
    body = await city.query("{ households(filter: {minWelfareDecile: 0}) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_DECILE"
