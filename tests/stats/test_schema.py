"""`stats`: the city's public totals, for every role, adding up, and naming no one."""

from __future__ import annotations

import datetime as dt

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLType

from hub.graphql.schema import build_schema
from hub.localtime import local_date
from hub.settings import Settings
from hub.stats.queries import PARTNER_FUNDING_POTENTIAL
from tests.support import documents as doc
from tests.support.api import Api
from tests.support.partners import database_url, sql

#: Types that carry, or lead to, a person.
PERSONAL_TYPES = {"Citizen", "Household", "Need", "Contribution", "Enrolment", "AuditEvent"}


def _named(graphql_type: GraphQLType) -> GraphQLType:
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        graphql_type = graphql_type.of_type
    return graphql_type


def test_no_person_is_reachable_from_the_stats() -> None:
    schema = build_schema(Settings())._schema
    seen: set[str] = set()
    queue: list[GraphQLType] = [_named(schema.query_type.fields["stats"].type)]  # type: ignore[union-attr]
    while queue:
        current = queue.pop()
        if not isinstance(current, GraphQLObjectType) or current.name in seen:
            continue
        seen.add(current.name)
        queue.extend(_named(f.type) for f in current.fields.values())
    assert "CityStats" in seen and "Organization" in seen
    assert not seen & PERSONAL_TYPES, seen & PERSONAL_TYPES


async def test_the_totals_add_up_for_every_role(city: Api) -> None:
    url = database_url(city)
    counts = {
        row["status"]: row["n"]
        for row in await sql(url, "SELECT status, count(*) AS n FROM needs GROUP BY status")
    }
    today = local_date(dt.datetime.now(dt.UTC)).isoformat()
    given = await sql(
        url,
        "SELECT coalesce(sum(c.amount_rupiah), 0) AS total FROM contributions c JOIN "
        "organizations o ON o.id = c.organization_id WHERE o.kind = 'LKS'",
    )
    answers = []
    for role in ("lks_partner", "opd_officer", "auditor", "dinsos_admin"):
        body = await city.as_(role, purpose=None).query(doc.STATS)
        assert "errors" not in body, (role, body)
        answers.append(body["data"]["stats"])
    stats = answers[0]
    assert all(a["needs"] == stats["needs"] for a in answers)
    assert sum(c["open"] for c in stats["needs"]) == counts.get("OPEN", 0)
    assert sum(c["pledged"] for c in stats["needs"]) == counts.get("PLEDGED", 0)
    assert sum(c["fulfilled"] for c in stats["needs"]) == counts.get("FULFILLED", 0)
    assert all(c["kecamatan"]["name"] and c["category"]["code"] for c in stats["needs"])
    assert stats["fulfilment"]["fulfilledNeeds"] == counts.get("FULFILLED", 0)
    assert stats["fulfilment"]["medianDays"] > 0
    assert all(c["month"] <= today[:7] for c in stats["contributions"])
    funding = stats["partnerFunding"]
    assert funding["totalRupiah"] == int(given[0]["total"]) > 0
    assert funding["potentialRupiah"] == PARTNER_FUNDING_POTENTIAL
    assert funding["share"] == funding["totalRupiah"] / PARTNER_FUNDING_POTENTIAL
    assert funding["byMonth"][-1]["runningTotalRupiah"] == funding["totalRupiah"]
    lks_total = sum(
        c["amountRupiah"] for c in stats["contributions"] if c["organization"]["kind"] == "LKS"
    )
    assert lks_total == funding["totalRupiah"]


async def test_the_stats_cost_a_fixed_number_of_statements(auditor: Api) -> None:
    # The names of kecamatan, categories and organisations come a list at a time.
    statements = await auditor.count_statements(doc.STATS)
    assert statements <= 12, statements
