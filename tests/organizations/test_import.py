"""`hub orgs import`: Dinsos's list of organisations, validated line by line, all or
nothing, idempotent, and recorded as an ADMIN event; the seeds in partners/registry/."""

from __future__ import annotations

import asyncio
import csv
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from hub.audit.models import AuditEventRecord
from hub.cli import orgs
from hub.db import create_engine
from hub.organizations.models import Organization, OrganizationArea, OrganizationCategory
from hub.organizations.reference import STANDING_ORGANIZATIONS

ROOT = Path(__file__).resolve().parents[2]
LKS_SAMPLE = ROOT / "partners" / "registry" / "lks.sample.csv"
OPD = ROOT / "partners" / "registry" / "opd.csv"
runner = CliRunner(env={"COLUMNS": "200", "HUB_VAR_DIR": tempfile.mkdtemp(prefix="hub-cli-")})


def _import(database_url: str, path: Path, *options: str) -> Any:
    return runner.invoke(orgs.app, ["import", str(path), *options, "--database-url", database_url])


def _state(database_url: str) -> dict[str, Any]:
    """Every organisation with its status and scope, and the ADMIN events, as stored."""

    async def read() -> dict[str, Any]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                orgs_ = {
                    row.code: [row.kind, row.name, row.registration_number, row.status]
                    for row in await connection.execute(select(Organization))
                }
                codes = {
                    row.id: row.code
                    for row in await connection.execute(select(Organization.id, Organization.code))
                }
                for org_id, category in await connection.execute(
                    select(OrganizationCategory.organization_id, OrganizationCategory.category_code)
                ):
                    orgs_[codes[org_id]].append(category)
                for org_id, kecamatan in await connection.execute(
                    select(OrganizationArea.organization_id, OrganizationArea.kecamatan_code)
                ):
                    orgs_[codes[org_id]].append(kecamatan)
                events = [
                    (row.operation_name, row.variables)
                    for row in await connection.execute(
                        select(AuditEventRecord.operation_name, AuditEventRecord.variables)
                        .where(AuditEventRecord.kind == "ADMIN")
                        .order_by(AuditEventRecord.seq)
                    )
                ]
        finally:
            await engine.dispose()
        return {"orgs": {code: sorted(map(str, v)) for code, v in orgs_.items()}, "events": events}

    result: dict[str, Any] = asyncio.run(read())
    return result


def test_importing_the_sample_twice_creates_once(empty_database_url: str) -> None:
    before = _state(empty_database_url)
    first = _import(empty_database_url, LKS_SAMPLE)
    assert first.exit_code == 0, first.output
    assert "lks.sample.csv: 12 created, 0 updated, 0 unchanged" in first.output
    after_first = _state(empty_database_url)
    added = set(after_first["orgs"]) - set(before["orgs"])
    assert len(added) == 12 and all(code.startswith("LKS-CONTOH-") for code in added)
    one = after_first["orgs"]["LKS-CONTOH-01"]
    # Pending until Dinsos approves, with the categories and kecamatan of its line.
    assert {"PENDING", "LKS", "CONTOH/LKS/001/2026", "PPKS_LANSIA_TERLANTAR", "32.73.12"} <= set(
        one
    )

    second = _import(empty_database_url, LKS_SAMPLE)
    assert second.exit_code == 0, second.output
    assert "0 created, 0 updated, 12 unchanged" in second.output
    after_second = _state(empty_database_url)
    assert after_second["orgs"] == after_first["orgs"]
    # Each import is an ADMIN event saying what it did, the one that changed nothing too.
    events = after_second["events"][len(before["events"]) :]
    assert [name for name, _ in events] == ["orgs import", "orgs import"]
    assert events[0][1]["created"] == sorted(added) and events[0][1]["rows"] == 12
    assert events[1][1]["created"] == [] and events[1][1]["unchanged"] == 12


