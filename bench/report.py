"""Judging a run against the targets, and writing it down: JSON, and Markdown for the README.

The targets are reported, never asserted: a missed target is a finding, and the profile
beside the results says where the time goes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

#: The concurrency the targets are stated at.
REFERENCE_CONCURRENCY = 10
P99_TARGET_MS = 50.0
FLOOR_SHARE_TARGET = 0.8
OVERHEAD_TARGET = 0.10
RSS_TARGET_MIB = 250.0
#: The hub's throughput over PostGraphile's on the same page, for these scenarios.
PEER_RATIO_TARGET = 1.5
PEER_TARGET_SCENARIOS = ("lks_needs_feed", "lks_needs_feed_count", "opd_needs_city",
                         "opd_citizen_profile")  # fmt: skip
STATS_P50_TARGET_MS = 50.0

README_START = "<!-- results:start (written by python -m bench.run; do not edit by hand) -->"
README_END = "<!-- results:end -->"


def reference_concurrency(levels: list[int]) -> int:
    """The concurrency targets are judged at: 10 when measured, else the nearest below."""
    below = [c for c in levels if c <= REFERENCE_CONCURRENCY]
    return REFERENCE_CONCURRENCY if REFERENCE_CONCURRENCY in levels else max(below or levels)


def _run(result: dict[str, Any], scenario: str, c: int, variant: str = "runs") -> Any:
    return result["scenarios"].get(scenario, {}).get(variant, {}).get(str(c))


def comparisons(result: dict[str, Any]) -> dict[str, Any]:
    """Hub throughput as a share of the floor's, and with authorization and audit on/off."""
    levels = result["settings"]["concurrency"]
    floor = result["floor"]["runs"]
    out: dict[str, Any] = {
        "hub_vs_floor": {},
        "on_vs_off": {},
        "hub_vs_peer": {},
        "by_workers": _by_workers(result),
    }
    for c in levels:
        feed = _run(result, "lks_needs_feed", c)
        base = floor.get(str(c))
        if feed and base and base["requests_per_second"]:
            out["hub_vs_floor"][str(c)] = round(
                feed["requests_per_second"] / base["requests_per_second"], 3
            )
    for name, scenario in result["scenarios"].items():
        if "off" not in scenario:
            continue
        ratios = {}
        for c in levels:
            on, off = _run(result, name, c), _run(result, name, c, "off")
            if on and off and off["requests_per_second"]:
                ratios[str(c)] = {
                    "on_rps": on["requests_per_second"],
                    "off_rps": off["requests_per_second"],
                    "on_over_off": round(on["requests_per_second"] / off["requests_per_second"], 3),
                    "on_p50_ms": on["latency_ms"]["p50"],
                    "off_p50_ms": off["latency_ms"]["p50"],
                }
        out["on_vs_off"][name] = ratios
    for name in result["scenarios"]:
        peer_ratios = {}
        for c in levels:
            hub, peer = _run(result, name, c), _run(result, name, c, "peer")
            if hub and peer and peer["requests_per_second"]:
                peer_ratios[str(c)] = round(
                    hub["requests_per_second"] / peer["requests_per_second"], 3
                )
        if peer_ratios:
            out["hub_vs_peer"][name] = peer_ratios
    return out


def _ratio(numerator: dict[str, Any] | None, denominator: dict[str, Any] | None) -> float | None:
    if not numerator or not denominator or not denominator["requests_per_second"]:
        return None
    return round(numerator["requests_per_second"] / denominator["requests_per_second"], 3)


def _by_workers(result: dict[str, Any]) -> dict[str, Any]:
    """Per worker count, scenario and concurrency: hub / peer and hub / floor."""
    out: dict[str, Any] = {}
    for workers, phase in (result.get("phases") or {}).items():
        floor = phase["floor"]["runs"]
        for name, variants in phase["scenarios"].items():
            for c, hub in variants.get("runs", {}).items():
                out.setdefault(workers, {}).setdefault(name, {})[c] = {
                    "hub_over_peer": _ratio(hub, variants.get("peer", {}).get(c)),
                    "hub_over_floor": _ratio(hub, floor.get(c)),
                }
    return out


def _target(name: str, wanted: str, measured: str, met: bool | None) -> dict[str, Any]:
    return {"target": name, "wanted": wanted, "measured": measured, "met": met}


