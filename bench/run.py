"""Benchmark the hub at city scale, against its own floor, in one run.

    .venv/bin/python -m bench.run                      # 2.6M citizens on PostgreSQL, 15 s each
    .venv/bin/python -m bench.run --quick --citizens 20000
    .venv/bin/python -m bench.run --database-url sqlite+aiosqlite:///var/bench.db --citizens 300

Steps: build, resume or reuse the city (`bench.dataset`); create the benchmark clients and
pick the scenarios' parameters (`bench.fixtures`); count SQL statements per request in
process (`bench.inprocess`) and profile the feed (`bench.profiling`); then, once per worker
count (`--workers 1,2`), start the hub as production runs it (uvicorn, HUB_ENV=production, a
signing key made for the run), a second one with authorization and audit switched off, and
the peer, PostGraphile 5 (`bench.peer`, when Node and its packages are there), check that
the peer returns the hub's records, and drive them all, and the floor, with wrk at each
concurrency, interleaved so that drift on the machine hits all alike; write the results as
JSON under bench/results/ and a table into bench/README.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench import dataset, environment, peer, plans, profiling, report
from bench.campaign import PeerPlan, load_phase
from bench.fixtures import Fixtures, prepare_fixtures
from bench.inprocess import measure_in_process
from bench.load import INSTALL_HINT, LoadError, wrk_path
from bench.options import BENCH_DIR, Options, log, parse
from bench.peer import PEER_SCENARIOS
from bench.scenarios import FEED_SMALL_PAGE, LKS_NEEDS_FEED, Scenario, by_name
from bench.servers import Ports, ServerError, free_port
from hub.auth.keys import FileKeyStore
from hub.edge.settings import DEFAULT_ROLE_RATE_LIMITS
from hub.graphql.schema import build_schema
from hub.settings import Settings, SettingsError

#: The variables that switch layers off on the comparison server (development only).
OFF_SWITCHES = {"HUB_AUTHORIZATION": "off", "HUB_AUDIT": "off"}
#: An allowance no benchmark reaches (`--edge-limits`).
OUT_OF_REACH = "1000000000/10 seconds"


def _secret_files(workdir: Path) -> dict[str, str]:
    """Key files made for this run: the token signing key, and the audit trail's secrets."""
    signing = workdir / "signing-key.pem"
    FileKeyStore(signing, create=True).load()
    env = {"HUB_SIGNING_KEY_FILE": str(signing)}
    try:
        from hub.audit.keys import FileAuditKeyStore, FilePepperStore
    except ImportError:  # the audit trail is not part of this checkout
        return env
    FileAuditKeyStore(workdir / "audit-key.pem", create=True).load()
    FilePepperStore(workdir / "audit-pepper", create=True).load()
    env["HUB_AUDIT_KEY_FILE"] = str(workdir / "audit-key.pem")
    env["HUB_AUDIT_PEPPER_FILE"] = str(workdir / "audit-pepper")
    return env


def _plans(options: Options, fixtures: Fixtures) -> dict[str, Any]:
    """EXPLAIN ANALYZE of every SELECT the read scenarios run (bench.plans), written beside
    the results; PostgreSQL only, and not in a quick run."""
    if options.quick or dataset.backend(options.database_url) != "postgresql":
        return {"skipped": "quick run or not PostgreSQL"}
    log("explaining every SELECT of the read scenarios (bench.plans)")
    checks = asyncio.run(plans.check_plans(options.database_url, fixtures=fixtures))
    plans.write_plans(checks, options.results_dir / "plans")
    failed = [f"{c.name}: {'; '.join(c.problems)}" for c in checks if not c.ok]
    for line in failed:
        log(f"warning: plan check failed: {line}")
    return {"statements": len(checks), "failed": failed, "directory": "plans/"}


def _honoured(env: Mapping[str, str], name: str, value: str) -> bool:
    """Whether setting `name=value` changes any settings object the hub reads."""
    readers: list[Callable[[Mapping[str, str]], object]] = [Settings.from_env]
    try:
        from hub.audit.settings import AuditSettings

        readers.append(AuditSettings.from_env)
    except ImportError:
        pass
    changed = {**env, name: value}
    for read in readers:
        try:
            if read(env) != read(changed):
                return True
        except SettingsError:
            continue
    return False


async def _prepare(options: Options) -> tuple[dataset.City, Fixtures]:
    city = await dataset.ensure_city(
        options.database_url, citizens=options.citizens, reseed=options.reseed, log=log
    )
    fixtures = await prepare_fixtures(options.database_url)
    log(
        f"fixtures: foundation {fixtures.foundation['code']} "
        f"({fixtures.foundation['open_needs_in_area']} open needs in its area), "
        f"{len(fixtures.niks)} NIKs, {len(fixtures.pledged)} pledged needs"
    )
    return city, fixtures


