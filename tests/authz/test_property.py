"""Property: whatever an LKS partner asks, it never gets the identity of someone it has not
pledged to help. Hypothesis writes the queries: entry points, nesting, fragments, purposes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.db import create_engine
from hub.graphql.relay import to_global_id
from hub.needs.models import Need, Pledge
from hub.registry.models import Citizen, Household
from tests.authz.test_delivery_details import pledge_open_need
from tests.support.api import Api, close_api, make_api

#: What each type offers to a generated query: scalar fields and relations.
GRAMMAR: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "Need": (("id", "status", "description"), {"citizen": "Citizen", "kelurahan": "Region"}),
    "Citizen": (
        ("id", "nik", "fullName", "birthDate", "age", "ageBand", "phone"),
        {"household": "Household", "needs": "Need"},
    ),
    "Household": (
        ("id", "kkNumber", "address", "rt", "rw"),
        {"members": "Citizen", "kelurahan": "Region"},
    ),
    "Contribution": (("id", "amount"), {"citizen": "Citizen", "need": "Need"}),
    "Region": (("code", "name"), {}),
}


@st.composite
def selection(draw: st.DrawFn, type_name: str, depth: int) -> str:
    """A selection set on `type_name`, nesting relations up to `depth` levels."""
    scalars, relations = GRAMMAR[type_name]
    # A copy: the drawn list belongs to Hypothesis, which replays it.
    fields = list(
        draw(st.lists(st.sampled_from(scalars), min_size=1, max_size=len(scalars), unique=True))
    )
    if depth > 0 and relations:
        for name in draw(st.lists(st.sampled_from(sorted(relations)), unique=True)):
            fields.append(f"{name} {draw(selection(relations[name], depth - 1))}")
    if draw(st.booleans()):  # the same fields again through an inline fragment
        return f"{{ ... on {type_name} {{ {' '.join(fields)} }} }}"
    return "{ " + " ".join(fields) + " }"


@dataclass(repr=False)
class World:
    """A city in which the test foundation holds one active pledge."""

    api: Api
    loop: asyncio.AbstractEventLoop
    secrets: set[str]
    niks: list[str]


@st.composite
def document(draw: st.DrawFn) -> str:
    """A whole query an LKS partner might send; `{nik:N}` stands for the N-th person's NIK."""
    entry = draw(
        st.sampled_from(["needs", "citizens", "households", "contributions", "node", "citizen"])
    )
    if entry == "node":
        type_name = draw(st.sampled_from(["Need", "Citizen", "Household"]))
        # The seed numbers rows from 1; ids past the end are simply not found.
        global_id = to_global_id(type_name, draw(st.integers(min_value=1, max_value=700)))
        fields = draw(selection(type_name, 3))
        return f'{{ node(id: "{global_id}") {{ ... on {type_name} {fields} }} }}'
    if entry == "citizen":
        index = draw(st.integers(min_value=0, max_value=1999))
        return f'{{ citizen(nik: "{{nik:{index}}}") {draw(selection("Citizen", 3))} }}'
    type_name = {"needs": "Need", "citizens": "Citizen", "households": "Household"}.get(
        entry, "Contribution"
    )
    first = draw(st.integers(min_value=1, max_value=40))
    args = f"first: {first}"
    if entry == "needs" and draw(st.booleans()):
        statuses = draw(
            st.lists(st.sampled_from(["OPEN", "PLEDGED", "FULFILLED"]), min_size=1, unique=True)
        )
        args += f", filter: {{status: [{', '.join(statuses)}]}}"
    return f"{{ {entry}({args}) {{ nodes {draw(selection(type_name, 3))} }} }}"


async def _build_world(database_url: str, loop: asyncio.AbstractEventLoop) -> World:
    api = (await make_api(database_url)).as_("lks_partner", purpose="SERVICE_DELIVERY")
    await pledge_open_need(api, expires_in=dt.timedelta(days=14))
    org = api.identity.organization_id
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        now = dt.datetime.now(dt.UTC)
        pledged = set(
            (
                await connection.execute(
                    select(Need.citizen_id)
                    .join(Pledge, Pledge.need_id == Need.id)
                    .where(
                        Pledge.organization_id == org,
                        Pledge.status == "ACTIVE",
                        Pledge.expires_at > now,
                    )
                )
            ).scalars()
        )
        people = (
            await connection.execute(
                select(Citizen.id, Citizen.nik, Citizen.full_name, Citizen.household_id)
            )
        ).all()
        homes = (await connection.execute(select(Household.id, Household.address))).all()
    await engine.dispose()
    assert pledged, "the world needs one pledged person"
    pledged_names = {p.full_name for p in people if p.id in pledged}
    pledged_homes = {p.household_id for p in people if p.id in pledged}
    secrets = {p.nik for p in people}  # a foundation never sees a NIK in full
    secrets |= {p.full_name for p in people if p.id not in pledged} - pledged_names
    secrets |= {h.address for h in homes if h.id not in pledged_homes}
    return World(
        api=api,
        loop=loop,
        secrets=secrets,
        niks=sorted(p.nik for p in people),
    )


@pytest.fixture
def world(fresh_city_database_url: str) -> Iterator[World]:
    """The world, on an event loop of its own that Hypothesis' examples run on."""
    loop = asyncio.new_event_loop()
    built = loop.run_until_complete(_build_world(fresh_city_database_url, loop))
    yield built
    loop.run_until_complete(close_api(built.api))
    loop.close()


@pytest.mark.slow
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=document(), purpose=st.sampled_from([None, "SERVICE_DELIVERY"]))
def test_lks_never_sees_identities_outside_its_pledges(
    world: World, query: str, purpose: str | None
) -> None:
    query = re.sub(r"\{nik:(\d+)\}", lambda m: world.niks[int(m.group(1)) % len(world.niks)], query)
    api = world.api.as_("lks_partner", purpose=purpose)
    body = world.loop.run_until_complete(api.query(query))
    text = json.dumps(body, ensure_ascii=False)
    leaked = [s for s in world.secrets if s and f'"{s}"' in text]
    assert leaked == [], f"{query} leaked {leaked[:3]}"
    for error in body.get("errors", []):
        assert error["extensions"]["code"] in {"NOT_FOUND", "INVALID_NIK"}, (query, error)