def _alone_cost(result: dict[str, Any], name: str) -> float | None:
    """How much longer one request takes in process with the layers on than off."""
    on = result["statements_per_request"].get(name, {}).get("ms_per_request")
    off = result["statements_per_request_off"].get(name, {}).get("ms_per_request")
    return None if not on or not off else on / off - 1


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with what was measured and whether it was met (None: not measured)."""
    c = reference_concurrency(result["settings"]["concurrency"])
    found: list[dict[str, Any]] = []
    feed = _run(result, "lks_needs_feed", c)
    p99 = feed["latency_ms"]["p99"] if feed else None
    found.append(
        _target(
            f"lks_needs_feed p99 at concurrency {c}",
            f"< {P99_TARGET_MS:.0f} ms",
            f"{p99} ms" if p99 is not None else "not measured",
            None if p99 is None else p99 < P99_TARGET_MS,
        )
    )
    share = result["comparisons"]["hub_vs_floor"].get(str(c))
    found.append(
        _target(
            f"lks_needs_feed throughput / floor at concurrency {c}",
            f">= {FLOOR_SHARE_TARGET}",
            f"{share}" if share is not None else "not measured",
            None if share is None else share >= FLOOR_SHARE_TARGET,
        )
    )
    for name, ratios in result["comparisons"]["on_vs_off"].items():
        ratio = ratios.get(str(c), {}).get("on_over_off")
        cost = None if ratio is None else round(1 - ratio, 3)
        measured = "not measured" if cost is None else f"{cost:.1%} (on/off {ratio})"
        alone = _alone_cost(result, name)
        if alone is not None:
            measured += f"; one request alone: {alone:+.1%} time"
        differs = result["scenarios"][name].get("off_differs")
        target = _target(
            f"authorization + audit cost, {name}, concurrency {c}",
            f"<= {OVERHEAD_TARGET:.0%} of throughput",
            measured,
            None if cost is None or differs else cost <= OVERHEAD_TARGET,
        )
        if differs and cost is not None:
            target["note"] = f"not comparable: {differs}"
        found.append(target)
    statements = result["statements_per_request"]
    small, large = (
        statements.get(k, {}).get("statements")
        for k in ("lks_needs_feed@first=5", "lks_needs_feed")
    )
    found.append(
        _target(
            "SQL statements per request independent of page size (lks_needs_feed)",
            "first: 5 == first: 50",
            f"{small} vs {large}",
            None if small is None or large is None else small == large,
        )
    )
    for name in PEER_TARGET_SCENARIOS:
        ratio = result["comparisons"]["hub_vs_peer"].get(name, {}).get(str(c))
        found.append(
            _target(
                f"{name} throughput / PostGraphile 5 at concurrency {c}",
                f">= {PEER_RATIO_TARGET}",
                "not measured" if ratio is None else f"{ratio}",
                None if ratio is None else ratio >= PEER_RATIO_TARGET,
            )
        )
    stats = _run(result, "stats", 1)
    stats_p50 = stats["latency_ms"]["p50"] if stats else None
    found.append(
        _target(
            "stats p50 at concurrency 1",
            f"< {STATS_P50_TARGET_MS:.0f} ms",
            "not measured" if stats_p50 is None else f"{stats_p50} ms",
            None if stats_p50 is None else stats_p50 < STATS_P50_TARGET_MS,
        )
    )
    peak = result["memory"]["hub"]["peak_rss_mib_max"]
    found.append(
        _target(
            "peak RSS per worker",
            f"< {RSS_TARGET_MIB:.0f} MiB",
            "not measured" if peak is None else f"{peak} MiB",
            None if peak is None else peak < RSS_TARGET_MIB,
        )
    )
    return found


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write the run's results, indented, keys in insertion order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")


def _verdict(target: dict[str, Any]) -> str:
    if target.get("note"):
        return str(target["note"])
    return {True: "met", False: "**missed**", None: "not measured"}[target["met"]]


def _database_settings(versions: dict[str, Any]) -> str:
    shown = versions.get("database_settings") or {}
    if not shown:
        return ""
    return "(" + ", ".join(f"{k} {v}" for k, v in shown.items()) + "), "


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _server(run: dict[str, Any]) -> str:
    lines = run["errors"].get("server_exception_lines")
    return "-" if lines is None else (str(lines) if lines == 0 else f"**{lines}**")


def _errors(run: dict[str, Any]) -> str:
    errors = run["errors"]
    return str(errors["total"]) if errors["total"] == 0 else f"**{errors['total']}**"


def _statements(measured: dict[str, Any]) -> str | None:
    """`6`, or `6 + 3 audit` when the audit trail's own engine ran statements too."""
    count = measured.get("statements")
    if count is None:
        return None
    audit = measured.get("audit_statements")
    return f"{count} + {audit} audit" if audit else str(count)


