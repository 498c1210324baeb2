"""Property: whatever a role asks, at any depth, every object it gets back is in its reach.

Hypothesis writes the queries from the schema itself: each object type offers its leaf
fields and every relation the schema gives it (`Need.citizen`, `Household.members`,
`Contribution.need`, `Citizen.household`, …), entered from each root the policy lets the
role run (lists, `citizen(nik:)`, `need(id:)`, `node(id:)`). Each object in the answer is
checked by its global id against the role's reach, written in plain SQL in
`tests.authz.reach` (not with `hub.authz.rows`). Queries stay small (pages of at most four,
three levels of relations) so 200 of them per role run in seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, get_named_type, is_leaf_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.authz.catalog import ROW_TYPES
from hub.authz.policy import load_policy, policy_dir
from hub.graphql.relay import from_global_id, to_global_id
from hub.graphql.schema import build_schema, operations_of
from hub.settings import Settings
from tests.authz.reach import reach, run, stage_foundation_history
from tests.support.api import Api, close_api, make_api

SCHEMA = build_schema(Settings())
TYPES = SCHEMA._schema.type_map
POLICY = load_policy(policy_dir(), operations_of(SCHEMA))
EXAMPLES = 200
ROLES = ("dinsos_admin", "opd_officer", "lks_partner", "auditor")
PURPOSE = {"auditor": "AUDIT"}
#: Types checked against the reach (AuditEvent is reached only by its own list, elsewhere).
CHECKED = tuple(t for t in ROW_TYPES if t != "AuditEvent")
#: Ids drawn for node(id) and need(id) go up to these: past the seeded rows is NOT_FOUND.
TOP = {"Need": 1500, "Citizen": 2100, "Household": 700, "Contribution": 400}
TOP["Organization"] = 400
#: Entry points to objects, by root field: the type each leads to and how it is called.
LISTS = {"needs": "Need", "citizens": "Citizen", "households": "Household"}
LISTS |= {"contributions": "Contribution", "organizations": "Organization"}


def _fields(type_name: str) -> tuple[list[str], dict[str, str]]:
    """Leaf fields and relations (field -> object type) that take no required argument."""
    object_type = TYPES[type_name]
    assert isinstance(object_type, GraphQLObjectType)
    leaves, relations = [], {}
    for name, definition in object_type.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in definition.args.values()):
            continue
        target = get_named_type(definition.type)
        if is_leaf_type(target):
            leaves.append(name)
        elif isinstance(target, GraphQLObjectType) and not target.name.endswith("Connection"):
            relations[name] = target.name
    return leaves, relations


GRAMMAR = {name: _fields(name) for name in TYPES if isinstance(TYPES[name], GraphQLObjectType)}


def test_the_grammar_covers_every_relation_between_row_types() -> None:
    # The relations that carry people and needs are all offered to Hypothesis.
    assert {"citizen", "household", "members", "needs", "need"} <= {
        name for type_name in CHECKED for name in GRAMMAR[type_name][1]
    }


@st.composite
def selection(draw: st.DrawFn, type_name: str, depth: int) -> str:
    """A selection set on `type_name`: `__typename`, `id`, some leaves, some relations."""
    leaves, relations = GRAMMAR[type_name]
    chosen = ["__typename"] + (["id"] if "id" in leaves else [])
    others = [f for f in leaves if f != "id"]
    if others:
        chosen += draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
    if depth > 0 and relations:
        names = draw(st.lists(st.sampled_from(sorted(relations)), max_size=2, unique=True))
        chosen += [f"{name} {draw(selection(relations[name], depth - 1))}" for name in names]
    return "{ " + " ".join(chosen) + " }"


class World:
    """A city, its hub, and how far each role reaches in it (a plain class: Hypothesis
    prints the arguments of a failing example, and this one holds the whole reach)."""

    def __init__(
        self,
        api: Api,
        loop: asyncio.AbstractEventLoop,
        reach: dict[str, set[int]],
        top: dict[str, int],
        niks: list[str],
        role: str,
    ) -> None:
        self.api, self.loop, self.reach, self.top, self.niks = api, loop, reach, top, niks
        self.role = role
        self.queries = 0
        self.objects = 0
        self.started = time.perf_counter()

    def __repr__(self) -> str:
        return f"World({self.role})"


@st.composite
def document(draw: st.DrawFn, role: str, top: dict[str, int]) -> str:
    """A small query the role may run; `{nik:N}` stands for the N-th person's NIK."""
    access = POLICY.access([role])
    roots = [r for r in (*LISTS, "citizen", "need", "node") if access.may_run(f"Query.{r}")]
    root = draw(st.sampled_from(roots))
    if root in LISTS:
        first = draw(st.integers(min_value=1, max_value=4))
        return f"{{ {root}(first: {first}) {{ nodes {draw(selection(LISTS[root], 3))} }} }}"
    if root == "citizen":
        index = draw(st.integers(min_value=0, max_value=10**6))
        return f'{{ citizen(nik: "{{nik:{index}}}") {draw(selection("Citizen", 3))} }}'
    type_name = "Need" if root == "need" else draw(st.sampled_from(CHECKED))
    key = draw(st.integers(min_value=1, max_value=top[type_name]))
    fields = draw(selection(type_name, 3))
    if root == "need":
        return f'{{ need(id: "{to_global_id("Need", key)}") {fields} }}'
    return f'{{ node(id: "{to_global_id(type_name, key)}") {{ ... on {type_name} {fields} }} }}'


