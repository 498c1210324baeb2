"""Driving a server with `wrk` and reading back what it measured.

wrk is a C load generator: one thread of it drives hundreds of connections for a small
fraction of a core, which matters on a machine where the load generator, the hub's workers
and PostgreSQL share two cores. `bench/graphql.lua` sends the request bodies in rotation,
checks every response for errors and prints one JSON line of results.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

LUA_SCRIPT = Path(__file__).with_name("graphql.lua")
INSTALL_HINT = (
    "wrk is not installed. On Debian or Ubuntu: apt-get update && apt-get install -y wrk "
    "(other systems: https://github.com/wg/wrk)"
)
#: A response slower than this counts as a timeout rather than a latency.
TIMEOUT_SECONDS = 30


class LoadError(RuntimeError):
    """wrk is missing or failed."""


def wrk_path() -> str | None:
    """Where wrk is, or None."""
    return shutil.which("wrk")


def wrk_version() -> str:
    """wrk's version line."""
    binary = wrk_path()
    if binary is None:
        return "missing"
    completed = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return (completed.stdout or completed.stderr).splitlines()[0].strip()


@dataclass(frozen=True, slots=True)
class Target:
    """What to send: method, path, headers, and request bodies in rotation."""

    method: str
    path: str
    headers: dict[str, str]
    bodies: list[dict[str, Any]]

    def write_bodies(self, path: Path) -> str:
        """Write the bodies one per line; return the argument wrk's script expects."""
        if not self.bodies:
            return "-"
        path.write_bytes(b"\n".join(orjson.dumps(body) for body in self.bodies) + b"\n")
        return str(path)


def _threads(connections: int) -> int:
    """One wrk thread: it keeps up with the hub at any concurrency here, and leaves CPU."""
    return 1 if connections < 64 else 2


def run_wrk(
    base_url: str, target: Target, *, connections: int, seconds: int, workdir: Path, label: str
) -> dict[str, Any]:
    """Drive `target` with `connections` concurrent connections for `seconds`; return results.

    The results: requests, requests_per_second, latency percentiles in milliseconds, errors
    (non-2xx responses, bodies with GraphQL errors, socket errors and timeouts).
    """
    binary = wrk_path()
    if binary is None:
        raise LoadError(INSTALL_HINT)
    bodies = target.write_bodies(workdir / f"{label}.bodies")
    command = [
        binary,
        f"-t{_threads(connections)}",
        f"-c{connections}",
        f"-d{max(1, seconds)}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        "-s",
        str(LUA_SCRIPT),
    ]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [f"{base_url}{target.path}", "--", bodies, target.method, target.path]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=seconds + 120
    )
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise LoadError(
            f"wrk failed ({completed.returncode}) for {label}: "
            f"{completed.stderr.strip() or completed.stdout.strip()}"
        )
    raw: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
    return summarise(raw, connections=connections)


def summarise(raw: dict[str, Any], *, connections: int) -> dict[str, Any]:
    """wrk's raw counters as the report's figures (milliseconds, per second, errors)."""
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    sockets = raw["socket_errors"]
    errors = raw["non_2xx"] + raw["graphql_errors"] + sum(sockets.values())
    return {
        "concurrency": connections,
        "seconds": round(seconds, 2),
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        # Without a completed request wrk's statistics are zeros, which would read as fast.
        "latency_ms": {
            key: round(latency[key] / 1000, 2) if raw["requests"] else None
            for key in ("p50", "p90", "p95", "p99", "p999", "mean", "max")
        },
        "errors": {
            "total": errors,
            "non_2xx": raw["non_2xx"],
            "graphql_errors": raw["graphql_errors"],
            "socket": sockets,
            "responses_checked": raw["responses_checked"],
            "first_error": raw["first_error"] or None,
        },
        "bytes_per_response": round(raw["bytes"] / raw["requests"]) if raw["requests"] else 0,
    }