def _alone(result: dict[str, Any]) -> list[str]:
    """One request at a time, in process: statements, time, time in SQL; on and off."""
    on, off = result["statements_per_request"], result["statements_per_request_off"]
    rows = [
        "One request alone, in process (median of 5 after a warm-up; SQL is the time spent "
        "in cursor executes):",
        "",
        "| operation | statements | ms | SQL ms | authz + audit off: statements | ms | SQL ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, measured in on.items():
        if "statements" not in measured:
            continue
        other = off.get(name, {})
        rows.append(
            f"| {name} | {_statements(measured)} | {measured.get('ms_per_request', '-')} | "
            f"{measured.get('sql_ms_per_request', '-')} | {_statements(other) or '-'} | "
            f"{other.get('ms_per_request', '-')} | {other.get('sql_ms_per_request', '-')} |"
        )
    return rows


def _rps(run: dict[str, Any] | None) -> str:
    return "-" if not run else f"{run['requests_per_second']:,.1f}"


def _p50(run: dict[str, Any] | None) -> str:
    return "-" if not run else _ms(run["latency_ms"]["p50"])


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _versus(result: dict[str, Any]) -> list[str]:
    """Hub, PostGraphile 5 and the floor side by side, per worker count and concurrency."""
    peer = result.get("peer") or {}
    if peer.get("status") != "ran":
        reason = peer.get("reason", "not part of this run")
        return [f"PostGraphile 5 (the peer) was not measured: {reason}."]
    versions = peer["versions"]
    lines = [
        f"The hub beside PostGraphile {versions['postgraphile']} (Node {versions['node']}, "
        "`bench/peer/`, read-only, as many Node processes as uvicorn workers, the same page "
        "and row rule, checked to return the same records first) and the floor, measured "
        "interleaved (floor, hub, hub off, peer at each level):",
        "",
        "| workers | scenario | c | hub req/s | hub p50 | peer req/s | peer p50 | floor req/s "
        "| hub / peer | hub / floor |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, phase in (result.get("phases") or {}).items():
        floor = phase["floor"]["runs"]
        ratios = result["comparisons"]["by_workers"].get(workers, {})
        for name, variants in phase["scenarios"].items():
            if "peer" not in variants:
                continue
            uses_floor = name == "lks_needs_feed"
            for c, hub in variants.get("runs", {}).items():
                other = variants["peer"].get(c)
                ratio = ratios.get(name, {}).get(c, {})
                lines.append(
                    f"| {workers} | {name} | {c} | {_rps(hub)} | {_p50(hub)} | {_rps(other)} | "
                    f"{_p50(other)} | {_rps(floor.get(c)) if uses_floor else '-'} | "
                    f"{_times(ratio.get('hub_over_peer'))} | "
                    f"{_times(ratio.get('hub_over_floor')) if uses_floor else '-'} |"
                )
    parity = {
        name: checked
        for phase in (result.get("phases") or {}).values()
        for name, checked in (phase.get("peer_parity") or {}).items()
        if not checked.get("same")
    }
    for name, checked in parity.items():
        lines.append(f"\nNot measured on the peer, `{name}`: its answer differed: {checked}.")
    lines += ["", "What the peer does not do that the hub does:", ""]
    lines += [f"- `{name}`: {text}" for name, text in peer.get("differences", {}).items()]
    return lines


def markdown(result: dict[str, Any], results_file: str) -> str:
    """The results section of bench/README.md."""
    machine = result["machine"]
    versions = result["versions"]
    dataset = result["dataset"]
    settings = result["settings"]
    statements = result["statements_per_request"]
    lines = [
        f"Run of {result['started_at'][:10]} ({settings['mode']}, {settings['duration_s']} s "
        f"per measurement): {machine['cores']} cores ({machine['cpu_model']}), "
        f"{machine['memory_mib']:,} MiB, load average before the run "
        f"{' / '.join(str(x) for x in result['load_average_before'])}; "
        f"{dataset['citizens']:,} citizens on {versions['database']}, "
        f"{_database_settings(versions)}"
        f"Python {versions['python']}, {settings.get('primary_workers', settings['workers'])} "
        f"uvicorn workers in the first table (phases: {settings['workers']}), "
        f"commit `{(result['git']['commit'] or '?')[:10]}`"
        f"{' (with uncommitted changes)' if result['git']['dirty'] else ''}. "
        f"Full results: [`{results_file}`]({results_file}).",
        "",
        "| scenario | concurrency | req/s | p50 ms | p95 ms | p99 ms | errors | server exc. "
        "| SQL/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows: list[tuple[str, str, dict[str, Any], Any]] = []
    for name, scenario in result["scenarios"].items():
        if scenario["status"] != "ran":
            continue
        sql = _statements(statements.get(name, {}))
        for c, run in scenario["runs"].items():
            rows.append((name, c, run, sql))
        off_sql = _statements(result["statements_per_request_off"].get(name, {}))
        for c, run in scenario.get("off", {}).items():
            rows.append((f"{name} (authz + audit off)", c, run, off_sql))
        for c, run in scenario.get("peer", {}).items():
            rows.append((f"{name} (PostGraphile 5)", c, run, None))
    for c, run in result["floor"]["runs"].items():
        rows.append(("floor (one SQL query + orjson)", c, run, 1))
    for name, c, run, sql in rows:
        latency = run["latency_ms"]
        shown_sql = "-" if sql is None else str(sql)
        p50, p95, p99 = (_ms(latency[key]) for key in ("p50", "p95", "p99"))
        lines.append(
            f"| {name} | {c} | {run['requests_per_second']:,.1f} | {p50} | {p95} | {p99} | "
            f"{_errors(run)} | {_server(run)} | {shown_sql} |"
        )
    lines += ["", *_versus(result), "", *_alone(result)]
    skipped = [
        f"- `{name}`: {scenario['reason']}"
        for name, scenario in result["scenarios"].items()
        if scenario["status"] != "ran"
    ]
    if skipped:
        lines += ["", "Not measured:", "", *skipped]
    lines += ["", "| target | wanted | measured | verdict |", "|---|---|---|---|"]
    for target in result["targets"]:
        lines.append(
            f"| {target['target']} | {target['wanted']} | {target['measured']} | "
            f"{_verdict(target)} |"
        )
    comparisons_ = result["comparisons"]
    lines += [
        "",
        "Hub throughput as a share of the floor's: "
        + ", ".join(f"{v:.2f} at {c}" for c, v in comparisons_["hub_vs_floor"].items())
        + ".",
    ]
    memory = result["memory"]
    lines.append(
        "Peak resident set per worker (MiB): production server "
        + ", ".join(str(v) for v in memory["hub"]["workers"].values())
        + (
            "; authorization/audit-off server "
            + ", ".join(str(v) for v in memory["hub_off"]["workers"].values())
            if memory.get("hub_off")
            else ""
        )
        + (
            "; PostGraphile " + ", ".join(str(v) for v in memory["peer"]["workers"].values())
            if memory.get("peer")
            else ""
        )
        + "."
    )
    logs = result.get("server_logs") or {}
    for name, summary in logs.items():
        if summary.get("exceptions"):
            counted = ", ".join(f"`{k}` x{v}" for k, v in summary["exceptions"].items())
            lines.append(f"Exceptions in the {name} server's log: {counted}.")
    switches = result["switches"]
    missing = [name for name, honoured in switches.items() if not honoured]
    if missing:
        lines.append(
            f"Switches not (yet) honoured by the hub when this ran: {', '.join(missing)}; the "
            "'off' rows then still had that layer on."
        )
    profile = result.get("profile")
    if profile and profile.get("by_package"):
        packages = ", ".join(f"{p['package']} {p['share']:.0%}" for p in profile["by_package"][:8])
        lines += [
            "",
            f"Profile of `{profile['scenario']}` ({profile['requests']} sequential requests in "
            f"process, {profile['ms_per_request']} ms each, {profile['cpu_ms_per_request']} ms "
            f"CPU): [`{profile['html']}`](results/{profile['html']}), "
            f"[`{profile['text']}`](results/{profile['text']}). Self time by package: "
            f"{packages}.",
        ]
        if profile.get("phases"):
            lines += ["", "| stage of the request (inclusive) | ms per request |", "|---|---:|"]
            lines += [f"| {p['phase']} | {p['ms_per_request']} |" for p in profile["phases"]]
    return "\n".join(lines) + "\n"


def update_readme(readme: Path, section: str) -> None:
    """Replace the results section between the markers of `readme`."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.DOTALL)
    replacement = f"{README_START}\n\n{section}\n{README_END}"
    if not pattern.search(text):
        text = text.rstrip() + "\n\n" + replacement + "\n"
    else:
        text = pattern.sub(lambda _: replacement, text)
    readme.write_text(text)
