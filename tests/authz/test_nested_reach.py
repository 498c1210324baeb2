"""Row rules hold at every depth: a foundation's nested lists and relations stay in its reach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hub.graphql.relay import from_global_id, to_global_id
from tests.authz.reach import reach, run, stage_foundation_history
from tests.support.api import Api

MEMBERS = """{ households(first: 100) { nodes { id members {
  id sex relationship ageBand education occupation hasDisability hasChronicIllness
  enrolments { program { code } } } } } }"""
NEED = """query($id: ID!) { node(id: $id) { ... on Need { id status description
  holder { code } history { toStatus } citizen { id } } } }"""


def ids_of(value: Any, type_name: str) -> Iterator[int]:
    """Every id of `type_name` anywhere in a response."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            kind, key = from_global_id(value["id"])
            if kind == type_name:
                yield int(key)
        for item in value.values():
            yield from ids_of(item, type_name)
    elif isinstance(value, list):
        for item in value:
            yield from ids_of(item, type_name)


async def test_a_foundation_sees_no_household_member_outside_its_reach(fresh_city: Api) -> None:
    lks = fresh_city.as_("lks_partner")
    url = str(fresh_city.app.state.settings.database_url)
    data = await lks.data(MEMBERS)
    households = data["households"]["nodes"]
    assert households
    reachable = (await reach(url, "lks_partner", lks.identity.organization_id))["Citizen"]
    shown = set(ids_of(households, "Citizen"))
    assert shown and shown <= reachable
    # The filter matters: these families have members the foundation may not see.
    family_ids = [int(from_global_id(h["id"])[1]) for h in households]
    everyone = {
        row[0]
        for row in await run(
            url,
            f"SELECT id FROM citizens WHERE household_id IN ({','.join(map(str, family_ids))})",
        )
    }
    assert everyone - shown, "every member was reachable: the test proves nothing"


async def test_a_need_the_foundation_lost_is_gone_everywhere(fresh_city: Api) -> None:
    lks = fresh_city.as_("lks_partner")
    url = str(fresh_city.app.state.settings.database_url)
    rival = fresh_city.as_("lks_partner_b").identity.organization_id
    needs = await stage_foundation_history(url, lks.identity.organization_id, rival)

    lost = await lks.query(NEED, {"id": to_global_id("Need", needs["lost"])})
    assert (lost["data"] or {}).get("node") is None
    assert lost["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for kind in ("held", "fulfilled"):
        seen = (await lks.data(NEED, {"id": to_global_id("Need", needs[kind])}))["node"]
        assert seen["description"] and seen["history"]

    # Nor does it come back through the person, a list, or the rival's holding.
    person = (await run(url, "SELECT citizen_id FROM needs WHERE id = :id", id=needs["lost"]))[0][0]
    everywhere = await lks.query(
        """query($c: ID!) { node(id: $c) { ... on Citizen { needs { id } } }
           needs(first: 100, filter: {status: [PLEDGED]}) { nodes { id } } }""",
        {"c": to_global_id("Citizen", person)},
    )
    assert needs["lost"] not in set(ids_of(everywhere["data"], "Need"))
    # The person may be out of reach altogether (no other need of theirs is visible).
    assert {e["extensions"]["code"] for e in everywhere.get("errors", [])} <= {"NOT_FOUND"}
    # The rival that holds it now does see it.
    rival_view = await fresh_city.as_("lks_partner_b").data(
        NEED, {"id": to_global_id("Need", needs["lost"])}
    )
    assert rival_view["node"]["status"] == "PLEDGED"
