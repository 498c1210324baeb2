"""The peer: PostGraphile 5 on the same database, measured beside the hub (bench/README.md).

`bench/peer/server.mjs` is a PostGraphile 5 server (npm packages pinned by
`bench/peer/package-lock.json`) that serves the benchmark's PostgreSQL database read-only,
with as many Node processes as the hub has uvicorn workers, all accepting on one port. For
each hub scenario it can express, `PEER_SCENARIOS` says which document of
`bench/peer/operations/` it sends and with which variables, and how to read the records'
ids out of either answer: before measuring, the harness checks that the peer returns the same
records as the hub, in the same order.

A machine without Node, or without `npm ci --prefix bench/peer` having been run, skips the
peer with a reason (`unavailable()`).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, parse
from sqlalchemy.engine import make_url

from bench.fixtures import Fixtures
from bench.servers import HubServer, ServerError, children, command_line

PEER_DIR = Path(__file__).resolve().parent
OPERATIONS = PEER_DIR / "operations"
NODE_MODULES = PEER_DIR / "node_modules"
INSTALL_COMMAND = "npm ci --prefix bench/peer"


def unavailable(database_url: str) -> str | None:
    """Why the peer cannot run here, or None when it can."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return "PostGraphile serves PostgreSQL only; this run is on another backend"
    if shutil.which("node") is None:
        return "Node.js is not installed (PostGraphile 5 needs Node 20 or newer)"
    installed = NODE_MODULES / ".package-lock.json"
    if not (NODE_MODULES / "postgraphile" / "package.json").exists() or not installed.exists():
        return f"the npm packages are not installed: run `{INSTALL_COMMAND}`"
    if (PEER_DIR / "package-lock.json").stat().st_mtime > installed.stat().st_mtime:
        return (
            f"the npm packages are older than bench/peer/package-lock.json: run `{INSTALL_COMMAND}`"
        )
    return None


def versions() -> dict[str, str]:
    """Node's version and PostGraphile's, as installed."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    package = json.loads((NODE_MODULES / "postgraphile" / "package.json").read_text())
    return {"node": node.stdout.strip(), "postgraphile": str(package["version"])}


def node_url(database_url: str) -> str:
    """The libpq-style URL node-postgres takes, from the hub's SQLAlchemy URL."""
    url = make_url(database_url)
    user = url.username or "postgres"
    password = f":{url.password}" if url.password else ""
    host = f"{url.host or '127.0.0.1'}:{url.port or 5432}"
    return f"postgres://{user}{password}@{host}/{url.database}"


@dataclass
class PeerServer(HubServer):
    """PostGraphile's Node processes on a loopback port (`workers` of them)."""

    def start(self) -> None:
        """Start `node server.mjs` in its own process group."""
        command = ["node", "--import", "./polyfill.mjs", "server.mjs"]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=PEER_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the cluster's workers, or the one process."""
        if self.process is None:
            return []
        if self.workers == 1:
            return [self.process.pid] if self.process.poll() is None else []
        return [pid for pid in children(self.process.pid) if "server.mjs" in command_line(pid)]

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Return once every worker has built its schema and answers a query."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerError(f"{self.name} exited; see {self.log_path}")
            listening = self.log_path.read_text(errors="replace").count("listening on")
            if listening >= self.workers:
                try:
                    post(self.base_url, {"query": "{ __typename }"}, {})
                    return
                except (urllib.error.URLError, OSError, ValueError):
                    pass
            time.sleep(0.2)
        raise ServerError(
            f"{self.name} did not become ready in {timeout:.0f} s; see {self.log_path}"
        )


