"""How fast `hub import dtks` brings a DTKS export in on PostgreSQL, and in how much memory.

    python -m bench.imports --rows 500000
    python -m bench.imports --rows 2600000     # the city

One run: a fresh database (`hub_import_bench` on the local server, dropped afterwards unless
`--keep`), a synthetic export of `--rows` residents (`hub seed --export-dtks`, 1 % dirty) and
the next month's (2 % of rows changed), then both imported one after the other as
`hub import dtks` does (one transaction each, with its audit event). Every step runs in a
child process of its own, so each peak RSS (`resource.getrusage`) is that step's alone.
Prints one JSON object: rows, wall time, rows/s and peak RSS of each import, the time of
reading and staging and of the whole-file checks and merge, and what the merge found.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hub_import_bench"


def _peak_rss_mb() -> float:
    """This process's peak resident set size, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def recreate_database(url: str) -> None:
    """Drop and create the database named by `url` on its server, then migrate it."""
    from hub.migrations import upgrade

    name = make_url(url).database
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    await upgrade(url)


async def drop_database(url: str) -> None:
    name = make_url(url).database
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def run_step(*args: str) -> dict[str, Any]:
    """Run `python -m bench.imports --step …` and return the JSON it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.imports", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _step_generate(path: Path, rows: int, previous: Path | None) -> dict[str, Any]:
    from hub.synthetic.dtks import write_export, write_next_month

    started = time.perf_counter()
    if previous is None:
        summary = write_export(path, citizens=rows, seed=1)
        out: dict[str, Any] = {
            "rows": summary.rows,
            "defect_rows": sum(len(v) for v in summary.defects.values()),
            "refused_lines": summary.refused_household_lines,
        }
    else:
        untouched = json.loads(path.with_suffix(".refused.json").read_text())
        month = write_next_month(previous, path, seed=2, untouched=untouched)
        out = {
            "rows": month.rows,
            "changes": dict(month.changes),
            # What an import of it must find (households changed: readdressed or rekeyed).
            "expected": {
                "households_new": month.changes["split"],
                "households_changed": len(month.readdressed) + len(month.rekeyed),
                "households_delisted": month.changes["household_delisted"],
                "citizens_new": len(month.new),
                "citizens_moved": len(month.moved),
                "citizens_delisted": len(month.delisted),
            },
        }
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["bytes"] = path.stat().st_size
    out["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    out["load_average_at_end"] = os.getloadavg()
    return out


#: Clock ticks per second of /proc's CPU counters.
_TICK = os.sysconf("SC_CLK_TCK")


class CpuSamples(threading.Thread):
    """Every 0.2 s: the machine's busy and iowait CPU seconds (all cores, /proc/stat) and
    this process's own (all its threads), so that each phase of an import can be given the
    cores it kept busy. The machine's busy time less this process's is, on a machine with
    nothing else running, the database server's."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, float, float]] = []
        self._done = threading.Event()

    @staticmethod
    def sample() -> tuple[float, float, float, float]:
        """(perf_counter, machine busy s, machine iowait s, this process's CPU s)."""
        with open("/proc/stat") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal
        busy = sum(ticks[:3]) + sum(ticks[5:8])
        own = os.times()
        return (time.perf_counter(), busy / _TICK, ticks[4] / _TICK, own.user + own.system)

    def run(self) -> None:
        while not self._done.wait(0.2):
            self.samples.append(self.sample())

    def stop(self) -> None:
        self._done.set()
        self.join()
        self.samples.append(self.sample())

    def at(self, when: float) -> tuple[float, float, float, float]:
        """The sample nearest `when` (a sample is 0.2 s apart at most)."""
        return min(self.samples, key=lambda sample: abs(sample[0] - when))


def _phases(
    cpu: CpuSamples, marks: list[tuple[str, float]], started: float, ended: float
) -> dict[str, dict[str, float]]:
    """For each phase (`before`: connecting, hashing; `read`; each merge step; `after`:
    the audit event and the commit): its seconds, the cores the machine kept busy, those of
    this process and the rest's (the database's on an otherwise idle machine), iowait."""
    bounds = [("", started), *marks, ("after", ended)]
    out: dict[str, dict[str, float]] = {}
    for (_, begin), (name, end) in itertools.pairwise(bounds):
        first, last = cpu.at(begin), cpu.at(end)
        seconds = last[0] - first[0]
        # Shorter than two samples: no meaningful share. The phase's own length counts,
        # not only its nearest samples': on a busy machine the sampling thread runs late,
        # and a phase of a millisecond could lie between samples 0.4 s apart.
        if end - begin < 0.4 or seconds <= 0:
            continue
        busy, iowait, own = (last[i] - first[i] for i in (1, 2, 3))
        out[name] = {
            "seconds": round(end - begin, 2),
            "busy_cores": round(busy / seconds, 2),
            "import_process_cores": round(own / seconds, 2),
            "other_cores": round((busy - own) / seconds, 2),
            "iowait_cores": round(iowait / seconds, 2),
        }
    return out


