"""The needs list: nested data, filters, orders, and a constant number of SQL statements."""

from __future__ import annotations

from tests.support.api import Api

NEEDS_PAGE = """
query Page($first: Int!, $after: String, $filter: NeedFilter, $order: NeedOrder! = URGENT) {
  needs(first: $first, after: $after, filter: $filter, orderBy: $order) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id status severity reportedAt waitingDays description
        category { code labelId labelEn kind }
        ppksType { code }
        kelurahan { code name parent { code } }
        kecamatan { code name }
        citizen { nik fullName age sex household { kkNumber address rt rw welfareDecile
                  kelurahan { code name } kecamatan { code name } } }
        reportedBy { code kind }
        history { fromStatus toStatus changedAt }
      }
    }
  }
}
"""

SEVERITY_RANK = {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


async def test_a_page_of_needs_resolves_nested_citizen_household_and_regions(city: Api) -> None:
    data = await city.data(NEEDS_PAGE, {"first": 20})
    nodes = [edge["node"] for edge in data["needs"]["edges"]]
    assert len(nodes) == 20
    for need in nodes:
        household = need["citizen"]["household"]
        assert household["kelurahan"]["code"] == need["kelurahan"]["code"] or need["status"]
        assert need["kelurahan"]["parent"]["code"] == need["kecamatan"]["code"]
        assert need["kecamatan"]["code"] == need["kelurahan"]["code"][:8]
        assert len(need["citizen"]["nik"]) == 16
        assert need["category"]["kind"] == "SERVICE_DOMAIN"
        assert need["history"][0]["fromStatus"] is None
        assert need["history"][-1]["toStatus"] == need["status"]


async def test_statement_count_does_not_grow_with_page_size(city: Api) -> None:
    small = await city.count_statements(NEEDS_PAGE, {"first": 5})
    audit_small = city.audit_statements
    large = await city.count_statements(NEEDS_PAGE, {"first": 50})
    assert large == small
    assert city.audit_statements == audit_small > 0  # the event, its citizens, the head
    # page + category + ppks + kelurahan + parent + kecamatan + citizen + household
    # + household regions + reportedBy + history, each once.
    assert small <= 14


async def test_statement_count_leaves_out_the_process_background_reads(city: Api) -> None:
    # The policy version check and the client standing cache fall due whenever their
    # clocks say; when they do, inside a counted request, they are not the page's cost.
    steady = await city.count_statements(NEEDS_PAGE, {"first": 5})
    policies, statuses = city.app.state.policies, city.app.state.auth.statuses
    check_every, ttl = policies.check_every, statuses.ttl
    policies.check_every = statuses.ttl = 0  # both fall due on every request
    try:
        assert await city.count_statements(NEEDS_PAGE, {"first": 5}) == steady
    finally:
        policies.check_every, statuses.ttl = check_every, ttl
    background = [s for rid, s in city.statements if rid is None and "audit_" not in s]
    assert background, "the checks ran during the counted request"


async def test_urgent_order_is_by_severity_then_waiting_time(city: Api) -> None:
    data = await city.data(NEEDS_PAGE, {"first": 100})
    keys = [
        (-SEVERITY_RANK[e["node"]["severity"]], e["node"]["reportedAt"])
        for e in data["needs"]["edges"]
    ]
    assert keys == sorted(keys)


async def test_paging_through_a_filtered_list_visits_each_need_once(city: Api) -> None:
    query = """query($after: String) {
      needs(first: 7, after: $after, filter: {status: [OPEN, PLEDGED]}, orderBy: NEWEST) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id status kecamatan { code } }
      }
    }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await city.data(query, {"after": after}))["needs"]
        for node in page["nodes"]:
            assert node["status"] in ("OPEN", "PLEDGED")
            seen.append(node["id"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert len(seen) > 7, "the seed should give more than one page"


async def test_filters_by_severity_and_category(city: Api) -> None:
    data = await city.data(
        """{ needs(first: 100, filter: {minSeverity: HIGH, category: ["FOOD", "HEALTH"]}) {
              nodes { severity category { code } } } }"""
    )
    nodes = data["needs"]["nodes"]
    assert nodes
    assert {n["severity"] for n in nodes} <= {"HIGH", "CRITICAL"}
    assert {n["category"]["code"] for n in nodes} <= {"FOOD", "HEALTH"}


async def test_bad_region_code_says_what_is_accepted(city: Api) -> None:
    body = await city.query('{ needs(filter: {kecamatan: ["Coblong"]}) { totalCount } }')
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_REGION_CODE"
    assert "32.73.02" in error["message"]


async def test_page_size_is_bounded(city: Api) -> None:
    body = await city.query("{ needs(first: 5000) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_PAGE_SIZE"
    assert "between 1 and 100" in body["errors"][0]["message"]


async def test_a_forged_cursor_is_refused(city: Api) -> None:
    body = await city.query('{ needs(after: "bm90LWEtY3Vyc29y") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
