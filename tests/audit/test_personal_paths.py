"""Every personal field the policy declares, read in full by any path, reaches the trail of
the right citizens: the person for `Citizen.*`, every member for `Household.*`.

The paths are enumerated from the schema: each root that leads to records (lists, lookups,
`node`), then up to two relations between the registry's and the needs' types, ending at a
type that carries personal fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from hub.audit.subjects import SUBJECTS
from hub.authz.catalog import CONNECTED_FIELDS, PERSONAL_FIELDS
from hub.graphql.relay import from_global_id, to_global_id
from tests.audit.test_every_request import event_of
from tests.authz.reach import run
from tests.authz.test_reach_property import GRAMMAR
from tests.support.api import Api

#: Roots and the type they lead to; `{}` is filled with the arguments.
ROOTS = {
    "needs(first: 2) { nodes": "Need",
    "citizens(first: 30) { nodes": "Citizen",
    "households(first: 10) { nodes": "Household",
    "contributions(first: 2) { nodes": "Contribution",
    'citizen(nik: "{nik}")': "Citizen",
    'node(id: "{citizen}") { ... on Citizen': "Citizen",
    'node(id: "{household}") { ... on Household': "Household",
    'node(id: "{need}") { ... on Need': "Need",
}
HOPS = ("Need", "Citizen", "Household", "Contribution")


def test_every_personal_type_names_whose_trail_it_is_on() -> None:
    assert set(PERSONAL_FIELDS) == set(SUBJECTS)


def paths() -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(root, relations, personal type at the end) for every way to a personal type."""
    for root, start in ROOTS.items():
        frontier: list[tuple[tuple[str, ...], str]] = [((), start)]
        for _ in range(3):
            grown = []
            for hops, type_name in frontier:
                if type_name in PERSONAL_FIELDS:
                    yield root, hops, type_name
                if len(hops) < 2:
                    grown += [
                        ((*hops, name), target)
                        for name, target in GRAMMAR[type_name][1].items()
                        if target in HOPS
                    ]
            frontier = grown


PATHS = sorted(set(paths()))


def _walked(type_name: str) -> tuple[str, ...]:
    """The personal fields walked here: connected fields (an agency's, through a connector)
    need a live connector and are walked in tests/federation."""
    connected = CONNECTED_FIELDS.get(type_name, ())
    return tuple(name for name in PERSONAL_FIELDS[type_name] if name not in connected)


def document(root: str, hops: tuple[str, ...], type_name: str, ids: dict[str, str]) -> str:
    fields = " ".join(("id", *_walked(type_name)))
    body = fields
    for hop in reversed(hops):
        body = f"id {hop} {{ {body} }}"
    for name, value in ids.items():
        root = root.replace("{" + name + "}", value)
    closing = "}" * (root.count("{") - root.count("}"))
    return "{ " + root + " { " + body + " } " + closing + " }"


def found(value: Any, type_name: str) -> Iterator[dict[str, Any]]:
    """Objects of `type_name` carrying its personal fields, anywhere in a response."""
    if isinstance(value, dict):
        of_type = isinstance(value.get("id"), str) and from_global_id(value["id"])[0] == type_name
        if of_type and all(name in value for name in _walked(type_name)):
            yield value
        for item in value.values():
            yield from found(item, type_name)
    elif isinstance(value, list):
        for item in value:
            yield from found(item, type_name)


async def _ids(api: Api) -> dict[str, str]:
    url = str(api.app.state.settings.database_url)
    # A person with a need and a contribution, so every path reaches someone.
    row = (
        await run(
            url,
            "SELECT c.id, c.nik, c.household_id, n.id FROM citizens c "
            "JOIN needs n ON n.citizen_id = c.id "
            "JOIN contributions k ON k.citizen_id = c.id ORDER BY c.id LIMIT 1",
        )
    )[0]
    return {
        "citizen": to_global_id("Citizen", row[0]),
        "nik": row[1],
        "household": to_global_id("Household", row[2]),
        "need": to_global_id("Need", row[3]),
    }


@pytest.mark.parametrize(
    ("root", "hops", "type_name"),
    PATHS,
    ids=[f"{r.split('(')[0]}.{'.'.join(h) or '-'}->{t}" for r, h, t in PATHS],
)
async def test_a_full_read_by_any_path_is_on_the_trail(
    city: Api, root: str, hops: tuple[str, ...], type_name: str
) -> None:
    api = city.as_("dinsos_admin", purpose="VERIFICATION")
    url = str(api.app.state.settings.database_url)
    query = document(root, hops, type_name, await _ids(api))
    response = await api.post(query)
    body = response.json()
    assert "errors" not in body, (query, body)
    objects = list(found(body["data"], type_name))
    assert objects, f"{query} reached no {type_name}"
    keys = {int(from_global_id(o["id"])[1]) for o in objects}
    if type_name == "Citizen":
        subjects = keys
    else:
        rows = await run(
            url, f"SELECT id FROM citizens WHERE household_id IN ({','.join(map(str, keys))})"
        )
        subjects = {r[0] for r in rows}
    event = await event_of(api, response)
    recorded = {
        r[0]: set(r[1] if isinstance(r[1], list) else json.loads(r[1]))
        for r in await run(
            url,
            "SELECT citizen_id, fields FROM audit_event_citizens WHERE event_seq = :seq",
            seq=event["seq"],
        )
    }
    wanted = {f"{type_name}.{name}" for name in _walked(type_name)}
    missing = {cid: wanted - recorded.get(cid, set()) for cid in subjects}
    assert not any(missing.values()), (query, missing)

    # And the citizen's access report names the fields, for one of them.
    subject = min(subjects)
    nik = (await run(url, "SELECT nik FROM citizens WHERE id = :id", id=subject))[0][0]
    report = await api.as_("auditor", purpose="AUDIT").data(
        "query($nik: NIK!) { accessReport(nik: $nik, first: 5) { nodes { seq fields } } }",
        {"nik": nik},
    )
    entry = next(e for e in report["accessReport"]["nodes"] if e["seq"] == str(event["seq"]))
    assert wanted <= set(entry["fields"])
