"""A person loaded with the "pledged by the caller" column is masked as one the masking
query decides for: the two ways to the same person give the same fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.graphql.relay import to_global_id
from tests.authz.test_delivery_details import pledge_open_need
from tests.support.api import Api

FIELDS = "id nik fullName birthDate age phone ageBand"
#: Need.citizen: the citizens loader, whose statement carries the column.
THROUGH_NEED = f"query($id: ID!) {{ node(id: $id) {{ ... on Need {{ citizen {{ {FIELDS} }} }} }} }}"
#: node(Citizen): the node lookup, for which the masking asks its own query.
DIRECT = f"query($id: ID!) {{ node(id: $id) {{ ... on Citizen {{ {FIELDS} }} }} }}"


async def _both_ways(api: Api, need_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    through = (await api.data(THROUGH_NEED, {"id": need_id}))["node"]
    citizen = through["citizen"]
    direct = (await api.data(DIRECT, {"id": citizen["id"]}))["node"]
    return citizen, direct


async def test_pledged_and_unpledged_people_read_alike_both_ways(fresh_city: Api) -> None:
    holder = fresh_city.as_("lks_partner", purpose="SERVICE_DELIVERY")
    pledged_need = to_global_id(
        "Need", await pledge_open_need(holder, expires_in=dt.timedelta(days=14))
    )
    feed = await holder.data(
        "{ needs(first: 20, filter: {status: [OPEN]}) { nodes { id citizen { id } } } }"
    )
    open_need = feed["needs"]["nodes"][0]["id"]

    through, direct = await _both_ways(holder, pledged_need)
    assert through == direct
    assert through["fullName"] and not through["fullName"].endswith(".")  # in full

    through, direct = await _both_ways(holder, open_need)
    assert through == direct
    assert through["fullName"].endswith(".") and through["phone"] is None  # masked

    # Without a purpose nothing is elevated, either way.
    silent = holder.as_("lks_partner", purpose=None)
    through, direct = await _both_ways(silent, pledged_need)
    assert through == direct and through["fullName"].endswith(".")


async def test_a_page_of_people_needs_no_masking_query_of_its_own(fresh_city: Api) -> None:
    holder = fresh_city.as_("lks_partner", purpose="SERVICE_DELIVERY")
    await pledge_open_need(holder, expires_in=dt.timedelta(days=14))
    document = "{ needs(first: 20) { nodes { id citizen { nik fullName phone } } } }"
    await holder.count_statements(document)
    ran = [statement for _, statement in holder.statements if "audit_" not in statement]
    assert any("pledged_by_caller" in statement for statement in ran)
    separate = [s for s in ran if s.lstrip().startswith("SELECT DISTINCT citizens.id")]
    assert not separate, separate
