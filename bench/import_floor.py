"""What a first import of the city cannot go below on this machine: its rows written at COPY
speed, and the file read by polars with no check at all.

    python -m bench.import_floor --file /tmp/imp/b2600k/dtks-2600000-month-1.txt

`bench.imports` says how long `hub import dtks` takes; this says how much of that any import
with the same result must spend anyway. One run:

1. imports `--file` into a fresh database as `hub import dtks` does, and copies out the rows
   it wrote (`dtks_imports`, `households`, `household_kk_numbers`, `citizens`), in
   PostgreSQL's binary COPY format;
2. loads those very rows into a second fresh database in one transaction, the way a first
   import's bulk path does (`hub.imports.bulk.rebuilt_around`: the tables' secondary
   indexes, unique constraints and foreign keys dropped, then rebuilt from their own
   definitions), but with `COPY` from the file instead of validating, staging, checking
   and `INSERT … SELECT`;
3. reads the export with `polars.read_csv`, every column as text, nothing checked.

Each step's wall time is printed with the cores the machine kept busy meanwhile (/proc/stat:
on an otherwise idle machine, the database's and this process's). Both databases are
dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench.imports import CpuSamples, drop_database, recreate_database, run_step

#: The registry tables a first import writes, in an order their foreign keys allow.
TABLES = ("dtks_imports", "households", "household_kk_numbers", "citizens")
#: The tables a first import's bulk path rebuilds, and whether their primary key goes too.
REBUILT = {"households": False, "household_kk_numbers": True, "citizens": False}


class _Span:
    """Wall time and the machine's busy cores between `start()` and `stop()`."""

    def start(self) -> _Span:
        self._first = CpuSamples.sample()
        return self

    def stop(self) -> dict[str, float]:
        last = CpuSamples.sample()
        seconds = last[0] - self._first[0]
        return {
            "seconds": round(seconds, 2),
            "busy_cores": round((last[1] - self._first[1]) / seconds, 2),
            "iowait_cores": round((last[2] - self._first[2]) / seconds, 2),
            "process_cpu_seconds": round(last[3] - self._first[3], 2),
        }


def _driver_url(url: str) -> str:
    """The URL asyncpg itself takes (without SQLAlchemy's `+asyncpg`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _dump(url: str, folder: Path) -> None:
    import asyncpg

    connection = await asyncpg.connect(_driver_url(url))
    try:
        for table in TABLES:
            with (folder / f"{table}.bin").open("wb") as out:
                await connection.copy_from_table(table, output=out, format="binary")
    finally:
        await connection.close()


@asynccontextmanager
async def _all_rebuilt(connection: AsyncConnection, timings: dict[str, Any]) -> AsyncIterator[None]:
    """The bulk path's drops for every rebuilt table; on leaving, its rebuilds, timed."""
    from hub.imports.bulk import rebuilt_around

    async with AsyncExitStack() as stack:
        for table, primary_key in REBUILT.items():
            await stack.enter_async_context(
                rebuilt_around(connection, table, primary_key=primary_key)
            )
        yield
        span = _Span().start()
        await stack.aclose()  # the rebuilds, in the reverse order of the drops
        timings["rebuild indexes and constraints"] = span.stop()


async def _load(url: str, folder: Path) -> dict[str, Any]:
    timings: dict[str, Any] = {}
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            async with connection.begin():
                await connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
                async with _all_rebuilt(connection, timings):
                    for table in TABLES:
                        span = _Span().start()
                        await driver.copy_to_table(
                            table, source=folder / f"{table}.bin", format="binary"
                        )
                        timings[f"copy {table}"] = span.stop()
                span = _Span().start()
            timings["commit"] = span.stop()
    finally:
        await engine.dispose()
    timings["total"] = {
        "seconds": round(sum(t["seconds"] for t in timings.values()), 2),
    }
    return timings


def _read(path: Path) -> dict[str, Any]:
    import polars as pl

    span = _Span().start()
    frame = pl.read_csv(path, separator="|", infer_schema=False, quote_char=None)
    out = span.stop()
    out["rows"] = frame.height
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and measure the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, required=True, help="a month-1 export")
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/hub_import_floor",
        help="a database to create (and drop); a second one is named after it",
    )
    args = parser.parse_args(argv)
    source = args.database_url
    target = make_url(source).set(database=f"{make_url(source).database}_copy")
    target_url = target.render_as_string(hide_password=False)
    result: dict[str, Any] = {"file": str(args.file)}
    with tempfile.TemporaryDirectory(prefix="hub-import-floor-") as scratch:
        folder = Path(scratch)
        try:
            asyncio.run(recreate_database(source))
            started = time.perf_counter()
            result["import"] = run_step(
                "--step", "import", "--database-url", source,
                "--var-dir", str(folder / "var"), "--file", str(args.file),
            )  # fmt: skip
            result["import"]["measured_seconds"] = round(time.perf_counter() - started, 2)
            asyncio.run(_dump(source, folder))
            asyncio.run(drop_database(source))
            asyncio.run(recreate_database(target_url))
            result["copy_floor"] = asyncio.run(_load(target_url, folder))
            result["polars_read"] = _read(args.file)
        finally:
            asyncio.run(drop_database(source))
            asyncio.run(drop_database(target_url))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
