"""The benchmark harness runs end to end on a tiny city and writes well-formed results.

Only the shape of the results is checked, never a speed: the numbers come from a shared
test machine. Skipped when wrk (the load generator) is not installed. On PostgreSQL, with
Node and `npm ci --prefix bench/peer` done, the peer (PostGraphile 5) must run too and
return the hub's records; otherwise the results must say why it was skipped.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bench import peer

REPOSITORY = Path(__file__).resolve().parents[2]
CONCURRENCY = (1, 2)
RUN_KEYS = {"concurrency", "seconds", "requests", "requests_per_second", "latency_ms", "errors"}


async def _run_harness(database_url: str, results: Path) -> tuple[int, str]:
    """`python -m bench.run` on 300 citizens, one second per measurement, no profile."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.run",
        "--database-url", database_url, "--citizens", "300",
        "--quick", "--duration", "1", "--warmup", "0", "--workers", "1",
        "--concurrency", ",".join(map(str, CONCURRENCY)),
        "--results-dir", str(results), "--no-readme", "--profile-requests", "0",
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    return process.returncode or 0, output.decode(errors="replace")


def _read_results(directory: Path) -> list[dict[str, Any]]:
    """Every results file the harness wrote into `directory`."""
    return [json.loads(path.read_text()) for path in directory.glob("hub_*.json")]


def _check_run(run: dict[str, Any]) -> None:
    assert run.keys() >= RUN_KEYS
    assert run["requests"] >= 0
    assert run["requests_per_second"] >= 0
    assert all(value >= 0 for value in run["latency_ms"].values())
    assert run["errors"]["total"] >= 0
    # A harness whose requests are refused measures nothing: tokens and headers must work.
    assert run["errors"]["non_2xx"] == 0, run["errors"]["first_error"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
async def test_the_harness_writes_well_formed_results(
    empty_database_url: str, tmp_path: Path
) -> None:
    code, output = await _run_harness(empty_database_url, tmp_path)
    assert code == 0, output
    written = _read_results(tmp_path)
    assert len(written) == 1, output
    result = written[0]

    for key in ("machine", "versions", "git", "dataset", "settings", "scenarios", "floor",
                "statements_per_request", "comparisons", "targets", "memory"):  # fmt: skip
        assert key in result, key
    assert result["dataset"]["citizens"] == 300
    assert result["machine"]["cores"] >= 1
    levels = {str(c) for c in CONCURRENCY}
    assert set(result["floor"]["runs"]) == levels
    for run in result["floor"]["runs"].values():
        _check_run(run)
    ran = {n: s for n, s in result["scenarios"].items() if s["status"] == "ran"}
    assert {"lks_needs_feed", "opd_citizen_profile"} <= ran.keys()
    for name, scenario in result["scenarios"].items():
        if scenario["status"] != "ran":
            assert scenario["reason"].startswith("skipped:")
            continue
        assert set(scenario["runs"]) == levels
        for run in [*scenario["runs"].values(), *scenario.get("off", {}).values()]:
            _check_run(run)
        assert result["statements_per_request"][name]["statements"] >= 0
    for target in result["targets"]:
        assert target["met"] in (True, False, None)
    peak = result["memory"]["hub"]["peak_rss_mib_max"]
    assert peak is None or peak > 0
    assert set(result["phases"]) == {"1"}
    _check_peer(result, empty_database_url, levels)


def _check_peer(result: dict[str, Any], database_url: str, levels: set[str]) -> None:
    """The peer ran and matched the hub where it can run; elsewhere the results say why."""
    reason = peer.unavailable(database_url)
    if reason is not None:
        assert result["peer"] == {"status": "skipped", "reason": reason}
        if make_url(database_url).get_backend_name() == "postgresql":
            pytest.skip(f"the peer part needs Node and its packages: {reason}")
        return
    assert result["peer"]["status"] == "ran", result["peer"]
    parity = result["phases"]["1"]["peer_parity"]
    assert parity, "no scenario was compared with the peer"
    for name, checked in parity.items():
        assert checked["same"], (name, checked)
        runs = result["scenarios"][name]["peer"]
        assert set(runs) == levels
        for run in runs.values():
            _check_run(run)
    assert result["comparisons"]["hub_vs_peer"].keys() == parity.keys()
