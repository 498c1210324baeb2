"""Reference data (regions, the need taxonomy) comes from the process's copy of its rows:
no statement of the request's own, the same answer, and a row added later still found."""

from __future__ import annotations

from hub.graphql.relay import to_global_id
from tests.support.api import Api
from tests.support.partners import database_url, sql

PAGE = """{ needs(first: 30) { nodes { id category { code labelId kind }
  kelurahan { code name parent { code name } } kecamatan { code name } } } }"""


async def test_a_page_reads_no_reference_table_in_its_own_statements(city: Api) -> None:
    first = await city.data(PAGE)  # the process reads the rows once, if it had not yet
    await city.count_statements(PAGE)
    mine = [s for rid, s in city.statements if rid is not None and "audit_" not in s]
    assert mine, "the page's own statements were recorded"
    assert not [s for s in mine if "FROM regions" in s or "FROM need_categories" in s]
    assert await city.data(PAGE) == first
    nodes = first["needs"]["nodes"]
    assert all(n["kelurahan"]["parent"]["code"] == n["kecamatan"]["code"] for n in nodes)
    assert all(n["category"]["kind"] == "SERVICE_DOMAIN" for n in nodes)


async def test_a_region_added_after_the_copy_is_found(fresh_city: Api) -> None:
    await fresh_city.data(PAGE)  # the copy is made
    url = database_url(fresh_city)
    need = (await sql(url, "SELECT id, kelurahan_code FROM needs ORDER BY id LIMIT 1"))[0]
    parent = need["kelurahan_code"][:8]
    await sql(
        url,
        "INSERT INTO regions (code, level, name, parent_code) "
        "VALUES ('32.73.99.9999', 'KELURAHAN', 'Kelurahan Baru', :parent)",
        parent=parent,
    )
    await sql(
        url, "UPDATE needs SET kelurahan_code = '32.73.99.9999' WHERE id = :id", id=need["id"]
    )
    document = """query($id: ID!) { node(id: $id) { ... on Need {
      kelurahan { code name parent { code } } } } }"""
    found = await fresh_city.data(document, {"id": to_global_id("Need", need["id"])})
    assert found["node"]["kelurahan"] == {
        "code": "32.73.99.9999",
        "name": "Kelurahan Baru",
        "parent": {"code": parent},
    }
