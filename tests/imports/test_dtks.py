"""`hub import dtks` on a generated dirty export: counts, rejects, fuzzy matches, next month."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hub.audit.models import AuditEventRecord
from hub.cli.imports import run_import
from hub.db import create_engine
from hub.imports.errors import ImportErrorCode, ImportFileError
from hub.imports.models import DtksImport
from hub.registry.models import Citizen, CitizenHouseholdHistory, Household, HouseholdKkNumber
from hub.settings import Settings
from hub.synthetic.dtks import ExportSummary, write_export, write_next_month


def settings_for(url: str, tmp_path: Path) -> Settings:
    """The hub's settings for `url`, keys kept under the test's own directory."""
    settings = Settings.from_env({"HUB_VAR_DIR": str(tmp_path / "var")})
    return settings.model_copy(update={"database_url": url})


def read_rejects(path: Path) -> list[dict[str, str]]:
    """The rejects file's rows as dictionaries."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return rows


async def fetch(url: str, statement: Any) -> list[Any]:
    """All rows of `statement` on the database at `url`."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(statement)).all())
    finally:
        await engine.dispose()


def check_rejects(rejects: list[dict[str, str]], export: ExportSummary) -> None:
    """Every refused row is on file, each defect with its own reason, nothing else."""
    by_line: dict[int, list[dict[str, str]]] = {}
    for row in rejects:
        by_line.setdefault(int(row["line"]), []).append(row)
    assert set(by_line) == set(export.refused_household_lines)
    expected = {
        "BAD_NIK_DATE": ("nomor_nik", "do not match the birth date"),
        "DUPLICATE_NIK": ("nomor_nik", "already listed at line"),
        "MISSING_RT": ("rt", "RT missing"),
        "OUTSIDE_CITY": ("kabupaten_kota", "outside Kota Bandung"),
    }
    defect_lines = set()
    for defect, (column, reason) in expected.items():
        for line in export.lines(defect):
            defect_lines.add(line)
            (row,) = by_line[line]
            assert row["column"] == column, (defect, row)
            assert reason in row["reason"], (defect, row)
            assert row["alasan"] and row["alasan"] != row["reason"]
    for line in set(by_line) - defect_lines:
        (row,) = by_line[line]
        assert row["column"] == "iddtks"
        assert "household refused whole" in row["reason"]
        assert "keluarga ditolak utuh" in row["alasan"]


@pytest.mark.slow
async def test_dirty_export_then_same_file_then_next_month(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    settings = settings_for(url, tmp_path)
    first = tmp_path / "dtks-2026-11.txt"
    export = write_export(first, citizens=1500, seed=11, dirty=0.05)
    for defect in ("BAD_NIK_DATE", "DUPLICATE_NIK", "MISSING_RT", "OUTSIDE_CITY"):
        assert export.lines(defect), f"the generator made no {defect} row"
    assert export.misspellings

    rejects = tmp_path / "rejects-1.csv"
    summary = await run_import(settings, first, rejects=rejects, dry_run=False)
    refused = set(export.refused_household_lines)
    assert summary.rows_read == export.rows
    assert summary.rows_rejected == len(refused)
    assert summary.rows_accepted == export.rows - len(refused)
    assert summary.citizens.new == summary.rows_accepted
    assert summary.citizens.changed == summary.citizens.delisted == 0
    check_rejects(read_rejects(rejects), export)
    # Each misspelt kelurahan was matched by similarity to the kelurahan it stands for.
    decisions = {d.text: d.code for d in summary.fuzzy}
    assert decisions == export.misspellings
    assert sum(d.rows for d in summary.fuzzy) == len(export.lines("MISSPELT_KELURAHAN"))
    assert all(85 <= d.score < 100 for d in summary.fuzzy)
    (households,) = (await fetch(url, select(func.count()).select_from(Household)))[0]
    assert households == summary.households.new
    # No household is half imported: every household in the registry has all its rows.
    listed = await fetch(
        url,
        select(Household.dtks_id, func.count(Citizen.id))
        .join(Citizen, Citizen.household_id == Household.id)
        .group_by(Household.dtks_id),
    )
    with first.open(encoding="utf-8") as handle:
        rows_per_household: dict[str, int] = {}
        for row in csv.reader(handle, delimiter="|"):
            rows_per_household[row[0]] = rows_per_household.get(row[0], 0) + 1
    assert all(rows_per_household[dtks_id] == count for dtks_id, count in listed)
    events = await fetch(
        url, select(AuditEventRecord).where(AuditEventRecord.operation_name == "import dtks")
    )
    assert len(events) == 1
    assert events[0].kind == "ADMIN"
    assert events[0].client_id.startswith("cli:")
    assert events[0].variables["sha256"] == summary.sha256
    assert events[0].variables["rows"]["rejected"] == summary.rows_rejected

    # The same file again changes nothing.
    again = await run_import(settings, first, rejects=tmp_path / "rejects-2.csv", dry_run=False)
    assert again.previous_imports and again.previous_imports[0][0] == summary.import_id
    assert (again.households.new, again.households.changed, again.households.delisted) == (0, 0, 0)
    assert (again.citizens.new, again.citizens.changed, again.citizens.delisted) == (0, 0, 0)
    assert again.citizens.unchanged == summary.citizens.new
    (top,) = (await fetch(url, select(func.max(Citizen.version))))[0]
    assert top == 1

    # Next month (at 6 % rather than the usual 2 %, so that a small file has every change).
    second = tmp_path / "dtks-2026-12.txt"
    month = write_next_month(first, second, seed=5, change=0.06, untouched=refused)
    assert month.moved and month.delisted and month.new and month.readdressed and month.rekeyed
    dry = await run_import(settings, second, rejects=tmp_path / "rejects-3.csv", dry_run=True)
    (imports,) = (await fetch(url, select(func.count()).select_from(DtksImport)))[0]
    assert imports == 2  # the dry run left no trace
    applied = await run_import(settings, second, rejects=tmp_path / "rejects-4.csv", dry_run=False)
    for result in (dry, applied):
        assert result.households.new == month.changes["split"]
        assert result.households.changed == len(month.readdressed) + len(month.rekeyed)
        assert result.households.delisted == month.changes["household_delisted"]
        assert result.citizens.new == len(month.new)
        assert result.citizens.moved == result.citizens.changed == len(month.moved)
        assert result.citizens.delisted == len(month.delisted)

    # A citizen who moved to another KK keeps the household they left.
    nik, (left, joined) = next(iter(month.moved.items()))
    (citizen,) = await fetch(url, select(Citizen).where(Citizen.nik == nik))
    (now_in,) = await fetch(
        url, select(Household.dtks_id).where(Household.id == citizen.household_id)
    )
    assert now_in[0] == joined
    assert citizen.version == 2 and citizen.changed_via == "IMPORT"
    assert "household" in citizen.changed_fields.split()
    assert citizen.changed_by_import_id == applied.import_id
    history = await fetch(
        url,
        select(CitizenHouseholdHistory.household_id, Household.dtks_id)
        .join(Household, Household.id == CitizenHouseholdHistory.household_id)
        .where(CitizenHouseholdHistory.citizen_id == citizen.id),
    )
    assert [dtks_id for _, dtks_id in history] == [left]
    # A household issued a new KK number keeps the old one, closed, in its KK history.
    (rekeyed,) = await fetch(url, select(Household).where(Household.dtks_id == month.rekeyed[0]))
    assert rekeyed.changed_fields == "kkNumber" and rekeyed.version == 2
    numbers = await fetch(
        url,
        select(HouseholdKkNumber.kk_number, HouseholdKkNumber.valid_until)
        .where(HouseholdKkNumber.household_id == rekeyed.id)
        .order_by(HouseholdKkNumber.valid_from, HouseholdKkNumber.valid_until.is_(None)),
    )
    assert [kk for kk, _ in numbers][-1] == rekeyed.kk_number
    assert len(numbers) == 2 and numbers[0][1] is not None and numbers[1][1] is None
    gone = await fetch(
        url, select(Citizen.dtks_listed, Citizen.delisted_on).where(Citizen.nik.in_(month.delisted))
    )
    assert len(gone) == len(month.delisted)
    assert all(not listed and on is not None for listed, on in gone)


async def test_formats_and_header_spellings_give_the_same_rows(
    empty_database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(empty_database_url, tmp_path)
    pipe = tmp_path / "export.txt"
    write_export(pipe, citizens=300, seed=4, dirty=0.0)
    with pipe.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="|"))
    header = [name.replace("_", " ").upper() for name in rows[0]]  # `NOMOR NIK`
    comma, semicolon = tmp_path / "export.csv", tmp_path / "export-semicolon.csv"
    for path, delimiter in ((comma, ","), (semicolon, ";")):
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, delimiter=delimiter).writerows([header, *rows[1:]])
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows[1:]:
        sheet.append(row)
    book = tmp_path / "export.xlsx"
    workbook.save(book)

    formats = {}
    for path in (pipe, comma, semicolon, book):
        result = await run_import(settings, path, rejects=tmp_path / "r.csv", dry_run=True)
        formats[result.format] = (result.rows_read, result.rows_accepted, result.citizens.new)
    assert set(formats) == {"pipe", "comma", "semicolon", "xlsx"}
    assert len(set(formats.values())) == 1
    assert formats["pipe"] == (len(rows) - 1, len(rows) - 1, len(rows) - 1)


async def test_a_missing_column_refuses_the_file_before_writing(
    empty_database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(empty_database_url, tmp_path)
    export = tmp_path / "export.txt"
    write_export(export, citizens=50, seed=2, dirty=0.0)
    lines = export.read_text(encoding="utf-8").splitlines()
    cut = lines[0].split("|").index("nomor_kk")
    broken = tmp_path / "broken.txt"
    broken.write_text(
        "\n".join("|".join(v for i, v in enumerate(line.split("|")) if i != cut) for line in lines),
        encoding="utf-8",
    )
    with pytest.raises(ImportFileError, match="no column nomor_kk") as refused:
        await run_import(settings, broken, rejects=tmp_path / "r.csv", dry_run=False)
    assert refused.value.code is ImportErrorCode.MISSING_COLUMN
    counts = await fetch(
        empty_database_url,
        text(
            "SELECT (SELECT count(*) FROM dtks_imports), (SELECT count(*) FROM households), "
            "(SELECT count(*) FROM audit_events)"
        ),
    )
    assert tuple(counts[0]) == (0, 0, 0)
