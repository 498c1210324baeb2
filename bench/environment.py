"""What the results depend on besides the code: the machine, the versions, the commit."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.load import wrk_version
from hub.db import create_engine

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGES = (
    "strawberry-graphql", "graphql-core", "starlette", "uvicorn", "uvloop", "httptools",
    "sqlalchemy", "asyncpg", "aiosqlite", "orjson", "joserfc", "pycasbin", "pyinstrument",
)  # fmt: skip


def _meminfo_mib() -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, kernel, and the load average when asked."""
    return {
        "cores": os.cpu_count(),
        "memory_mib": _meminfo_mib(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def git_commit() -> dict[str, Any]:
    """The commit checked out, and whether the working tree has changes."""

    def git(*args: str) -> str:
        completed = subprocess.run(
            ["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=False
        )
        return completed.stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(git("status", "--porcelain"))}


async def database_version(url: str) -> str:
    """The database server's version string."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                return str(await connection.scalar(text("SHOW server_version")))
            return "SQLite " + str(await connection.scalar(text("SELECT sqlite_version()")))
    finally:
        await engine.dispose()


#: PostgreSQL settings that shape the results.
DATABASE_SETTINGS = (
    "jit", "shared_buffers", "work_mem", "effective_cache_size", "max_connections",
    "random_page_cost",
)  # fmt: skip


async def database_settings(url: str) -> dict[str, str]:
    """The PostgreSQL settings a new connection to `url` gets (empty on SQLite)."""
    engine = create_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            return {}
        async with engine.connect() as connection:
            return {
                name: str(await connection.scalar(text(f"SHOW {name}")))
                for name in DATABASE_SETTINGS
            }
    finally:
        await engine.dispose()


async def versions(url: str) -> dict[str, Any]:
    """Python, the database, wrk, and the packages on the request path."""
    return {
        "python": platform.python_version(),
        "database": await database_version(url),
        "database_settings": await database_settings(url),
        "wrk": wrk_version(),
        "packages": {name: _version(name) for name in PACKAGES},
    }