async def _wal_position(url: str) -> tuple[int, str]:
    """The server's current WAL position, in bytes, and its `wal_level`."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            position = await connection.scalar(
                text("SELECT pg_current_wal_lsn() - CAST('0/0' AS pg_lsn)")
            )
            level = await connection.scalar(text("SELECT current_setting('wal_level')"))
            return int(position), str(level)
    finally:
        await engine.dispose()


def _step_import(url: str, path: Path, var_dir: Path) -> dict[str, Any]:
    from hub.cli.imports import run_import
    from hub.settings import Settings

    settings = Settings.from_env({"HUB_VAR_DIR": str(var_dir)}).model_copy(
        update={"database_url": url}
    )
    before = _peak_rss_mb()
    wal_before, wal_level = asyncio.run(_wal_position(url))
    cpu = CpuSamples()
    cpu.start()
    started = time.perf_counter()
    summary = asyncio.run(
        run_import(settings, path, rejects=path.with_suffix(".rejects.csv"), dry_run=False)
    )
    ended = time.perf_counter()
    wall = ended - started
    cpu.stop()
    first, last = cpu.samples[0], cpu.samples[-1]
    wal_bytes = asyncio.run(_wal_position(url))[0] - wal_before
    return {
        "rows": summary.rows_read,
        "rejected": summary.rows_rejected,
        "wall_seconds": round(wall, 2),
        "rows_per_second": round(summary.rows_read / wall),
        "read_and_stage_seconds": round(summary.read_seconds, 2),
        "read_and_stage_cpu_seconds": round(summary.read_cpu_seconds, 2),
        "check_and_merge_seconds": round(summary.merge_seconds, 2),
        "merge_steps_seconds": summary.steps,
        # Core-seconds over the whole import: the machine's, and this process's.
        "cpu_seconds": {
            "machine_busy": round(last[1] - first[1], 1),
            "import_process": round(last[3] - first[3], 1),
            "machine_iowait": round(last[2] - first[2], 1),
        },
        "phases": _phases(cpu, summary.marks, started, ended),
        # WAL the server wrote meanwhile (all of it the import's on an otherwise idle server).
        "wal_mb": round(wal_bytes / 2**20),
        "rebuilt_tables": summary.rebuilt,
        "wal_level": wal_level,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "rss_before_import_mb": round(before, 1),
        "households": summary.households.as_dict(),
        "citizens": summary.citizens.as_dict(),
        "fuzzy_decisions": len(summary.fuzzy),
        "load_average_at_end": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run the benchmark (or one of its steps, in a child)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="residents in the export")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    parser.add_argument(
        "--files",
        type=Path,
        help="keep the generated files in this folder, and reuse those already there "
        "(made with the same --rows) instead of generating them again",
    )
    parser.add_argument("--step", choices=("generate", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--previous", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--var-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step == "generate":
        out = _step_generate(args.file, args.rows, args.previous)
        if args.previous is None:
            args.file.with_suffix(".refused.json").write_text(json.dumps(out.pop("refused_lines")))
        print(json.dumps(out))
        return
    if args.step == "import":
        print(json.dumps(_step_import(args.database_url, args.file, args.var_dir)))
        return

    workdir = args.files or Path(tempfile.mkdtemp(prefix="hub-bench-imports-"))
    workdir.mkdir(parents=True, exist_ok=True)
    first, second = (workdir / f"dtks-{args.rows}-month-{n}.txt" for n in (1, 2))
    url = args.database_url
    asyncio.run(recreate_database(url))
    try:
        result: dict[str, Any] = {
            "rows_requested": args.rows,
            "cpus": os.cpu_count(),
            "load_average_before": os.getloadavg(),
        }
        generated = workdir / f"generated-{args.rows}.json"
        if generated.is_file():
            result |= json.loads(generated.read_text())
        else:
            result["generate_month_1"] = run_step("--step", "generate", "--file", str(first),
                                                "--rows", str(args.rows))  # fmt: skip
            second.with_suffix(".refused.json").write_text(
                first.with_suffix(".refused.json").read_text()
            )
            result["generate_month_2"] = run_step("--step", "generate", "--file", str(second),
                                                "--previous", str(first))  # fmt: skip
            if args.files:
                keys = ("generate_month_1", "generate_month_2")
                generated.write_text(json.dumps({k: result[k] for k in keys}))
        common = ("--step", "import", "--database-url", url, "--var-dir", str(workdir / "var"))
        result["import_month_1"] = run_step(*common, "--file", str(first))
        result["import_month_2"] = run_step(*common, "--file", str(second))
        found = result["import_month_2"]
        result["month_2_matches_generator"] = result["generate_month_2"]["expected"] == {
            "households_new": found["households"]["new"],
            "households_changed": found["households"]["changed"],
            "households_delisted": found["households"]["delisted"],
            "citizens_new": found["citizens"]["new"],
            "citizens_moved": found["citizens"]["moved"],
            "citizens_delisted": found["citizens"]["delisted"],
        }
        result["load_average_after"] = os.getloadavg()
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep:
            asyncio.run(drop_database(url))
        if not args.keep and not args.files:
            for path in sorted(workdir.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            workdir.rmdir()


if __name__ == "__main__":
    main()
