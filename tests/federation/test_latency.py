"""What one connected field adds to a 50-citizen page (connector on loopback).

Run with `-s` to see the numbers: p50 and p90 over 30 requests, with and without
`healthCoverage`, after a warm-up. The assertion is loose (a shared machine); the numbers
go to the report.
"""

from __future__ import annotations

import statistics
import time

import pytest

from tests.federation.conftest import Agency
from tests.federation.test_connectors import dinkes, register
from tests.support.api import Api

pytestmark = pytest.mark.slow

WITHOUT = "{ citizens(first: 50) { nodes { id nik fullName ageBand } } }"
WITH = (
    "{ citizens(first: 50) { nodes { id nik fullName ageBand "
    "healthCoverage { bpjsStatus bpjsClass } } } }"
)
RUNS = 30


async def _timings(api: Api, document: str) -> list[float]:
    for _ in range(3):
        await api.data(document)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await api.data(document)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


async def test_added_latency_of_one_connected_field(fresh_city: Api, agency: Agency) -> None:
    assert (await register(fresh_city, **dinkes(agency, fields=["healthCoverage"])))["errors"] == []
    opd = fresh_city.as_("opd_officer", purpose="ELIGIBILITY_CHECK")
    without = await _timings(opd, WITHOUT)
    with_field = await _timings(opd, WITH)
    p50 = statistics.median(without), statistics.median(with_field)
    p90 = without[int(RUNS * 0.9)], with_field[int(RUNS * 0.9)]
    print(
        f"\n50-citizen page over {RUNS} requests: without healthCoverage p50 {p50[0]:.1f} ms "
        f"p90 {p90[0]:.1f} ms; with it p50 {p50[1]:.1f} ms p90 {p90[1]:.1f} ms; "
        f"added p50 {p50[1] - p50[0]:.1f} ms"
    )
    assert p50[1] - p50[0] < 250