def test_the_standing_agencies_list_matches_the_reference_data(empty_database_url: str) -> None:
    with OPD.open(newline="") as f:
        listed = {row["code"]: row for row in csv.DictReader(f)}
    standing = {code: (name, domains) for code, kind, name, domains in STANDING_ORGANIZATIONS}
    assert set(listed) == {c for c, kind, _, _ in STANDING_ORGANIZATIONS if kind == "OPD"}
    for code, row in listed.items():
        assert row["name"] == standing[code][0]
        assert set(row["categories"].split(";")) == set(standing[code][1])
    # Every hub has them from its first migration: importing the list changes nothing.
    before = _state(empty_database_url)["orgs"]
    done = _import(empty_database_url, OPD)
    assert done.exit_code == 0, done.output
    assert f"0 created, 0 updated, {len(listed)} unchanged" in done.output
    assert _state(empty_database_url)["orgs"] == before


def test_a_bad_line_is_refused_with_its_number_and_nothing_is_written(
    empty_database_url: str, tmp_path: Path
) -> None:
    lines = LKS_SAMPLE.read_text().splitlines()
    # The file's line 6 (the second foundation) gets a kind the hub does not know, line 8
    # a second copy of line 5's code.
    assert lines[5].startswith("LKS-CONTOH-02,LKS,")
    lines[5] = lines[5].replace(",LKS,", ",YAYASAN,", 1)
    lines[7] = lines[7].replace("LKS-CONTOH-04", "LKS-CONTOH-01", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    before = _state(empty_database_url)

    refused = _import(empty_database_url, bad)
    assert refused.exit_code == 1
    assert "line 6: INVALID_INPUT: the kind 'YAYASAN' must be one of OPD, LKS, AUDITOR" in (
        refused.output
    )
    assert "line 8: DUPLICATE_ROW: LKS-CONTOH-01 is already on line 5" in refused.output
    assert "nothing was imported; 2 problem(s)" in refused.output
    assert _state(empty_database_url) == before  # no organisation, no event

    # What only the database can tell: an unknown kecamatan, a number someone else holds.
    lines = LKS_SAMPLE.read_text().splitlines()
    lines[6] = lines[6].replace("32.73.16", "32.73.99", 1)
    lines[7] = lines[7].replace("CONTOH/LKS/004/2026", "REG-DINSOS", 1)
    bad.write_text("\n".join(lines) + "\n")
    assert _import(empty_database_url, OPD).exit_code == 0
    taken = tmp_path / "taken.csv"
    taken.write_text("code,kind,name,registration_number\nLKS-LAIN,LKS,Yayasan Lain,REG-DINSOS\n")
    assert _import(empty_database_url, taken).exit_code == 0
    before = _state(empty_database_url)
    refused = _import(empty_database_url, bad)
    assert refused.exit_code == 1
    assert "line 7: UNKNOWN_KECAMATAN: unknown kecamatan codes 32.73.99" in refused.output
    assert "line 8: ALREADY_EXISTS: the registration number REG-DINSOS belongs to LKS-LAIN" in (
        refused.output
    )
    assert _state(empty_database_url) == before


def test_a_changed_line_updates_only_that_organisation(
    empty_database_url: str, tmp_path: Path
) -> None:
    assert _import(empty_database_url, LKS_SAMPLE, "--approve").exit_code == 0
    assert "ACTIVE" in _state(empty_database_url)["orgs"]["LKS-CONTOH-03"]
    assert (
        runner.invoke(
            orgs.app, ["suspend", "LKS-CONTOH-03", "--database-url", empty_database_url]
        ).exit_code
        == 0
    )
    lines = LKS_SAMPLE.read_text().splitlines()
    lines[6] = lines[6].replace("32.73.16;32.73.20;32.73.24", "32.73.16", 1)
    changed = tmp_path / "changed.csv"
    changed.write_text("\n".join(lines) + "\n")
    done = _import(empty_database_url, changed, "--approve")
    assert done.exit_code == 0, done.output
    assert "0 created, 1 updated, 11 unchanged" in done.output
    after = _state(empty_database_url)["orgs"]["LKS-CONTOH-03"]
    assert "32.73.16" in after and "32.73.20" not in after
    assert "SUSPENDED" in after  # an import never lifts a suspension


def test_a_header_it_does_not_know_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("# a comment\ncode,type,name\nLKS-X,LKS,Yayasan X\n")
    refused = _import(empty_database_url, bad)
    assert refused.exit_code == 1
    assert "line 2: INVALID_HEADER" in refused.output and "unknown: type" in refused.output