def peer_env(database_url: str, port: int, workers: int) -> dict[str, str]:
    """The environment of `server.mjs` (nothing of the hub's: it needs none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        PEER_DATABASE_URL=node_url(database_url),
        PEER_PORT=str(port),
        PEER_WORKERS=str(workers),
        GRAPHILE_ENV="production",
        NODE_ENV="production",
    )
    return env


def post(base_url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """POST one GraphQL request; the decoded answer (raise ValueError on GraphQL errors)."""
    request = urllib.request.Request(
        f"{base_url}/graphql",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.loads(response.read())
    if answer.get("errors"):
        raise ValueError(f"GraphQL errors: {answer['errors'][:2]}")
    return answer


# --- what the peer sends for each hub scenario ----------------------------------------


def selects_total_count(document: str) -> bool:
    """Whether the document's root field selects `totalCount` (the hub's side decides)."""
    operation = next(
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode) and root.selection_set is not None
    return any(
        isinstance(s, FieldNode) and s.name.value == "totalCount"
        for s in root.selection_set.selections
    )


def _hub_need_ids(answer: dict[str, Any]) -> dict[str, Any]:
    connection = answer["data"]["needs"]
    ids = [int(base64.b64decode(n["id"]).decode().split(":", 1)[1]) for n in connection["nodes"]]
    return {"ids": ids, "total": connection.get("totalCount")}


def _peer_need_ids(answer: dict[str, Any]) -> dict[str, Any]:
    connection = answer["data"]["allNeeds"]
    return {
        "ids": [int(n["rowId"]) for n in connection["nodes"]],
        "total": connection.get("totalCount"),
    }


def _hub_profile(answer: dict[str, Any]) -> dict[str, Any]:
    citizen = answer["data"]["citizen"] or {}
    household = citizen.get("household") or {}
    key = lambda global_id: int(base64.b64decode(global_id).decode().split(":", 1)[1])  # noqa: E731
    return {
        "nik": citizen.get("nik"),
        "members": sorted(key(m["id"]) for m in household.get("members", [])),
        "needs": sorted(key(n["id"]) for n in citizen.get("needs", [])),
        "enrolments": len(citizen.get("enrolments", [])),
    }


def _nodes(parent: dict[str, Any], field: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = (parent.get(field) or {}).get("nodes", [])
    return nodes


def _peer_profile(answer: dict[str, Any]) -> dict[str, Any]:
    citizen = answer["data"]["citizenByNik"] or {}
    household = citizen.get("householdByHouseholdId") or {}
    return {
        "nik": citizen.get("nik"),
        "members": sorted(int(m["rowId"]) for m in _nodes(household, "citizensByHouseholdId")),
        "needs": sorted(int(n["rowId"]) for n in _nodes(citizen, "needsByCitizenId")),
        "enrolments": len(_nodes(citizen, "enrolmentsByCitizenId")),
    }


@dataclass(frozen=True, slots=True)
class PeerScenario:
    """How the peer answers one hub scenario."""

    #: The hub scenario's name.
    name: str
    #: The peer's document in bench/peer/operations/.
    document_file: str
    #: The peer's variables, given the fixtures and the hub's document.
    variables: Callable[[Fixtures, str], list[dict[str, Any]]]
    #: What must agree, read from the hub's answer and from the peer's.
    hub_key: Callable[[dict[str, Any]], dict[str, Any]]
    peer_key: Callable[[dict[str, Any]], dict[str, Any]]
    #: What the two documents differ in, said beside the numbers.
    difference: str

    def document(self) -> str:
        return (OPERATIONS / self.document_file).read_text()

    def bodies(self, fixtures: Fixtures, hub_document: str) -> list[dict[str, Any]]:
        """The peer's request bodies, one per hub body, in the same rotation."""
        document = self.document()
        return [{"query": document, "variables": v} for v in self.variables(fixtures, hub_document)]


def _foundation_page(fixtures: Fixtures, hub_document: str) -> list[dict[str, Any]]:
    org = fixtures.clients["lks_partner"].organization_id
    return [{"org": org, "first": 50, "withCount": selects_total_count(hub_document)}]


def _city_page(_: Fixtures, hub_document: str) -> list[dict[str, Any]]:
    return [{"org": None, "first": 50, "withCount": selects_total_count(hub_document)}]


def _niks(fixtures: Fixtures, _: str) -> list[dict[str, Any]]:
    return [{"nik": nik} for nik in fixtures.niks]


_MASKING = (
    "the hub masks the citizen (NIK, initials, age band) and records the read in the audit "
    "trail; the peer returns the same columns unmasked and records nothing"
)
_ANSWERED = (
        PeerScenario(
            "lks_needs_feed", "needs_page.graphql", _foundation_page, _hub_need_ids,
            _peer_need_ids, _MASKING,
        ),
        PeerScenario(
            "lks_needs_feed_count", "needs_page.graphql", _foundation_page, _hub_need_ids,
            _peer_need_ids, _MASKING,
        ),
        PeerScenario(
            "opd_needs_city", "needs_page.graphql", _city_page, _hub_need_ids, _peer_need_ids,
            "the hub checks the agency's policy and records the read; the peer does neither",
        ),
        PeerScenario(
            "opd_citizen_profile", "citizen_profile.graphql", _niks, _hub_profile, _peer_profile,
            "the hub checks the policy, computes age and `active`, and records the read; the "
            "peer returns birth dates and end dates and records nothing",
        ),
)  # fmt: skip
PEER_SCENARIOS: dict[str, PeerScenario] = {s.name: s for s in _ANSWERED}

#: How many of a scenario's request bodies the parity check compares.
PARITY_SAMPLE = 3


def compare(
    scenario: PeerScenario,
    hub_url: str,
    hub_bodies: list[dict[str, Any]],
    hub_headers: dict[str, str],
    peer_url: str,
    peer_bodies: list[dict[str, Any]],
) -> dict[str, Any]:
    """Send the first few bodies to both; whether they return the same records."""
    checked = []
    for hub_body, peer_body in list(zip(hub_bodies, peer_bodies, strict=True))[:PARITY_SAMPLE]:
        hub = scenario.hub_key(post(hub_url, hub_body, hub_headers))
        peer = scenario.peer_key(post(peer_url, peer_body, {}))
        checked.append({"hub": hub, "peer": peer, "same": hub == peer})
    same = all(c["same"] for c in checked)
    first = checked[0] if checked else {}
    summary: dict[str, Any] = {"same": same, "compared": len(checked)}
    if "ids" in first.get("hub", {}):
        summary["ids"] = len(first["hub"]["ids"])
        summary["total_count"] = first["hub"]["total"]
    if not same:
        summary["difference"] = next(c for c in checked if not c["same"])
    return summary
