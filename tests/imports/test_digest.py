"""The batch digests of `hub.imports.columnar`: what `check_file` groups instead of the file."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl

from hub.imports.columnar import GROUP_COLUMNS, digest, repeated_niks, staged_frame
from hub.imports.validate import StagedRow


def _row(line: int, iddtks: str, nik: str, kk: str = "3273010101200001", **other: str) -> StagedRow:
    return (
        line, iddtks, kk, other.get("kel", "32.73.01.1001"), other.get("kec", "32.73.01"),
        other.get("address", "Jl. Mawar 1"), other.get("rt", "001"), other.get("rw", "002"),
        nik, "Nama", dt.date(1990, 1, 1), "M", "HEAD", None,
    )  # fmt: skip


ROWS = [
    _row(2, "A", "0012345678901234"),
    _row(3, "A", "3273010101900001", address="Jl. Mawar 2"),
    _row(4, "B", "3273010101900002", kk="3273010101200009"),
    _row(5, "A", "0012345678901234"),  # a repeat, leading zeros
    _row(6, "C", "\u0663273010101900003"),  # not ASCII digits: kept as text
    _row(7, "B", "3273010101900002", rt="010"),  # a repeat in another batch
    _row(8, "C", "\u0663273010101900003", kel="32.73.01.1002"),
    _row(9, "D", "3273010101900004", address="Jl. \u00c9"),
    _row(10, "D", "3273010101900005", address="Jl. Z"),
]


def test_the_digests_of_batches_group_to_the_file_s_households_and_repeats() -> None:
    batches = [ROWS[:3], ROWS[3:4], ROWS[4:]]
    digests = [digest(staged_frame(batch)) for batch in batches]
    partials = pl.concat([d.groups for d in digests])
    grouped = partials.group_by("iddtks").agg(
        *((pl.col(c).max() if c.endswith("_last") else pl.col(c).min()) for c in GROUP_COLUMNS[1:])
    )
    whole = {row[0]: row for row in digest(staged_frame(ROWS)).groups.iter_rows()}
    assert {row[0]: row for row in grouped.select(GROUP_COLUMNS).iter_rows()} == whole
    # The least and greatest as bytes compare (COLLATE "C"), per household, by hand.
    by_household: dict[str, list[StagedRow]] = defaultdict(list)
    for row in ROWS:
        by_household[row[1]].append(row)
    for iddtks, rows in by_household.items():
        values = whole[iddtks]
        for at, first, last in ((2, 1, 2), (3, 3, 4), (5, 6, 7), (6, 8, 9), (7, 10, 11)):
            encoded = sorted(r[at].encode() for r in rows)
            assert values[first].encode() == encoded[0]
            assert values[last].encode() == encoded[-1]
        assert values[12] == min(r[0] for r in rows)

    repeats = repeated_niks([d.niks for d in digests], [d.other_niks for d in digests]).sort("nik")
    first: dict[str, list[int]] = defaultdict(list)
    for row in ROWS:
        first[row[8]].append(row[0])
    expected = sorted((nik, min(lines)) for nik, lines in first.items() if len(lines) > 1)
    assert sorted(repeats.iter_rows()) == expected
    assert len(expected) == 3  # leading zeros kept, the text NIK found among the others
