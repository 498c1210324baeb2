"""The load phase: the servers under test, warmed and driven by wrk, level by level.

Three servers run side by side (the production-configured hub, the hub with authorization
and audit off, and the peer, PostGraphile 5, when it can run); at each concurrency the
floor, the hub, the hub without those layers and the peer are measured one after another,
so that drift on a shared machine hits all of them alike. Before each measurement the
harness waits for the previous queue to drain. The whole phase runs once per worker count
(`--workers 1,2`): every server gets that many processes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.fixtures import Fixtures
from bench.floor import FLOOR_PATH
from bench.load import LoadError, Target, run_wrk
from bench.options import Options, log
from bench.peer import PeerScenario, PeerServer, compare, peer_env
from bench.scenarios import Scenario
from bench.servers import HubServer, MemorySampler, Ports, settle
from hub.auth.keys import FileKeyStore, SigningKeys
from hub.auth.tokens import AccessTokens
from hub.settings import AuthSettings

#: Tokens outlive any run.
TOKEN_TTL_SECONDS = 6 * 3600
WARMUP_CONCURRENCY = 10


def _tokens(env: Mapping[str, str], fixtures: Fixtures) -> dict[str, str]:
    """An Authorization header value per role, signed with the run's key file."""
    auth = AuthSettings.from_env(env)
    assert auth.signing_key_file is not None
    tokens = AccessTokens(
        keys=SigningKeys(FileKeyStore(auth.signing_key_file), clock=time.time),
        issuer=auth.issuer,
        audience=auth.audience,
        ttl=TOKEN_TTL_SECONDS,
        leeway=auth.leeway_seconds,
        clock=time.time,
    )
    return {
        role: "Bearer "
        + tokens.mint(
            client_id=client.client_id,
            organization_code=client.organization_code,
            organization_kind=client.organization_kind,
            roles=[role],
        ).access_token
        for role, client in fixtures.clients.items()
    }


def _target(scenario: Scenario, fixtures: Fixtures, bearer: dict[str, str]) -> Target:
    return Target(
        method="POST",
        path="/graphql",
        headers={**scenario.headers(), "Authorization": bearer[scenario.role]},
        bodies=scenario.bodies(fixtures),
    )


def _floor_target(fixtures: Fixtures) -> Target:
    org = fixtures.clients["lks_partner"].organization_id
    return Target(method="GET", path=f"{FLOOR_PATH}?org={org}&first=50", headers={}, bodies=[])


class Measurements:
    """Runs wrk against the servers and files each result under its scenario and variant."""

    def __init__(self, options: Options, workdir: Path, servers: list[HubServer]) -> None:
        self.options = options
        self.workdir = workdir
        self.servers = servers
        url = make_url(options.database_url)
        self.database = url.database if url.get_backend_name() == "postgresql" else None
        #: Whether the servers were idle after the last thing sent to them.
        self.idle = False

    def settle(self) -> None:
        """Wait until the previous measurement's queue has drained."""
        # Quick runs are smoke tests on tiny cities: one quiet check is enough there.
        waited = settle(self.servers, database=self.database, checks=1 if self.options.quick else 2)
        if waited > 2:
            log(f"  (waited {waited:.0f} s for the previous queue to drain)")
        self.idle = True

    def measure(self, server: HubServer, target: Target, label: str, c: int) -> dict[str, Any]:
        """One measurement on idle servers; the server must still be alive afterwards.

        wrk counts only the requests that finish within the run; those still queued when it
        stops finish (or fail) afterwards. So the harness waits for them, and counts the
        exceptions the server logged meanwhile as this measurement's (the last lines of
        tracebacks, by type; broken connections from wrk stopping are not failures).
        """
        if not self.idle:
            self.settle()
        offset = server.log_size()
        result = run_wrk(
            server.base_url,
            target,
            connections=c,
            seconds=self.options.duration,
            workdir=self.workdir,
            label=label,
        )
        if not server.alive():
            raise LoadError(f"{server.name} died during {label}; see {server.log_path}")
        self.settle()
        exceptions = server.log_exceptions(since=offset)
        failures = sum(n for name, n in exceptions.items() if name not in BENIGN_EXCEPTIONS)
        result["errors"]["server_exceptions"] = exceptions
        result["errors"]["server_exception_lines"] = failures
        latency = result["latency_ms"]
        if result["requests"] == 0:
            log(f"  {label:<42} c={c:<3} no request completed in {self.options.duration} s")
        else:
            log(
                f"  {label:<42} c={c:<3} {result['requests_per_second']:>8.1f} req/s  "
                f"p50 {latency['p50']:>7.1f}  p99 {latency['p99']:>7.1f} ms  "
                f"errors {result['errors']['total']}"
            )
        if failures:
            log(f"  {'':<42}       server exceptions: {exceptions}")
        return result

    def warm(self, server: HubServer, target: Target, label: str) -> None:
        """Send load for the warm-up seconds and discard the result."""
        if self.options.warmup <= 0:
            return
        if not self.idle:
            self.settle()
        self.idle = False
        run_wrk(
            server.base_url,
            target,
            connections=min(WARMUP_CONCURRENCY, max(self.options.concurrency)),
            seconds=self.options.warmup,
            workdir=self.workdir,
            label=f"warmup-{label}",
        )


def _start(name: str, env: dict[str, str], workers: int, workdir: Path, ports: Ports) -> HubServer:
    server = HubServer(
        name=name,
        port=ports.take(name),
        env=env,
        workers=workers,
        log_path=workdir / f"{name}-{workers}w.log",
    )
    server.start()
    return server


