"""Hub servers under test: uvicorn with several workers, started and stopped by the harness.

Each server is `uvicorn --factory bench.server:create_bench_app --workers N` on loopback,
configured only through `HUB_*` variables, as `hub serve` would be. While it runs, a sampler
thread reads every worker's resident set from `/proc/<pid>/status` (VmRSS, and the kernel's
own high-water mark VmHWM), so the report can give the peak memory of each worker.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


class ServerError(RuntimeError):
    """A server did not start or died."""


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether nothing listens on loopback `port` (a closed socket in TIME_WAIT is free)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Ports:
    """The servers' ports: ephemeral ones, or `base`, `base + 1`, … (`--port-base`).

    With a base, a port already in use is refused with `ServerError` naming it, rather than
    skipped: a run told which ports to use uses exactly those.
    """

    def __init__(self, base: int | None = None) -> None:
        self.base = base
        self._next = base

    def take(self, name: str) -> int:
        """The next port, for the server called `name`."""
        if self._next is None:
            return free_port()
        port = self._next
        self._next += 1
        if not 0 < port < 65536:
            raise ServerError(f"port {port} for {name} is out of range; choose a lower --port-base")
        if not port_is_free(port):
            raise ServerError(
                f"port {port} (for {name}, from --port-base {self.base}) is already in use; "
                "stop what listens there or choose another --port-base"
            )
        return port

    def reset(self) -> None:
        """Start again from the base (the previous servers have stopped)."""
        self._next = self.base


def children(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's list, as Linux keeps them per task)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found += [int(child) for child in text.split()]
    return found


def command_line(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def memory_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of `pid` in KiB, or None once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for line in status.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    if len(values) < 2:
        return None
    return values["VmRSS"], values["VmHWM"]


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: The last line of a traceback: `package.module.SomethingError: message`.
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Disconnect|Timeout\w*))\b")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time `pid` has used, or 0 once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime field 14, stime field 15 (man 5 proc).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def database_backends(database: str) -> list[int]:
    """PostgreSQL backend processes connected to `database` on this machine.

    A backend's command line starts `postgres: <cluster>: <user> <database> <client>`.
    """
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        command = command_line(int(entry))
        if command.startswith("postgres: ") and f" {database} " in command:
            found.append(int(entry))
    return found


def _busy_backends(pids: list[int]) -> int:
    """How many of these PostgreSQL backends are running a query or hold a transaction.

    A backend's title ends with its state (`idle`, `idle in transaction`, `SELECT`, …).
    """
    return sum(1 for pid in pids if not command_line(pid).rstrip().endswith(" idle"))


def settle(
    servers: list[HubServer],
    *,
    database: str | None = None,
    idle_share: float = 0.05,
    timeout: float = 120.0,
    checks: int = 2,
) -> float:
    """Wait until the servers' workers and the database's backends are idle.

    A load generator that stops leaves requests queued in the server, which go on running
    for a while, in the workers or in PostgreSQL, or wait (a request holding a connection
    in a transaction uses no CPU); the next measurement must not inherit them. Idle means
    little CPU and no backend busy or in a transaction, `checks` times in a row (a quarter
    of a second each). Returns the seconds waited.
    """
    started = time.monotonic()
    interval = 0.25
    quiet = 0
    while time.monotonic() - started < timeout and quiet < checks:
        pids = [pid for server in servers for pid in server.worker_pids()]
        backends = database_backends(database) if database else []
        before = {pid: cpu_seconds(pid) for pid in pids + backends}
        time.sleep(interval)
        # A process that went away meanwhile counts as idle, not as negative time.
        used = sum(max(0.0, cpu_seconds(pid) - spent) for pid, spent in before.items())
        idle = used <= idle_share * interval * 2 and _busy_backends(backends) == 0
        quiet = quiet + 1 if idle else 0
    return time.monotonic() - started


@dataclass
class WorkerMemory:
    """The largest resident set seen for one worker process."""

    pid: int
    peak_rss_kib: int = 0
    hwm_kib: int = 0

    @property
    def peak_mib(self) -> float:
        """The higher of the sampled peak and the kernel's high-water mark, in MiB."""
        return round(max(self.peak_rss_kib, self.hwm_kib) / 1024, 1)


@dataclass
class HubServer:
    """One uvicorn process tree serving the bench app on a loopback port."""

    name: str
    port: int
    env: dict[str, str]
    workers: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    memory: dict[int, WorkerMemory] = field(default_factory=dict)
    _log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start uvicorn in its own process group."""
        command = [
            sys.executable, "-m", "uvicorn", "bench.server:create_bench_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **self.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker_pids(self) -> list[int]:
        """The worker processes (the master's spawned children, not its resource tracker)."""
        if self.process is None:
            return []
        if self.workers == 1:  # uvicorn serves in its own process then, with no master
            return [self.process.pid] if self.process.poll() is None else []
        return [
            pid
            for pid in children(self.process.pid)
            if "spawn_main" in command_line(pid) and "resource_tracker" not in command_line(pid)
        ]

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Return once every worker is up and `/readyz` answers 200; raise `ServerError`."""
        deadline = time.monotonic() + timeout
        successes = 0
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerError(f"{self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=5) as response:
                    ok = response.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            successes = successes + 1 if ok else 0
            if successes >= 3 and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.2)
        raise ServerError(
            f"{self.name} did not become ready in {timeout:.0f} s; see {self.log_path}"
        )

    def sample_memory(self) -> None:
        """Record the current and high-water resident set of every worker."""
        for pid in self.worker_pids():
            sample = memory_kib(pid)
            if sample is None:
                continue
            entry = self.memory.setdefault(pid, WorkerMemory(pid))
            entry.peak_rss_kib = max(entry.peak_rss_kib, sample[0])
            entry.hwm_kib = max(entry.hwm_kib, sample[1])

    def log_size(self) -> int:
        """Bytes the server has logged so far."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def _log_text(self, since: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as stream:
            stream.seek(since)
            return stream.read().decode(errors="replace")

    def log_lines(self) -> int:
        """Lines the server has logged (warnings and errors only)."""
        return len(self._log_text().splitlines())

    def log_tail(self, lines: int) -> list[str]:
        """The last `lines` lines of the server's log."""
        return self._log_text().splitlines()[-lines:]

    def log_exceptions(self, *, since: int) -> dict[str, int]:
        """Exceptions logged after byte `since`, by type (the last line of a traceback)."""
        counted: dict[str, int] = {}
        for line in self._log_text(since).splitlines():
            match = _EXCEPTION.match(line)
            if match:
                counted[match.group(1)] = counted.get(match.group(1), 0) + 1
        return counted

    def alive(self) -> bool:
        """Whether the master is still running."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop the server gracefully; kill its process group if it does not go."""
        if self.process is None:
            return
        self.sample_memory()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    def memory_report(self) -> dict[str, object]:
        """Peak resident set per worker in MiB, and the largest."""
        peaks = [entry.peak_mib for entry in self.memory.values()]
        return {
            "workers": {str(pid): entry.peak_mib for pid, entry in self.memory.items()},
            "peak_rss_mib_max": max(peaks) if peaks else None,
        }


class MemorySampler:
    """A daemon thread sampling the workers' memory of some servers every `interval` s."""

    def __init__(self, servers: list[HubServer], interval: float = 0.5) -> None:
        self.servers = servers
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for server in self.servers:
                if server.alive():
                    server.sample_memory()
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