def run(options: Options) -> dict[str, Any]:
    """The whole benchmark; returns the results (also written to disk)."""
    if wrk_path() is None:
        raise LoadError(INSTALL_HINT)
    started = dt.datetime.now(dt.UTC)
    load_before = [round(x, 2) for x in os.getloadavg()]
    city, fixtures = asyncio.run(_prepare(options))
    return _measure(options, city, fixtures, started, load_before)


def _measure(
    options: Options,
    city: dataset.City,
    fixtures: Fixtures,
    started: dt.datetime,
    load_before: list[float],
) -> dict[str, Any]:
    """Everything after the dataset: in-process counts, the profile, the load phase."""
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as directory:
        workdir = Path(directory)
        port_issuer = f"http://127.0.0.1:{free_port()}"
        env = {
            "HUB_DATABASE_URL": options.database_url,
            "HUB_ENV": "production",
            "HUB_ISSUER": port_issuer,
            "HUB_VAR_DIR": str(workdir / "var"),
            "HUB_LOG_LEVEL": "warning",
            # The per-client cost limits (hub.edge) would answer most of the benchmark's
            # requests with 429 within a second: the run measures serving, not refusing.
            # `--edge-limits` keeps the limits' machinery (slots, fair turns) and puts the
            # allowances out of reach instead, to measure what that machinery costs.
            **(
                {
                    "HUB_RATE_LIMITS": "on",
                    "HUB_RATE_LIMIT": OUT_OF_REACH,
                    # The floor's route takes no token: limited per address.
                    "HUB_ANONYMOUS_RATE_LIMIT": OUT_OF_REACH,
                    "HUB_ROLE_RATE_LIMITS": json.dumps(
                        dict.fromkeys(DEFAULT_ROLE_RATE_LIMITS, OUT_OF_REACH)
                    ),
                    # Unpaced: one benchmark client stands for many partners.
                    "HUB_CLIENT_RATE": "0",
                }
                if options.edge_limits
                else {"HUB_RATE_LIMITS": "off"}
            ),
            # At city scale the seeded pledges have all lapsed (the city is generated as of
            # 2026-11-01): the first sweep would end 45,088 of them in every worker, ~45 s
            # of writing inside the measurements. Off.
            "HUB_PLEDGE_SWEEP_SECONDS": "0",
            **_secret_files(workdir),
        }
        # Authorization off is refused in production: the comparison server runs as
        # development, which only differs in serving GraphiQL to browsers.
        dev_env = {**env, "HUB_ENV": "development"}
        switches = {name: _honoured(dev_env, name, value) for name, value in OFF_SWITCHES.items()}
        for name, honoured in switches.items():
            if not honoured:
                log(f"note: {name}=off is not honoured by this hub yet; measuring anyway")
        schema = build_schema(Settings.from_env(env))._schema
        scenarios = by_name(options.scenarios)
        result: dict[str, Any] = {
            "format": 1,
            "started_at": started.isoformat(timespec="seconds"),
            "load_average_before": load_before,
            "settings": {
                "mode": "quick" if options.quick else "full",
                "duration_s": options.duration,
                "warmup_s": options.warmup,
                "concurrency": options.concurrency,
                "workers": options.workers,
                "port_base": options.port_base,
                "server": "uvicorn --factory bench.server:create_bench_app, no access log",
                "hub_env": {k: v for k, v in env.items() if not k.endswith("_FILE")},
                "off_env": {**OFF_SWITCHES, "HUB_ENV": "development"},
                "load_generator": "wrk, 1 thread, bench/graphql.lua",
            },
            "machine": environment.machine(),
            "versions": asyncio.run(environment.versions(options.database_url)),
            "git": environment.git_commit(),
            "dataset": {
                "backend": dataset.backend(city.url),
                "database": city.url.rsplit("/", 1)[-1],
                "citizens": city.citizens,
                "seed": dataset.CITY_SEED,
                "origin": city.origin,
                "seed_seconds": round(city.seed_seconds, 1),
            },
            "fixtures": fixtures.summary(),
            "switches": switches,
            "scenarios": {},
            "floor": {"runs": {}},
        }
        active = []
        for scenario in scenarios:
            reason = scenario.skip_reason(schema, fixtures)
            entry: dict[str, Any] = {
                "summary": scenario.summary,
                "off_differs": scenario.off_differs if scenario.compare_off else None,
                "role": scenario.role,
                "purpose": scenario.purpose,
                "operation": f"schema/operations/{scenario.name}.graphql",
            }
            if reason:
                log(f"{scenario.name}: {reason}")
                entry.update(status="skipped", reason=reason)
            else:
                entry.update(status="ran", runs={})
                active.append(scenario)
            result["scenarios"][scenario.name] = entry
        log("counting SQL statements per request in process")
        result["statements_per_request"] = asyncio.run(
            measure_in_process(env, fixtures, active, FEED_SMALL_PAGE)
        )
        off_env = {**dev_env, **OFF_SWITCHES}
        compare = options.compare and any(s.compare_off for s in active)
        result["statements_per_request_off"] = (
            asyncio.run(
                measure_in_process(
                    off_env,
                    fixtures,
                    [s for s in active if s.compare_off],
                    FEED_SMALL_PAGE,
                    check_floor=False,
                )
            )
            if compare
            else {}
        )
        result["plans"] = _plans(options, fixtures)
        parity = result["statements_per_request"].get("floor_parity")
        if parity and not parity["same_nodes_as_hub"]:
            log(f"warning: the floor's page differs from the hub's: {parity['difference']}")
        if options.profile_requests > 0 and LKS_NEEDS_FEED in active:
            if profiling.available():
                log(f"profiling {options.profile_requests} requests of lks_needs_feed")
                result["profile"] = profiling.profile_scenario(
                    env,
                    fixtures,
                    LKS_NEEDS_FEED,
                    requests=options.profile_requests,
                    out_dir=options.results_dir,
                )
            else:
                log("profile skipped: pyinstrument is not installed (pip install pyinstrument)")
                result["profile"] = {"skipped": "pyinstrument is not installed"}
        peer_plan = _peer_plan(options, active, result)
        log(
            f"load: {options.duration} s per measurement at concurrency {options.concurrency}, "
            f"workers {options.workers}"
        )
        ports = Ports(options.port_base)
        result["phases"] = {}
        for workers in options.workers:
            result["phases"][str(workers)] = load_phase(
                options,
                workdir,
                env,
                off_env if compare else None,
                active,
                fixtures,
                workers=workers,
                ports=ports,
                peer_plan=peer_plan,
            )
        _adopt_primary_phase(result, options.primary_workers)
    result["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["comparisons"] = report.comparisons(result)
    result["targets"] = report.targets(result)
    return result


def _peer_plan(options: Options, active: list[Scenario], result: dict[str, Any]) -> PeerPlan | None:
    """The peer's part of the run, or None (and why, in `result["peer"]`)."""
    answered = {s.name: PEER_SCENARIOS[s.name] for s in active if s.name in PEER_SCENARIOS}
    reason = None if options.peer else "not asked for (--no-peer)"
    reason = reason or peer.unavailable(options.database_url)
    if reason is None and not answered:
        reason = "none of the chosen scenarios has a peer document"
    if reason is not None:
        log(f"peer (PostGraphile 5) skipped: {reason}")
        result["peer"] = {"status": "skipped", "reason": reason}
        return None
    result["peer"] = {
        "status": "ran",
        "versions": peer.versions(),
        "server": "node bench/peer/server.mjs (node:cluster, SCHED_NONE: workers accept on one "
        "port), read-only connections, pool of 20 per process",
        "differences": {name: s.difference for name, s in answered.items()},
    }
    return PeerPlan(database_url=options.database_url, scenarios=answered)


def _adopt_primary_phase(result: dict[str, Any], workers: int) -> None:
    """The main table and the targets describe the phase with `workers` processes."""
    phase = result["phases"][str(workers)]
    result["settings"]["primary_workers"] = workers
    result["floor"] = phase["floor"]
    for name, runs in phase["scenarios"].items():
        result["scenarios"][name].update(runs)
    result["memory"] = phase["memory"]
    result["server_logs"] = phase["server_logs"]


def main(argv: list[str] | None = None) -> int:
    """Run, write the results, print the table; exit 2 when wrk is missing."""
    options = parse(argv)
    options.results_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = run(options)
    except LoadError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except ServerError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 3
    except dataset.DatasetError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    stamp = result["started_at"].replace(":", "").replace("-", "")[:15]
    name = f"hub_{stamp}_{result['dataset']['citizens']}.json"
    path = options.results_dir / name
    report.write_json(result, path)
    section = report.markdown(result, f"results/{name}")
    if options.readme:
        report.update_readme(BENCH_DIR / "README.md", section)
    print(section)
    log(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
