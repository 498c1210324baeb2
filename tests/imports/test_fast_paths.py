"""The import's fast paths give exactly what the plain ones give.

`open_export` splits whole chunks of plain lines with `str.split` and hands anything else to
the csv module; `RowValidator.check` remembers what codes, dates and region names decided.
Both are compared here with the plain way on files built to hit every branch, with chunks
small enough that records straddle them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import Any

import pytest

from hub.imports import parse
from hub.imports.parse import COLUMNS, EXTRA, _positions, _text, open_export
from hub.imports.regions import RegionResolver
from hub.imports.validate import RowValidator
from hub.regions.reference import bandung_regions, region_aliases
from hub.synthetic.dtks import write_export


def plain_rows(path: Path) -> list[tuple[int, tuple[str, ...]]]:
    """The rows as the importer read them before its fast path: the csv module, line by line."""
    with path.open(encoding="utf-8-sig", newline="") as text:
        sample = text.read(64 * 1024)
        text.seek(0)
        delimiter = parse._delimiter(sample)
        lines = csv.reader(text, delimiter=delimiter)
        header = next(lines)
        positions = _positions(header)
        width = len(header)
        pick = itemgetter(*positions)
        out = []
        for raw in lines:
            if len(raw) == width:
                out.append((lines.line_num, tuple(map(str.strip, pick(raw)))))
                continue
            if not any(raw):
                continue
            cells = [_text(cell) for cell in raw]
            picked = tuple(cells[i] if i < len(cells) else "" for i in positions)
            if len(cells) > width and any(cells[width:]):
                picked = (*picked, EXTRA)
            out.append((lines.line_num, picked))
        return out


def fast_rows(path: Path) -> list[tuple[int, tuple[str, ...]]]:
    with open_export(path) as reader:
        return list(reader.rows())


def _row(n: int, delimiter: str = "|") -> str:
    values = [f"v{n}-{i}" for i in range(len(COLUMNS))]
    return delimiter.join(values)


HEADER = "|".join(COLUMNS)
PLAIN = [_row(n) for n in range(40)]
CASES = {
    "plain": "\n".join([HEADER, *PLAIN]) + "\n",
    "no final newline": "\n".join([HEADER, *PLAIN]),
    "crlf": "\r\n".join([HEADER, *PLAIN]) + "\r\n",
    "lone carriage return": "\n".join([HEADER, *PLAIN[:20], "a|b\rc|d", *PLAIN[20:]]) + "\n",
    "quotes late": "\n".join(
        [HEADER, *PLAIN[:30], '"x|y"|' + _row(99).split("|", 1)[1], '"multi\nline"|z', *PLAIN]
    )
    + "\n",
    "quote first": "\n".join([HEADER, '"a"' + PLAIN[0][2:], *PLAIN]) + "\n",
    "quote inside a value": "\n".join([HEADER, *PLAIN[:5], 'ab"c|' + PLAIN[6], *PLAIN]) + "\n",
    "blank and empty rows": "\n".join(
        [HEADER, "", *PLAIN[:10], "|||", "   ", "|" * (len(COLUMNS) - 1), "", *PLAIN[10:]]
    )
    + "\n\n",
    "short and long rows": "\n".join(
        [HEADER, "a|b|c", PLAIN[0] + "|||", PLAIN[1] + "| x |", PLAIN[2] + "|  ", *PLAIN]
    )
    + "\n",
    "spaces": "\n".join([HEADER, *(f" {r.replace('|', ' | ')} " for r in PLAIN)]) + "\n",
    "unicode spaces": "\n".join([HEADER, *(f"\xa0{r}\u3000" for r in PLAIN), "\t" + PLAIN[0]])
    + "\n",
    "bom": "\ufeff" + "\n".join([HEADER, *PLAIN]) + "\n",
    "reordered header": "\n".join(["extra|" + "|".join(reversed(COLUMNS)), *PLAIN]) + "\n",
}


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_fast_reader_reads_what_the_csv_module_reads(
    case: str, chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse, "_CHUNK", chunk)
    path = tmp_path / "export.txt"
    path.write_bytes(CASES[case].encode("utf-8"))
    assert fast_rows(path) == plain_rows(path)


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_the_fast_reader_reads_other_separators_as_the_csv_module_does(
    delimiter: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse, "_CHUNK", 50)
    path = tmp_path / "export.csv"
    rows = [delimiter.join(COLUMNS), *(_row(n, delimiter) for n in range(30))]
    rows.insert(12, f'"quoted{delimiter}value"' + delimiter + _row(7, delimiter))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert fast_rows(path) == plain_rows(path)


def test_a_generated_export_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "_CHUNK", 4096)
    path = tmp_path / "dtks.txt"
    write_export(path, citizens=600, seed=5, dirty=0.2)
    assert fast_rows(path) == plain_rows(path)


def _validator() -> RowValidator:
    regions = bandung_regions()
    resolver = RegionResolver(
        [(r.code, r.level, r.name, r.parent_code) for r in regions], region_aliases(regions)
    )
    return RowValidator(resolver, today=dt.date(2026, 12, 1))


def _mutations(rows: list[tuple[int, tuple[str, ...]]], seed: int) -> Iterator[tuple[int, Any]]:
    """Each row, and many copies with one value replaced by one that another row has or a
    troublesome one (Unicode digits, spaces, the other sex's NIK date, …)."""
    rng = Random(seed)
    odd = [
        "", " ", "0", "000", "\u0661\u0662", "\uff11\uff12", "2026", "2027", "2009",
        "1906-01-01", "31-02-2000", "2000-02-30", "29-02-2000", "1-1-2000", "2021-W01-1", "P",
        "L", "9", "x" * 201, "3273145902840000", "9973145902840001", "1073145902840001",
        "327314590284000\u0661",
    ]  # fmt: skip
    for line, values in rows:
        yield line, values
        for _ in range(3):
            column = rng.randrange(len(values))
            other = rng.choice(rows)[1]
            value = rng.choice([*odd, other[column % len(other)]])
            yield line, (*values[:column], value, *values[column + 1 :])


def test_the_remembering_validator_decides_as_the_plain_one(tmp_path: Path) -> None:
    path = tmp_path / "dtks.txt"
    write_export(path, citizens=1500, seed=9, dirty=0.1)
    rows = plain_rows(path)
    fast, plain = _validator(), _validator()
    accepted = 0
    for line, values in _mutations(rows, seed=3):
        expected = plain._check_plain(line, values)
        assert fast.check(line, values) == expected, (line, values)
        accepted += expected[0] is not None
    assert 0 < accepted < len(rows) * 4
    assert [(d.text, d.rows) for d in fast.regions.decisions] == [
        (d.text, d.rows) for d in plain.regions.decisions
    ]
    assert fast.regions.decisions


def test_the_validator_forgets_when_it_remembers_too_much(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.imports import validate

    monkeypatch.setattr(validate, "_REMEMBERED", 5)
    path = tmp_path / "dtks.txt"
    write_export(path, citizens=300, seed=4, dirty=0.1)
    fast, plain = _validator(), _validator()
    for line, values in plain_rows(path):
        assert fast.check(line, values) == plain._check_plain(line, values)
    assert len(fast._codes) <= 5 and len(fast._births) <= 5


def test_io_stringio_splits_lines_as_the_file_does() -> None:
    # The csv hand-over reads the rest of a chunk from a StringIO chained to the file.
    text = "a\r\nb\rc\nd"
    assert list(io.StringIO(text, newline="")) == ["a\r\n", "b\r", "c\n", "d"]


def test_a_misspelling_under_two_spellings_of_its_kecamatan_counts_every_row() -> None:
    resolver = _validator().regions
    found, _ = resolver.lookup("COBLONG", "Dagoo")
    assert isinstance(found[1], str), found  # a fuzzy match of Dago
    resolver.resolve("COBLONG", "Dagoo")
    resolver.resolve("Kec. Coblong", "Dagoo")
    resolver.resolve("COBLONG", "Dagoo")
    assert [(d.text, d.rows) for d in resolver.decisions] == [("Dagoo", 3)]


async def test_a_file_broken_half_way_is_refused_with_its_line(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read in a thread beside the staging: its error still reaches the caller, as it was.
    from hub.cli.imports import run_import
    from hub.imports.errors import ImportErrorCode, ImportFileError
    from tests.imports.test_dtks import settings_for

    monkeypatch.setattr(parse, "_CHUNK", 4096)
    path = tmp_path / "dtks.txt"
    write_export(path, citizens=400, seed=2)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[300] = lines[300].replace("|", "|" + "x" * 200_000, 1)  # over csv's field limit
    path.write_text("".join(lines), encoding="utf-8")
    settings = settings_for(empty_database_url, tmp_path)
    with pytest.raises(ImportFileError) as refused:
        await run_import(settings, path, rejects=tmp_path / "r.csv", dry_run=False)
    assert refused.value.code == ImportErrorCode.UNREADABLE
    assert "line 301" in str(refused.value) and "field limit" in str(refused.value)
