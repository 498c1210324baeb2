"""The README's production section, followed literally without Docker: `hub keys init`,
the variables it names, `hub db upgrade`, `hub serve` (two workers, production), `/readyz`;
then `/metrics` behind its token, summed over both workers."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
HUB = str(Path(sys.executable).parent / "hub")


def production_steps() -> list[str]:
    """The shell lines of the README's production recipe."""
    section = README.read_text().split("## Running in production", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the production section has no sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_readme_production_recipe_starts_a_hub(empty_database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    database = empty_database_url
    if database.startswith("sqlite"):
        database = f"sqlite+aiosqlite:///{tmp_path / 'from-nothing.db'}"  # truly empty
    # What this machine changes in the recipe, and nothing else.
    replacements = {
        "/srv/hub/keys": str(tmp_path / "keys"),
        "postgresql+asyncpg://hub:secret@db.internal/hub": database,
        "--host 0.0.0.0": "--host 127.0.0.1",
        "8000": str(port),
    }
    steps = production_steps()
    text = "\n".join(steps)
    for original in replacements:
        assert original in text, f"the README no longer says {original!r}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HUB_", "PROMETHEUS_"))
    }
    env["HUB_VAR_DIR"] = str(tmp_path / "var")
    env["HUB_RATE_LIMIT_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    server: subprocess.Popen[bytes] | None = None
    log = tmp_path / "serve.log"
    try:
        for step in steps:
            for original, replacement in replacements.items():
                step = step.replace(original, replacement)
            words = shlex.split(step)
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                env[name] = value
            elif words[0] == "curl":
                url = words[-1]
                deadline = time.monotonic() + 90
                while True:
                    try:
                        ready = httpx.get(url, timeout=5)
                        if ready.status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert server is not None and server.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.3)
                assert ready.json() == {"status": "ok", "database": "ok"}
            elif words[:2] == ["hub", "serve"]:
                with log.open("wb") as out:
                    server = subprocess.Popen([HUB, *words[1:]], env=env, stdout=out, stderr=out)
            else:
                assert words[0] == "hub", step
                done = subprocess.run(
                    [HUB, *words[1:]], env=env, capture_output=True, text=True, timeout=120
                )
                assert done.returncode == 0, done.stdout + done.stderr
        keys = tmp_path / "keys"
        assert sorted(p.name for p in keys.iterdir()) == [
            "audit-key.pem",
            "audit-pepper",
            "signing-key.pem",
        ]
        assert all(p.stat().st_mode & 0o777 == 0o600 for p in keys.iterdir())
        # The readiness answer comes from whichever worker started first; the other may still
        # be importing on a busy machine. Both must start, in a bounded time.
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < 2:
            assert server is not None and server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        base = f"http://127.0.0.1:{port}"
        # Production: no GraphiQL; /metrics only with its token, summed over both workers.
        assert httpx.get(f"{base}/graphql", headers={"accept": "text/html"}).status_code == 404
        assert httpx.get(f"{base}/metrics").status_code == 404
        for _ in range(12):  # a new connection each time: either worker answers
            assert httpx.get(f"{base}/healthz").status_code == 200
        token = env["HUB_METRICS_TOKEN"]
        metrics = httpx.get(f"{base}/metrics", headers={"authorization": f"Bearer {token}"})
        assert metrics.status_code == 200
        assert 'hub_http_requests_total{route="/healthz",status="200"} 12.0' in metrics.text
        lines = log.read_text().splitlines()
        assert sum("Application startup complete" in line for line in lines) == 2
        assert all(line.startswith("{") for line in lines if line.strip()), lines[:5]
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_a_production_start_without_keys_names_what_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_ENV="production", HUB_VAR_DIR=str(tmp_path), COLUMNS="200")
    done = subprocess.run(
        [HUB, "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    for variable in ("HUB_SIGNING_KEY_FILE", "HUB_AUDIT_KEY_FILE", "HUB_AUDIT_PEPPER_FILE"):
        assert variable in done.stdout
    assert done.stdout.count("`hub keys init DIR`") == 3


def test_keys_init_refuses_to_overwrite_and_rotate_keeps_the_previous_key(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys"
    first = subprocess.run([HUB, "keys", "init", str(keys)], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert f"HUB_SIGNING_KEY_FILE={keys.resolve() / 'signing-key.pem'}" in first.stdout
    signing = (keys / "signing-key.pem").read_text()
    again = subprocess.run([HUB, "keys", "init", str(keys)], capture_output=True, text=True)
    assert again.returncode == 1 and "refusing to overwrite" in again.stdout
    assert (keys / "signing-key.pem").read_text() == signing
    rotated = subprocess.run(
        [HUB, "keys", "rotate", str(keys), "--audit"], capture_output=True, text=True
    )
    assert rotated.returncode == 0, rotated.stderr
    bundle = (keys / "signing-key.pem").read_text()
    assert bundle.count("BEGIN") == 2 and bundle.endswith(signing)
    assert (keys / "audit-key.pem").read_text().count("BEGIN") == 2
    assert (keys / "audit-key.pem").stat().st_mode & 0o777 == 0o600
