"""Households whose rows come in more than one batch: the whole-file checks group only
those again (`Stage._group_households`), and decide as if the file were one batch."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hub.cli.imports import run_import
from hub.imports import columnar, merge, parse
from hub.synthetic.dtks import write_export
from tests.imports.test_dtks import fetch, settings_for
from tests.imports.test_households_refused import households, reasons

ADDRESS, RT = parse.COLUMNS.index("alamat"), parse.COLUMNS.index("rt")


def scattered(path: Path, source: Path) -> set[str]:
    """`source` with the last row of every fifth household of two or more moved to the
    end of the file, a third of those moved rows disagreeing with the rest of theirs;
    returns the DTKS ids of the households made to disagree."""
    header, families = households(source)
    moved: list[list[str]] = []
    disagreeing: set[str] = set()
    for n, (iddtks, rows) in enumerate(item for item in families.items() if len(item[1]) > 1):
        if n % 5:
            continue
        row = rows.pop()
        if n % 3 == 0:
            row[ADDRESS if n % 2 else RT] = "Jl. Pindah No. 9" if n % 2 else "099"
            disagreeing.add(iddtks)
        moved.append(row)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, delimiter="|", lineterminator="\n")
        out.writerow(header)
        for rows in families.values():
            out.writerows(rows)
        out.writerows(moved)
    return disagreeing


async def test_households_split_across_batches_are_checked_as_one(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(empty_database_url, tmp_path)
    source = tmp_path / "source.txt"
    write_export(source, citizens=2_000, seed=12, dirty=0.05)
    path = tmp_path / "scattered.txt"
    disagreeing = scattered(path, source)
    assert len(disagreeing) > 10

    split: list[int] = []
    found = columnar.repeated_households

    def counted(batches: list[Any]) -> Any:
        repeated = found(batches)
        split.append(repeated.len())
        return repeated

    monkeypatch.setattr(columnar, "repeated_households", counted)

    async def dry_run(name: str) -> tuple[bytes, dict[str, Any]]:
        rejects = tmp_path / f"{name}.csv"
        summary = await run_import(settings, path, rejects=rejects, dry_run=True)
        counts = {"households": summary.households, "citizens": summary.citizens}
        return rejects.read_bytes(), {**counts, "rejected": summary.rows_rejected}

    whole = await dry_run("one-batch")
    assert split == [0]  # the file is one batch: no household split
    monkeypatch.setattr(parse, "_COLUMNAR_CHUNK", 8_192)  # about 40 rows a batch
    in_batches = await dry_run("batches")
    assert split[-1] > len(disagreeing)  # every moved household, and those at the edges
    assert in_batches == whole
    monkeypatch.setattr(merge, "_SPLIT_SHARE", 0.0)  # every household grouped again
    assert await dry_run("regrouped") == whole

    # Each household made to disagree is refused whole, most for that (the others
    # already for a dirty row of theirs).
    refused = reasons(tmp_path / "batches.csv")
    _, families = households(path)
    lines: dict[str, list[int]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        lines.setdefault(line.split("|", 1)[0], []).append(number)
    for iddtks in disagreeing:
        assert all(line in refused for line in lines[iddtks]), iddtks
    differ = {i for i in disagreeing if "its rows differ" in refused[lines[i][0]]}
    assert len(differ) > len(disagreeing) * 0.8

    monkeypatch.setattr(merge, "_SPLIT_SHARE", 0.25)
    summary = await run_import(settings, path, rejects=tmp_path / "real.csv", dry_run=False)
    assert (tmp_path / "real.csv").read_bytes() == whole[0]
    [(count, distinct)] = await fetch(
        empty_database_url, text("SELECT count(*), count(DISTINCT dtks_id) FROM households")
    )
    assert count == distinct == summary.households.new == whole[1]["households"].new
    assert summary.households.new < len(families)
