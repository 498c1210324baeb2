"""The committed subgraph SDLs (the hub's and the example agency's) compose into a supergraph."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.federation.servers import AGENCY_DIR, GATEWAY_DIR


def _example_schema_sdl() -> str:
    printed = subprocess.run(
        [sys.executable, "-c", "import app; print(app.schema)"],
        cwd=AGENCY_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return printed.stdout


def test_the_example_agency_sdl_is_committed() -> None:
    assert (AGENCY_DIR / "subgraph.graphql").read_text() == _example_schema_sdl(), (
        "partners/examples/opd-subgraph/subgraph.graphql is stale: regenerate it (its README)"
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.skipif(
    not (GATEWAY_DIR / "node_modules").exists(),
    reason="federation/gateway/node_modules is missing: run `npm ci` in federation/gateway",
)
def test_the_committed_subgraphs_compose(tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    done = subprocess.run(
        ["node", "compose.mjs", "subgraphs.json", str(out)],
        cwd=GATEWAY_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    supergraph = out.read_text()
    assert 'join__graph(name: "hub"' in supergraph and 'join__graph(name: "opd"' in supergraph


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.skipif(
    not (GATEWAY_DIR / "node_modules").exists(),
    reason="federation/gateway/node_modules is missing: run `npm ci` in federation/gateway",
)
def test_a_composition_error_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "bad.graphql").write_text(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\n'
        'type Citizen @key(fields: "nik") { nik: Int! healthCoverage: String }\n'
        "type Query { x: Int }\n"
    )
    hub = Path(__file__).resolve().parents[2] / "schema" / "hub.subgraph.graphql"
    (tmp_path / "subgraphs.json").write_text(
        '[{"name": "hub", "url": "http://h/graphql", "sdl": "' + str(hub) + '"},'
        ' {"name": "bad", "url": "http://b/graphql", "sdl": "bad.graphql"}]'
    )
    done = subprocess.run(
        ["node", "compose.mjs", str(tmp_path / "subgraphs.json"), str(tmp_path / "out.graphql")],
        cwd=GATEWAY_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "composition error" in done.stderr
    assert not (tmp_path / "out.graphql").exists()
