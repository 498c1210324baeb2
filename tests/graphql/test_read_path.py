"""The read path's shortcuts answer exactly what the long way answers.

A to-one relation joined in its parent's statement (`hub.graphql.prefetch.Join`) gives the
same objects, masked the same, as its batch load; row rules' conditions kept per caller
still read the clock when their statement runs.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.dialects import sqlite

from hub.auth.resource import Principal
from hub.authz.policy import Access
from hub.authz.rows import row_filter
from hub.db import statement_request_id
from tests.support.api import Api

PAGE = """query($first: Int!) { needs(first: $first, filter: {status: [OPEN]}) {
  pageInfo { hasNextPage startCursor endCursor }
  nodes { id citizen { id nik fullName ageBand birthDate phone sex
                       household { id kkNumber address kelurahan { code } } } } } }"""

ONE = """query($id: ID!) { node(id: $id) { ... on Need { id citizen { id nik fullName ageBand
  birthDate phone sex household { id kkNumber address kelurahan { code } } } } } }"""

EDGES = """query($first: Int!) { needs(first: $first, filter: {status: [OPEN]}) {
  pageInfo { startCursor endCursor } edges { cursor node { id } } } }"""


@pytest.mark.parametrize("role", ["dinsos_admin", "opd_officer", "lks_partner"])
async def test_a_joined_citizen_is_the_one_its_batch_load_gives(city: Api, role: str) -> None:
    caller = city.as_(role)
    page = (await caller.data(PAGE, {"first": 12}))["needs"]
    assert page["nodes"], "the role reaches open needs"
    for need in page["nodes"]:
        # `node(id)` loads the need's person by the batch load (nothing joined there).
        alone = (await caller.data(ONE, {"id": need["id"]}))["node"]
        assert alone == need


async def test_the_page_reads_its_people_in_its_own_statement(lks_partner: Api) -> None:
    await lks_partner.count_statements(PAGE, {"first": 12})
    mine = [s for rid, s in lks_partner.statements if rid is not None and "audit_" not in s]
    starts = [" ".join(s.split())[:40] for s in mine]
    assert not [s for s in starts if s.startswith("SELECT citizens.")], starts
    assert [s for s in mine if "FROM needs LEFT OUTER JOIN" in " ".join(s.split())], mine


#: PAGE with its people asked in an inline fragment, their households in a named one (aliased).
FRAGMENTS = """fragment Person on Citizen { id nik fullName ageBand birthDate phone sex
  home: household { id kkNumber address kelurahan { code } } }
query($first: Int!) { needs(first: $first, filter: {status: [OPEN]}) {
  pageInfo { hasNextPage startCursor endCursor }
  nodes { id ... on Need { citizen { ...Person } } } } }"""


async def test_fragments_select_what_the_fields_select(lks_partner: Api) -> None:
    """The selection tree (`hub.graphql.prefetch.selection_tree`) is read from the
    document's nodes, fragments merged in: what a fragment asks for is loaded in the same
    statements as the same fields written out, and a cached tree serves the next request."""
    plain = await lks_partner.count_statements(PAGE, {"first": 12})
    for _ in range(2):  # the second request finds the trees cached
        assert await lks_partner.count_statements(FRAGMENTS, {"first": 12}) == plain
    expected = (await lks_partner.data(PAGE, {"first": 12}))["needs"]
    through = await lks_partner.data(FRAGMENTS, {"first": 12})
    got = through["needs"]
    assert got["pageInfo"] == expected["pageInfo"]
    for mine, theirs in zip(got["nodes"], expected["nodes"], strict=True):
        person = dict(theirs["citizen"])
        person["home"] = person.pop("household")
        assert mine == {"id": theirs["id"], "citizen": person}


async def test_page_info_without_edges_is_the_same_as_with_them(city: Api) -> None:
    without = (await city.data(PAGE, {"first": 7}))["needs"]["pageInfo"]
    with_edges = (await city.data(EDGES, {"first": 7}))["needs"]
    assert with_edges["pageInfo"]["startCursor"] == without["startCursor"]
    assert with_edges["pageInfo"]["endCursor"] == without["endCursor"]
    assert with_edges["edges"][-1]["cursor"] == without["endCursor"]
    after = """query($after: String) { needs(first: 3, after: $after, filter: {status: [OPEN]})
      { pageInfo { startCursor } nodes { id } } }"""
    following = (await city.data(after, {"after": without["endCursor"]}))["needs"]
    assert following["nodes"], "a next page"


def _principal(organization_id: int) -> Principal:
    return Principal(
        client_id="c",
        client_pk=1,
        organization_id=organization_id,
        organization_code=f"ORG{organization_id}",
        organization_kind="LKS",
        roles=("lks_partner",),
        token_id="t",
    )


_ACCESS = Access(
    roles=("lks_partner",),
    operations=frozenset(),
    rows={"Need": ("open_in_service_area", "pledged_by_own_organization")},
    fields={},
    purposes=frozenset(),
)


def test_a_kept_condition_reads_the_clock_when_its_statement_runs() -> None:
    condition = row_filter(_principal(7), _ACCESS, "Need")
    assert row_filter(_principal(7), _ACCESS, "Need") is condition
    assert row_filter(_principal(8), _ACCESS, "Need") is not condition
    compiled = condition.compile(dialect=sqlite.dialect())
    first = [v for v in compiled.construct_params().values() if hasattr(v, "tzinfo")]
    time.sleep(0.002)
    second = [v for v in compiled.construct_params().values() if hasattr(v, "tzinfo")]
    assert first and second and first[0] < second[0]
    other = row_filter(_principal(8), _ACCESS, "Need").compile(dialect=sqlite.dialect())
    assert 8 in other.construct_params().values()
    assert 8 not in compiled.construct_params().values()


def _isolation_of(api: Api) -> list[tuple[str | None, str | None]]:
    """(request id, isolation level) of every statement the app's sessions run from now."""
    seen: list[tuple[str | None, str | None]] = []

    def record(conn: Any, *_: Any) -> None:
        seen.append(
            (statement_request_id(conn), conn.get_execution_options().get("isolation_level"))
        )

    event.listen(api.app.state.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_a_query_runs_outside_a_transaction_on_postgresql(fresh_city: Api) -> None:
    """A read's statements skip BEGIN/ROLLBACK on PostgreSQL (`reads_outside_transaction`);
    a mutation's keep their transaction, and SQLite keeps both."""
    postgresql = fresh_city.app.state.engine.dialect.name == "postgresql"
    seen = _isolation_of(fresh_city)
    read = await fresh_city.post(PAGE, {"first": 5})
    register = """mutation { registerOrganization(input: {code: "LKS-READ", kind: LKS,
      name: "Yayasan Baca", categories: ["FOOD"], kecamatan: []})
      { organization { code } errors { code } } }"""
    write = await fresh_city.post(register)
    assert "errors" not in read.json() and "errors" not in write.json(), write.text
    by_request: dict[str | None, set[str | None]] = {}
    for request_id, level in seen:
        by_request.setdefault(request_id, set()).add(level)
    query_levels = by_request[read.headers["x-request-id"]]
    mutation_levels = by_request[write.headers["x-request-id"]]
    assert query_levels == ({"AUTOCOMMIT"} if postgresql else {None}), query_levels
    assert mutation_levels == {None}, mutation_levels
