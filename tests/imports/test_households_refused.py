"""Households refused whole for what their rows say together: disagreeing rows, a KK number
two households use (also through a household whose rows disagree), a KK number the hub gives
another household."""

from __future__ import annotations

import csv
from pathlib import Path

from hub.cli.imports import run_import
from hub.imports.parse import COLUMNS
from hub.synthetic.dtks import write_export
from tests.imports.test_dtks import read_rejects, settings_for

KK, ADDRESS = COLUMNS.index("nomor_kk"), COLUMNS.index("alamat")


def households(path: Path) -> tuple[list[str], dict[str, list[list[str]]]]:
    """The header and the rows of each household, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle, delimiter="|"))
    families: dict[str, list[list[str]]] = {}
    for row in rows:
        families.setdefault(row[0], []).append(row)
    return header, families


def write(path: Path, header: list[str], families: dict[str, list[list[str]]]) -> dict[str, int]:
    """Write the households; return the line of each household's first row."""
    first: dict[str, int] = {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, delimiter="|", lineterminator="\n")
        out.writerow(header)
        line = 2
        for iddtks, rows in families.items():
            first[iddtks] = line
            out.writerows(rows)
            line += len(rows)
    return first


def reasons(rejects: Path) -> dict[int, str]:
    """Each refused line's English reason."""
    return {int(row["line"]): row["reason"] for row in read_rejects(rejects)}


async def test_households_refused_for_what_their_rows_say_together(
    empty_database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(empty_database_url, tmp_path)
    clean = tmp_path / "clean.txt"
    write_export(clean, citizens=200, seed=6, dirty=0.0)
    header, families = households(clean)
    big = [i for i, rows in families.items() if len(rows) >= 2]
    inconsistent, shared_a, shared_b, two_kks, shares_second, taken = big[:6]
    families[inconsistent][1][ADDRESS] = "Jl. Lain No. 1"
    for row in families[shared_b]:
        row[KK] = families[shared_a][0][KK]
    families[two_kks][1][KK] = families[shares_second][0][KK]
    first = tmp_path / "first.txt"
    lines = write(first, header, families)
    summary = await run_import(settings, first, rejects=tmp_path / "r1.csv", dry_run=False)

    refused = reasons(tmp_path / "r1.csv")
    expected = {
        inconsistent: "its rows differ",
        shared_a: "also used by another IDDTKS",
        shared_b: "also used by another IDDTKS",
        two_kks: "its rows differ",  # and its second KK number is another's
        shares_second: "also used by another IDDTKS",
    }
    for iddtks, reason in expected.items():
        for line in range(lines[iddtks], lines[iddtks] + len(families[iddtks])):
            assert reason in refused.pop(line), (iddtks, line)
    assert refused == {}
    assert summary.rows_rejected == sum(len(families[i]) for i in expected)
    assert summary.households.new == len(families) - len(expected)

    # Next month `taken` is gone and another household carries its KK number, which the
    # hub still gives `taken`: that household is refused whole; the rest import cleanly.
    header, families = households(clean)
    taken_kk = families[taken][0][KK]
    del families[taken]
    receiver = big[6]
    for row in families[receiver]:
        row[KK] = taken_kk
    second = tmp_path / "second.txt"
    lines = write(second, header, families)
    applied = await run_import(settings, second, rejects=tmp_path / "r2.csv", dry_run=False)
    refused = reasons(tmp_path / "r2.csv")
    span = range(lines[receiver], lines[receiver] + len(families[receiver]))
    assert sorted(refused) == list(span)
    assert all("belongs to another household in the hub" in r for r in refused.values())
    assert applied.households.delisted == 1  # `taken`
    # The households refused last month are new now, all but the one still refused.
    assert applied.households.new == len(expected)
