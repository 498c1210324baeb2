"""Live servers on loopback for the federation tests: the example agency, the hub, the gateway."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from sqlalchemy import select

from hub.db import create_engine
from hub.registry.models import Citizen

ROOT = Path(__file__).resolve().parents[2]
AGENCY_DIR = ROOT / "partners" / "examples" / "opd-subgraph"
GATEWAY_DIR = ROOT / "federation" / "gateway"


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start(
    args: Sequence[str], env: dict[str, str], cwd: Path = ROOT
) -> asyncio.subprocess.Process:
    """Start a server process with output discarded (they log to stderr on failure only)."""
    return await asyncio.create_subprocess_exec(
        *args,
        env={**os.environ, "NO_PROXY": "127.0.0.1", **env},
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_until_up(process: asyncio.subprocess.Process, url: str, seconds: float = 60) -> None:
    """Wait until `url` answers at all; fail with the server's output if it died."""
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(int(seconds * 10)):
            if process.returncode is not None:
                output = await process.stderr.read() if process.stderr else b""
                raise AssertionError(
                    f"server exited {process.returncode}: {output.decode()[-3000:]}"
                )
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


async def stop(process: asyncio.subprocess.Process) -> None:
    """Terminate a server this test started, and reap it."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


def agency_record(nik: str) -> dict[str, str]:
    """The example agency's synthetic record for one NIK (deterministic, by its hash)."""
    h = hashlib.sha256(nik.encode()).digest()
    status = ("ACTIVE", "ACTIVE", "INACTIVE", "NOT_REGISTERED")[h[0] % 4]
    pupil = h[1] % 3 == 0
    return {
        "nik": nik,
        "bpjs_status": status,
        "bpjs_class": "" if status == "NOT_REGISTERED" else str(1 + h[2] % 3),
        "subsidised": "1" if h[3] % 2 else "0",
        "checked_at": "2026-11-20",
        "school_name": f"SDN {h[4] % 200:03d} Bandung" if pupil else "",
        "level": "SD" if pupil else "",
        "kip_status": ("RECEIVING", "ELIGIBLE", "NONE")[h[5] % 3],
        "clinic": ("PKM-SUKAJADI", "PKM-CIBIRU", "")[h[6] % 3],
    }


async def write_agency_table(database_url: str, path: Path) -> list[str]:
    """Write the agency's CSV for every citizen of the city; return their NIKs."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            niks = list(
                (await connection.execute(select(Citizen.nik).order_by(Citizen.id))).scalars()
            )
    finally:
        await engine.dispose()
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(agency_record("0").keys()))
        writer.writeheader()
        for nik in niks:
            writer.writerow(agency_record(nik))
    return niks


async def start_agency(table: Path, port: int, token: str | None) -> asyncio.subprocess.Process:
    """The example agency subgraph on loopback."""
    env = {"OPD_DATA": str(table)}
    if token:
        env["OPD_TOKEN"] = token
        env["OPD_CLIENT_SECRET"] = f"secret-of-{token}"
    process = await start(
        [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(AGENCY_DIR),
         "--port", str(port), "--log-level", "warning"],
        env,
    )  # fmt: skip
    await wait_until_up(process, f"http://127.0.0.1:{port}/stats")
    return process
