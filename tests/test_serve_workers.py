"""`hub serve` with two workers starts reliably on a loaded machine: no worker is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

#: Busy loops kept running while the workers start: the machine's load goes up by this much.
BUSY = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
async def test_two_workers_start_and_serve_under_load(
    empty_database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "HUB_DATABASE_URL": empty_database_url,
        "HUB_VAR_DIR": str(tmp_path),
        "HUB_PORT": str(port),
        "HUB_WORKERS": "2",
        "HUB_LOG_LEVEL": "info",
    }
    busy = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import time\nend = time.time() + 120\nwhile time.time() < end: pass",
        )
        for _ in range(BUSY)
    ]
    with log.open("wb") as out:
        hub = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub.cli", "serve", env=env, stdout=out, stderr=out
        )
    started = time.monotonic()
    try:
        deadline = time.monotonic() + 100
        while time.monotonic() < deadline:
            if log.read_text().count("Application startup complete") >= 2:
                break
            await asyncio.sleep(0.5)
        took = time.monotonic() - started
        # A new connection each time: the kernel hands each to either worker.
        answered = []
        for _ in range(10):
            async with httpx.AsyncClient(timeout=30) as client:
                answered.append((await client.get(f"http://127.0.0.1:{port}/healthz")).status_code)
    finally:
        for process in busy:
            process.kill()
        hub.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(hub.wait(), 30)
        except TimeoutError:
            hub.kill()
            await hub.wait()
        for process in busy:
            await process.wait()
    text = log.read_text()
    serving = text.split("Received SIGINT")[0]
    assert answered == [200] * 10, text
    assert serving.count("Started server process") == 2, (took, text)
    assert serving.count("Application startup complete") == 2, (took, text)
    assert "died" not in serving and "Terminated child" not in serving, text