@dataclass(frozen=True, slots=True)
class PeerPlan:
    """The peer's part of a run: its database, and the hub scenarios it answers."""

    database_url: str
    scenarios: dict[str, PeerScenario]


def _start_peer(plan: PeerPlan, workers: int, workdir: Path, ports: Ports) -> PeerServer:
    port = ports.take("peer")
    server = PeerServer(
        name="peer",
        port=port,
        env=peer_env(plan.database_url, port, workers),
        workers=workers,
        log_path=workdir / f"peer-{workers}w.log",
    )
    server.start()
    return server


def _peer_parity(
    plan: PeerPlan,
    peer: PeerServer,
    main: HubServer,
    active: list[Scenario],
    fixtures: Fixtures,
    bearer: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """For each scenario the peer answers: whether it returns the hub's records."""
    parity = {}
    for scenario in active:
        counterpart = plan.scenarios.get(scenario.name)
        if counterpart is None:
            continue
        target = _target(scenario, fixtures, bearer)
        headers = {k: v for k, v in target.headers.items() if k != "Content-Type"}
        try:
            checked = compare(
                counterpart,
                main.base_url,
                target.bodies,
                headers,
                peer.base_url,
                counterpart.bodies(fixtures, scenario.document()),
            )
        except (OSError, ValueError, KeyError) as error:
            checked = {"same": False, "error": f"{type(error).__name__}: {error}"}
        parity[scenario.name] = checked
        if checked["same"]:
            what = f"{checked.get('ids', '')} ids".strip() if "ids" in checked else "profiles"
            log(f"peer parity {scenario.name}: same {what} as the hub")
        else:
            log(f"warning: peer parity {scenario.name} failed, not measured: {checked}")
    return parity


def load_phase(
    options: Options,
    workdir: Path,
    env: dict[str, str],
    off_env: dict[str, str] | None,
    active: list[Scenario],
    fixtures: Fixtures,
    *,
    workers: int,
    ports: Ports,
    peer_plan: PeerPlan | None,
) -> dict[str, Any]:
    """Start the servers with `workers` processes each, warm them, measure, stop them.

    Returns the phase: `floor.runs`, `scenarios[name].runs | off | peer` (by concurrency),
    the peer's parity check, `memory` and `server_logs`.
    """
    ports.reset()
    bearer = _tokens(env, fixtures)
    phase: dict[str, Any] = {
        "workers": workers,
        "floor": {"runs": {}},
        "scenarios": {scenario.name: {} for scenario in active},
    }
    main = _start("hub", env, workers, workdir, ports)
    off = _start("hub_off", off_env, workers, workdir, ports) if off_env is not None else None
    peer = _start_peer(peer_plan, workers, workdir, ports) if peer_plan is not None else None
    servers = [s for s in (main, off, peer) if s is not None]
    measurements = Measurements(options, workdir, servers)
    try:
        for server in servers:
            server.wait_ready()
            log(f"{server.name} ready on {server.base_url}, workers {server.worker_pids()}")
        floor = _floor_target(fixtures)
        plan: list[tuple[str, str, HubServer, Target]] = [("floor", "runs", main, floor)]
        if peer is not None and peer_plan is not None:
            phase["peer_parity"] = _peer_parity(peer_plan, peer, main, active, fixtures, bearer)
        for scenario in active:
            target = _target(scenario, fixtures, bearer)
            plan.append((scenario.name, "runs", main, target))
            if off is not None and scenario.compare_off:
                plan.append((scenario.name, "off", off, target))
            if peer is not None and phase["peer_parity"].get(scenario.name, {}).get("same"):
                assert peer_plan is not None
                counterpart = peer_plan.scenarios[scenario.name]
                peer_target = Target(
                    method="POST",
                    path="/graphql",
                    headers={"Content-Type": "application/json"},
                    bodies=counterpart.bodies(fixtures, scenario.document()),
                )
                plan.append((scenario.name, "peer", peer, peer_target))
        with MemorySampler(servers):
            for name, variant, server, target in plan:
                measurements.warm(server, target, f"{name}-{variant}")
            for c in options.concurrency:
                for name, variant, server, target in plan:
                    label = name if variant == "runs" else f"{name} ({variant})"
                    measured = measurements.measure(server, target, f"{label} {workers}w", c)
                    if name == "floor":
                        phase["floor"]["runs"][str(c)] = measured
                    else:
                        phase["scenarios"][name].setdefault(variant, {})[str(c)] = measured
    finally:
        for server in servers:
            server.stop()
    phase["memory"] = {
        "hub": main.memory_report(),
        "hub_off": off.memory_report() if off is not None else None,
        "peer": peer.memory_report() if peer is not None else None,
    }
    phase["server_logs"] = {
        server.name: {
            "lines": server.log_lines(),
            "exceptions": server.log_exceptions(since=0),
            "tail": [line[:LOG_LINE_CHARS] for line in server.log_tail(LOG_TAIL_LINES)],
        }
        for server in servers
    }
    return phase


#: How much of a server's log the results keep.
LOG_TAIL_LINES = 30
#: A logged SQL statement can be megabytes long (an IN list of every id): cut each line.
LOG_LINE_CHARS = 400
#: Logged when wrk closes its connections at the end of a run: not a failure of the hub.
BENIGN_EXCEPTIONS = frozenset({"starlette.requests.ClientDisconnect"})