def returned(value: Any) -> Iterator[tuple[str, int]]:
    """(type, id) of every object of a checked type in a response."""
    if isinstance(value, dict):
        if value.get("__typename") in CHECKED and isinstance(value.get("id"), str):
            kind, key = from_global_id(value["id"])
            yield kind, int(key)
        for item in value.values():
            yield from returned(item)
    elif isinstance(value, list):
        for item in value:
            yield from returned(item)


async def _build(url: str, role: str, loop: asyncio.AbstractEventLoop) -> World:
    api = (await make_api(url)).as_(role, purpose=PURPOSE.get(role, "SERVICE_DELIVERY"))
    lks, rival = (api.identities[w].organization_id for w in ("lks_partner", "lks_partner_b"))
    await stage_foundation_history(url, lks, rival)
    tables = {"Need": "needs", "Citizen": "citizens", "Household": "households"}
    tables |= {"Contribution": "contributions", "Organization": "organizations"}
    top = {t: (await run(url, f"SELECT max(id) FROM {table}"))[0][0] for t, table in tables.items()}
    # The drawn ids cover the seeded ones (the strategy is fixed before the city exists).
    assert all(top[t] <= TOP[t] for t in TOP), top
    niks = [row[0] for row in await run(url, "SELECT nik FROM citizens ORDER BY id")]
    org = api.identities[role].organization_id
    return World(api, loop, await reach(url, role, org), top, niks, role)


@pytest.fixture
def world(request: pytest.FixtureRequest, fresh_city_database_url: str) -> Iterator[World]:
    """A world per role, on an event loop of its own that Hypothesis' examples run on."""
    loop = asyncio.new_event_loop()
    built = loop.run_until_complete(_build(fresh_city_database_url, request.param, loop))
    yield built
    seconds = time.perf_counter() - built.started
    print(
        f"\n{built.role}: {built.queries} queries, {built.objects} objects checked, {seconds:.1f} s"
    )
    loop.run_until_complete(close_api(built.api))
    loop.close()


def _property(role: str) -> Any:
    """The property for one role, with queries drawn from what that role may run."""

    @pytest.mark.slow
    @pytest.mark.parametrize("world", [role], indirect=True)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(query=document(role, TOP))
    def check(world: World, query: str) -> None:
        if "{nik:" in query:
            index = int(query.split("{nik:")[1].split("}")[0])
            query = query.replace(f"{{nik:{index}}}", world.niks[index % len(world.niks)])
        body = world.loop.run_until_complete(world.api.query(query))
        world.queries += 1
        for error in body.get("errors", []):
            assert error["extensions"]["code"] == "NOT_FOUND", (query, error)
        for type_name, key in returned(body.get("data")):
            world.objects += 1
            assert key in world.reach[type_name], f"{world.role} got {type_name} {key}: {query}"

    return check


test_dinsos_admin_reaches_only_its_rows = _property("dinsos_admin")
test_opd_officer_reaches_only_its_rows = _property("opd_officer")
test_lks_partner_reaches_only_its_rows = _property("lks_partner")
test_auditor_reaches_only_its_rows = _property("auditor")
