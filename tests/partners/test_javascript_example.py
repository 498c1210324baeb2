"""The Node example (fetch + graphql-request), installed from its lock and run unmodified."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support.examples import EXAMPLES, ExampleHub, run_example

NODE = shutil.which("node")
NPM = shutil.which("npm")
PROJECT = EXAMPLES / "javascript"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None or NPM is None, reason="Node.js 20 and npm are not installed"),
]


@pytest.fixture(scope="module")
def installed() -> None:
    """The example's packages, exactly as its committed lock names them (`.ci/run` does
    this first; here only when it has not been done)."""
    assert NPM is not None
    if not (PROJECT / "node_modules" / "graphql-request").is_dir():
        subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=PROJECT, check=True)


async def test_the_javascript_foundation_journey(example_hub: ExampleHub, installed: None) -> None:
    assert NODE is not None
    issued = example_hub.create_client(example_hub.foundation, "lks_partner")
    out = run_example([NODE, "foundation.mjs"], cwd=PROJECT, env=example_hub.env(issued))
    assert f"signed in as {issued.client_id}" in out
    assert re.search(r"feed: [1-9]\d* open needs", out), out
    assert re.search(r"deliver to: [A-Z][a-z]+[^,]*[a-z], .+ RT \d+/RW \d+", out), out
    assert re.search(r"recorded \S+ \(created: True\)", out), out
    assert "retry with the same key: created: False, same record: True" in out
