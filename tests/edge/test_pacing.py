"""Pacing (hub.edge.pacing): a client's requests start no faster than its rate after a
burst, each client on its own schedule; through HTTP, a burst beyond it is slowed, not
refused."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from pydantic import ValidationError

from hub.edge.pacing import Pacer
from hub.edge.settings import EdgeSettings
from tests.support.api import close_api, make_api


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_starts_at_once_and_the_rest_at_the_rate() -> None:
    clock = Clock()
    pacer = Pacer(burst=3, clock=clock)
    waits = [round(pacer.reserve("flood", 10), 3) for _ in range(6)]
    # Three at once, then one every 0.1 s.
    assert waits == [0, 0, 0, 0.1, 0.2, 0.3]
    # Another client is on its own schedule.
    assert pacer.reserve("victim", 10) == 0


def test_a_client_keeping_to_its_rate_never_waits() -> None:
    clock = Clock()
    pacer = Pacer(burst=1, clock=clock)
    for _ in range(20):
        assert pacer.reserve("steady", 10) == 0
        clock.now += 0.1
    # Idle for a while, then a burst: the idle time is not saved up beyond the burst.
    clock.now += 60
    assert [round(pacer.reserve("steady", 10), 3) for _ in range(3)] == [0, 0.1, 0.2]


def test_lapsed_schedules_are_forgotten() -> None:
    clock = Clock()
    pacer = Pacer(burst=1, clock=clock)
    for n in range(2048):
        pacer.reserve(f"client-{n}", 1000)
        clock.now += 1  # each client's next start is long past by the next sweep
    assert len(pacer._next) < 1100


async def _bursts(
    database_url: str, settings: EdgeSettings, *bursts: tuple[str, int]
) -> list[tuple[list[int], float]]:
    """For each (test client, n): n `{ me }` at once through HTTP, their statuses and the
    seconds until the last answer."""
    api = await make_api(database_url, edge=settings)
    results = []
    try:
        for who, n in bursts:
            caller = api.as_(who)
            started = time.monotonic()
            answers = await asyncio.gather(*(caller.post("{ me { clientId } }") for _ in range(n)))
            elapsed = time.monotonic() - started
            results.append(([answer.status_code for answer in answers], elapsed))
    finally:
        await api.app.state.limiter.reset()
        await close_api(api)
    return results


async def test_a_burst_over_http_is_spread_not_refused(city_database_url: str) -> None:
    settings = EdgeSettings(
        rate_limit_prefix=f"test-{uuid.uuid4().hex[:12]}",
        client_rate=20,
        client_burst=3,
        client_max_in_flight=16,
    )
    [(statuses, elapsed)] = await _bursts(city_database_url, settings, ("lks_partner", 15))
    assert statuses == [200] * 15
    # Three at once, then twelve more at 20 a second: the last starts 0.6 s after the first
    # (unpaced, the fifteen take a few tens of milliseconds).
    assert elapsed >= 0.6


def test_a_rate_sets_both_the_interval_and_the_bursts_tolerance() -> None:
    clock = Clock()
    pacer = Pacer(burst=2, clock=clock)
    waits = [round(pacer.reserve("foundation", 4), 3) for _ in range(4)]
    assert waits == [0, 0, 0.25, 0.5]


def test_a_request_past_the_longest_pause_goes_on_unreserved() -> None:
    clock = Clock()
    pacer = Pacer(burst=1, clock=clock)
    assert [pacer.reserve("slow", 1) for _ in range(3)] == [0, 1, 2]
    # The fourth would wait 3 s: it is not held (the rate limit judges it), and the
    # schedule is as it was.
    assert pacer.reserve("slow", 1) == 0
    clock.now += 1
    assert pacer.reserve("slow", 1) == 2


def test_the_rate_is_a_number_or_the_allowance() -> None:
    assert EdgeSettings(client_rate="allowance").client_rate == "allowance"
    assert EdgeSettings(client_rate="17.5").client_rate == 17.5
    for wrong in ("fast", "-1", "1e9"):
        with pytest.raises(ValidationError, match="accepted: a number of requests a second"):
            EdgeSettings(client_rate=wrong)


async def test_the_allowance_paces_each_client_at_its_roles_limit(city_database_url: str) -> None:
    # 600 a 10 s window at the minimum charge of 20: three requests a second.
    settings = EdgeSettings(
        rate_limit_prefix=f"test-{uuid.uuid4().hex[:12]}",
        role_rate_limits={"lks_partner": "600/10 seconds"},
        rate_limit_min_cost=20,
        client_rate="allowance",
        client_burst=2,
        client_max_in_flight=16,
    )
    foundation, agency = await _bursts(
        city_database_url, settings, ("lks_partner", 5), ("opd_officer", 5)
    )
    assert foundation[0] == [200] * 5
    # Two at once, then three more a third of a second apart: the last starts at 1 s.
    assert foundation[1] >= 1.0
    # An agency's limit is ten times as large (35,000 a window): its five start at once or
    # nearly.
    assert agency[1] < foundation[1]
