"""The import benchmarks run end to end on a tiny export and print well-formed results.

Only their shape and what the imports found are checked, never a speed. PostgreSQL only
(the benchmarks measure COPY, WAL and the server's cores); each makes and drops databases
of its own on the test server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

REPOSITORY = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("HUB_TEST_DATABASE_URL", "")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not SERVER.startswith("postgresql"), reason="the import benchmarks are for PostgreSQL"
    ),
]


def _database_url(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    return make_url(SERVER).set(database=name).render_as_string(hide_password=False)


async def _run(*args: str) -> dict[str, Any]:
    """`python -m <args>`; the JSON it prints last (it must succeed)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", *args,
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, err.decode(errors="replace")[-3000:]
    result: dict[str, Any] = json.loads(out.decode())
    return result


async def test_the_import_benchmark_and_its_floor_report_what_they_measured(
    tmp_path: Path,
) -> None:
    files = tmp_path / "files"
    result = await _run(
        "bench.imports", "--rows", "3000", "--files", str(files),
        "--database-url", _database_url("hub_test_import_bench"),
    )  # fmt: skip
    assert result["month_2_matches_generator"] is True
    first, second = result["import_month_1"], result["import_month_2"]
    for step in (first, second):
        assert step["rows"] > 2_500 and step["wall_seconds"] > 0
        # Every phase the import marked, with the cores kept busy during it (a phase
        # shorter than two samples has none).
        assert set(step["phases"]) <= {"before", "read", "check", "rejects", "sort_households",
                                        "write_households", "sort_citizens", "write_citizens",
                                        "after"}  # fmt: skip
        for phase in step["phases"].values():
            assert phase["seconds"] > 0 and phase["busy_cores"] >= 0
        assert step["cpu_seconds"]["import_process"] > 0
        assert step["wal_mb"] >= 0
    assert first["citizens"]["new"] == first["rows"] - first["rejected"]

    floor = await _run(
        "bench.import_floor", "--file", str(files / "dtks-3000-month-1.txt"),
        "--database-url", _database_url("hub_test_import_floor"),
    )  # fmt: skip
    assert floor["polars_read"]["rows"] == first["rows"]
    steps = floor["copy_floor"]
    assert {"copy households", "copy citizens", "rebuild indexes and constraints"} <= set(steps)
    assert floor["import"]["citizens"]["new"] == first["citizens"]["new"]
