"""Rate limits through HTTP, in memory and in the real Redis on 127.0.0.1:6379: per client
on /graphql weighted by cost, failed token requests with a growing lockout, per address on
the endpoints without a token; refusals are 429 with Retry-After, and audited."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import select

from hub.audit.models import AuditEventRecord
from hub.db import create_engine, session_factory, transaction
from hub.edge.ratelimit import SweptMemoryStorage
from hub.edge.settings import EdgeSettings
from hub.organizations import service
from tests.support.api import Api, close_api, make_api

REDIS_URL = "redis://127.0.0.1:6379/0"
#: needs 1 + nodes 1 + 10 x id = 12 per request
DOCUMENT = "{ needs(first: 10) { nodes { id } } }"


def edge(storage: str, **limits: Any) -> EdgeSettings:
    """Edge settings on `storage` ("memory" or "redis", under a prefix of this test's own);
    refusals are not held and the least charge is 1 unless a test says otherwise."""
    redis = {"redis_url": REDIS_URL} if storage == "redis" else {}
    limits = {"rate_limit_refusal_delay": 0, "rate_limit_min_cost": 1, **limits}
    return EdgeSettings(rate_limit_prefix=f"test-{uuid.uuid4().hex[:12]}", **redis, **limits)


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def reasons_of(database_url: str, **where: Any) -> list[tuple[str, str | None]]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            query = select(AuditEventRecord.decision, AuditEventRecord.reason).order_by(
                AuditEventRecord.seq
            )
            for name, value in where.items():
                query = query.where(getattr(AuditEventRecord, name) == value)
            return [(d, r) for d, r in (await session.execute(query)).all()]
    finally:
        await engine.dispose()


@pytest.fixture
async def limited(city_database_url: str, storage: str) -> AsyncIterator[Api]:
    api = await make_api(
        city_database_url, edge=edge(storage, role_rate_limits={"lks_partner": "50/minute"})
    )
    yield api
    await api.app.state.limiter.reset()
    await close_api(api)


async def test_graphql_is_limited_per_client_by_cost(limited: Api) -> None:
    foundation = limited.as_("lks_partner")
    answers = [await foundation.post(DOCUMENT) for _ in range(5)]
    # 12 a request: four fit in 50, the fifth does not.
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
    refused = answers[-1]
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == retry_after
    assert error["extensions"]["cost"] == 12
    assert "50 per 1 minute" in error["message"]
    # A cheaper document still fits in what is left (50 - 48 = 2).
    assert (await foundation.post("{ me { clientId } }")).status_code == 200
    # Another foundation has its own allowance, and agencies have their role's.
    assert (await limited.as_("lks_partner_b").post(DOCUMENT)).status_code == 200
    assert (await limited.as_("opd_officer").post(DOCUMENT)).status_code == 200
    # The refusal is in the audit trail, as a denial.
    client_id = foundation.identity.client_id
    events = await reasons_of(limited.app.state.settings.database_url, client_id=client_id)
    denied = [reason for decision, reason in events if decision == "DENIED"]
    assert any(reason and reason.startswith("RATE_LIMITED") for reason in denied), events


async def test_two_hubs_on_one_redis_share_the_limit(city_database_url: str) -> None:
    settings = edge("redis", role_rate_limits={"lks_partner": "30/minute"})
    first = await make_api(city_database_url, edge=settings)
    second = await make_api(city_database_url, edge=settings)
    try:
        one, two = first.as_("lks_partner"), second.as_("lks_partner")
        # Concurrent requests on both hubs: together they may spend 30, 12 at a time.
        answers = await asyncio.gather(*(api.post(DOCUMENT) for api in (one, two, one, two)))
        assert sorted(r.status_code for r in answers) == [200, 200, 429, 429]
        assert (await two.post(DOCUMENT)).status_code == 429
        assert (await one.post(DOCUMENT)).status_code == 429
    finally:
        await first.app.state.limiter.reset()
        await close_api(first)
        await close_api(second)


async def test_in_memory_each_hub_counts_alone(city_database_url: str) -> None:
    settings = edge("memory", role_rate_limits={"lks_partner": "30/minute"})
    first = await make_api(city_database_url, edge=settings)
    second = await make_api(city_database_url, edge=settings)
    try:
        for api in (first, second):
            statuses = [(await api.as_("lks_partner").post(DOCUMENT)).status_code for _ in range(3)]
            assert statuses == [200, 200, 429]
    finally:
        await close_api(first)
        await close_api(second)


async def _client_with_secret(api: Api) -> tuple[str, str]:
    engine = create_engine(api.app.state.settings.database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            issued = await service.create_client(
                session,
                organization_code="DINKES",
                roles=["opd_officer"],
                hasher=api.app.state.auth.hasher,
            )
    finally:
        await engine.dispose()
    assert issued.secret is not None
    return issued.client.client_id, issued.secret


def _from(api: Api, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


@pytest.mark.slow
async def test_failed_token_requests_lock_the_client_out_for_longer_and_longer(
    fresh_city_database_url: str, storage: str
) -> None:
    api = await make_api(
        fresh_city_database_url,
        edge=edge(storage, token_failure_limits_client="2/5 seconds;3/hour"),
    )
    client_id, secret = await _client_with_secret(api)
    form = {"grant_type": "client_credentials"}
    try:
        async with _from(api, "10.0.0.7") as http:
            wrong = [
                (await http.post("/oauth/token", data=form, auth=(client_id, "nope"))).status_code
                for _ in range(2)
            ]
            assert wrong == [401, 401]
            # Locked out: even the right secret is refused now, before any hash is computed.
            locked = await http.post("/oauth/token", data=form, auth=(client_id, secret))
            assert locked.status_code == 429, locked.text
            assert locked.json()["error"] == "slow_down"
            assert 1 <= int(locked.headers["retry-after"]) <= 5
            # The first tier's window passes; one more failure exhausts the hour's tier.
            await asyncio.sleep(5.2)
            assert (
                await http.post("/oauth/token", data=form, auth=(client_id, secret))
            ).status_code == 200
            again = await http.post("/oauth/token", data=form, auth=(client_id, "nope"))
            assert again.status_code == 401
            longer = await http.post("/oauth/token", data=form, auth=(client_id, secret))
            assert longer.status_code == 429
            assert int(longer.headers["retry-after"]) > 60
            # The form's client_id is counted the same as the Basic user.
            post = {**form, "client_id": client_id, "client_secret": secret}
            assert (await http.post("/oauth/token", data=post)).status_code == 429
        # Audited as token requests refused.
        events = await reasons_of(fresh_city_database_url, client_id=client_id)
        assert ("DENIED", "429 slow_down: " + locked.json()["error_description"]) in events
    finally:
        await api.app.state.limiter.reset()
        await close_api(api)


async def test_failures_from_one_address_lock_the_address(
    fresh_city_database_url: str, storage: str
) -> None:
    api = await make_api(
        fresh_city_database_url, edge=edge(storage, token_failure_limits_address="3/minute")
    )
    client_id, secret = await _client_with_secret(api)
    form = {"grant_type": "client_credentials"}
    try:
        async with _from(api, "10.0.0.8") as attacker, _from(api, "10.0.0.9") as partner:
            for guess in range(3):
                response = await attacker.post(
                    "/oauth/token", data=form, auth=(f"guess-{guess}", "x")
                )
                assert response.status_code == 401
            refused = await attacker.post("/oauth/token", data=form, auth=(client_id, secret))
            assert refused.status_code == 429
            # The client itself, from its own address, is not locked.
            fine = await partner.post("/oauth/token", data=form, auth=(client_id, secret))
            assert fine.status_code == 200
    finally:
        await api.app.state.limiter.reset()
        await close_api(api)


async def test_endpoints_without_a_token_are_limited_per_address(
    fresh_city_database_url: str, storage: str
) -> None:
    api = await make_api(
        fresh_city_database_url, edge=edge(storage, anonymous_rate_limit="3/minute")
    )
    try:
        async with _from(api, "10.0.1.1") as flood, _from(api, "10.0.1.2") as other:
            statuses = [(await flood.get("/healthz")).status_code for _ in range(3)]
            assert statuses == [200, 200, 200]
            refused = await flood.get("/.well-known/jwks.json")
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
            assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
            assert (await other.get("/readyz")).status_code == 200
            # /graphql is limited per client, not per address.
            headers = api.headers()
            graphql = await flood.post(
                "/graphql", json={"query": "{ me { clientId } }"}, headers=headers
            )
            assert graphql.status_code == 200
        events = await reasons_of(fresh_city_database_url, source_address="10.0.1.1")
        assert ("DENIED", "429 RATE_LIMITED: 3 per 1 minute per address") in events
    finally:
        await api.app.state.limiter.reset()
        await close_api(api)


async def test_every_request_is_charged_at_least_the_minimum(
    city_database_url: str, storage: str
) -> None:
    api = await make_api(
        city_database_url,
        edge=edge(
            storage,
            role_rate_limits={"lks_partner": "50/minute"},
            role_max_cost={"lks_partner": 5},
            rate_limit_min_cost=20,
        ),
    )
    try:
        foundation = api.as_("lks_partner")
        # `{ me { clientId } }` costs 2 but is charged 20: two fit in 50, the third does not.
        answers = [await foundation.post("{ me { clientId } }") for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[0].json()["extensions"]["cost"]["requested"] == 2
        assert answers[2].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "is charged 20" in answers[2].json()["errors"][0]["message"]
        # A document refused for its cost is charged the minimum too: a loop of them runs
        # out of its allowance like any other flood.
        agency = api.as_("lks_partner_b")
        over = [await agency.post(DOCUMENT) for _ in range(3)]  # costs 12, over the 5 allowed
        codes = [r.json()["errors"][0]["extensions"]["code"] for r in over]
        assert codes == ["COST_LIMIT", "COST_LIMIT", "RATE_LIMITED"]
        assert over[2].status_code == 429
    finally:
        await api.app.state.limiter.reset()
        await close_api(api)


async def test_an_exhausted_client_is_refused_before_any_graphql_work(
    city_database_url: str, storage: str
) -> None:
    api = await make_api(
        city_database_url,
        edge=edge(storage, role_rate_limits={"lks_partner": "30/minute"}, rate_limit_min_cost=10),
    )
    try:
        foundation, other = api.as_("lks_partner"), api.as_("lks_partner_b")
        client_id = foundation.identity.client_id
        database_url = api.app.state.settings.database_url
        earlier = len(await reasons_of(database_url, client_id=client_id))  # other tests'
        broken = "{ needs(first: 10) { nodes { id } "  # a syntax error
        # Not refused yet: a broken document gets its parse error, like any client's.
        first = await foundation.post(broken)
        assert first.json()["errors"][0]["extensions"]["code"] != "RATE_LIMITED", first.text
        assert [(await foundation.post(DOCUMENT)).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        # Refused once, with 6 left, less than the least charge (10): the next requests are
        # refused without being parsed (a broken document gets the same 429, not its
        # syntax error), charged nothing.
        early = [await foundation.post(broken) for _ in range(3)]
        for refused in early:
            assert refused.status_code == 429, refused.text
            error = refused.json()["errors"][0]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["extensions"]["limit"] == "30 per 1 minute"
            assert int(refused.headers["retry-after"]) == error["extensions"]["retryAfter"] >= 1
            assert "has spent its rate limit" in error["message"]
        # Another client of the same role is untouched, its broken document parsed.
        theirs = await other.post(broken)
        assert theirs.json()["errors"][0]["extensions"]["code"] != "RATE_LIMITED"
        # Every refusal is on the trail, the early ones as well as the operation's own.
        events = (await reasons_of(database_url, client_id=client_id))[earlier:]
        limited = [r for d, r in events if d == "DENIED" and r and "RATE_LIMITED" in r]
        assert len(limited) == 4, events
        assert sum(r.startswith("429 RATE_LIMITED: Client ") for r in limited) == 3, limited
    finally:
        await api.app.state.limiter.reset()
        await close_api(api)


#: A refusal delay well above a request's time on a loaded machine.
DELAY = 1.0


async def test_refusals_are_held_for_the_refusal_delay(
    fresh_city_database_url: str, storage: str
) -> None:
    api = await make_api(
        fresh_city_database_url,
        edge=edge(
            storage,
            role_rate_limits={"lks_partner": "14/minute"},
            token_failure_limits_client="1/minute",
            rate_limit_refusal_delay=DELAY,
        ),
    )
    try:
        foundation = api.as_("lks_partner")
        assert (await foundation.post("{ me { clientId } }")).status_code == 200  # warm, 2
        started = time.perf_counter()
        assert (await foundation.post(DOCUMENT)).status_code == 200  # 12: 14 spent
        assert time.perf_counter() - started < DELAY  # an answer within the limit is not held
        for _ in range(2):  # the operation's refusal, then the early one
            started = time.perf_counter()
            refused = await foundation.post(DOCUMENT)
            assert refused.status_code == 429
            assert time.perf_counter() - started >= DELAY
        # A locked-out token request is held too.
        client_id, _ = await _client_with_secret(api)
        form = {"grant_type": "client_credentials"}
        async with _from(api, "10.0.2.1") as http:
            assert (
                await http.post("/oauth/token", data=form, auth=(client_id, "nope"))
            ).status_code == 401
            started = time.perf_counter()
            locked = await http.post("/oauth/token", data=form, auth=(client_id, "nope"))
            assert locked.status_code == 429
            assert time.perf_counter() - started >= DELAY
    finally:
        await api.app.state.limiter.reset()
        await close_api(api)


async def test_a_client_runs_a_few_requests_at_once_and_the_rest_wait(
    city_database_url: str, storage: str
) -> None:
    api = await make_api(
        city_database_url, edge=edge(storage, client_max_in_flight=1, client_max_waiting=2)
    )
    try:
        foundation, other = api.as_("lks_partner"), api.as_("lks_partner_b")
        client_id = foundation.identity.client_id
        database_url = api.app.state.settings.database_url
        earlier = len(await reasons_of(database_url, client_id=client_id))  # other tests'
        # One runs, two wait their turn (and are answered), the fourth is refused at once;
        # another client's request is not held up behind them.
        answers = await asyncio.gather(
            *(foundation.post(DOCUMENT) for _ in range(4)), other.post(DOCUMENT)
        )
        assert [r.status_code for r in answers] == [200, 200, 200, 429, 200]
        error = answers[3].json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert "requests in flight or waiting" in error["message"]
        assert answers[3].headers["retry-after"] == "1"
        # Once they are done the client has its slots again.
        assert (await foundation.post(DOCUMENT)).status_code == 200
        assert not api.app.state.limiter._refused_at  # no rate limit was involved
        events = (await reasons_of(database_url, client_id=client_id))[earlier:]
        assert sum("requests in flight" in (r or "") for _, r in events) == 1, events
    finally:
        await api.app.state.limiter.reset()
        await close_api(api)


async def test_the_memory_storage_sweeps_at_most_once_a_second() -> None:
    """`limits` would start a sweep of every key after every hit; ours sweeps once a
    second, and expired entries still never count."""
    storage = SweptMemoryStorage()
    strategy = MovingWindowRateLimiter(storage)
    limit = parse("2/second")
    sweeps: list[Any] = []  # the sweep tasks themselves (kept, so no id is reused)
    for _ in range(50):
        await strategy.hit(limit, "many")
        if storage.timer not in sweeps:
            sweeps.append(storage.timer)
        for _ in range(3):  # the event loop runs the sweep between requests
            await asyncio.sleep(0)
    assert len(sweeps) == 1, f"{len(sweeps)} sweeps for fifty hits within a second"
    assert await strategy.hit(limit, "client")
    assert await strategy.hit(limit, "client")
    assert not await strategy.hit(limit, "client"), "the third within the second is refused"
    await asyncio.sleep(1.1)
    assert await strategy.hit(limit, "client"), "expired entries no longer count"
    assert storage.timer is not None
    await storage.timer  # the second's sweep, started by that hit
    assert "many" not in str(list(storage.events)), "the sweep freed the expired keys"
