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
import re
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import Any

import pytest

from hub.imports import parse
from hub.imports.parse import COLUMNS, EXTRA, PlainLines, _positions, _text, open_export
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
@pytest.mark.parametrize(
    ("reader", "chunk_setting"), [("rows", "_CHUNK"), ("blocks", "_COLUMNAR_CHUNK")]
)
def test_the_fast_readers_read_what_the_csv_module_reads(
    reader: str,
    chunk_setting: str,
    case: str,
    chunk: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `Reader.rows` (split by hand) and `Reader.blocks` (plain chunks read by polars).
    monkeypatch.setattr(parse, chunk_setting, chunk)
    path = tmp_path / "export.txt"
    path.write_bytes(CASES[case].encode("utf-8"))
    read = fast_rows if reader == "rows" else block_rows
    assert read(path) == plain_rows(path)


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


# The vectorised path (`Reader.blocks` and `hub.imports.columnar`).


def block_rows(path: Path) -> list[tuple[int, tuple[str, ...]]]:
    """The rows `Reader.blocks` hands over, each `PlainLines` split back into rows."""
    out: list[tuple[int, tuple[str, ...]]] = []
    with open_export(path) as reader:
        for item in reader.blocks():
            if isinstance(item, PlainLines):
                pick = itemgetter(*item.positions)
                for i, values in enumerate(item.fields.iter_rows(), start=item.before + 1):
                    out.append((i, tuple(map(str.strip, pick(values)))))
            else:
                out.append(item)
    return out


def test_reading_ahead_hands_over_every_block_in_order_and_stops_when_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from contextlib import closing

    from hub.imports import service

    monkeypatch.setattr(parse, "_COLUMNAR_CHUNK", 8192)
    monkeypatch.setattr(service, "_ROWS_PER_HAND", 7)
    path = tmp_path / "dtks.txt"
    write_export(path, citizens=900, seed=5)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[300] = lines[300].replace("|", '|"', 1)  # a quote: the rest read row by row
    path.write_text("".join(lines), encoding="utf-8")

    def named(item: Any) -> Any:
        return ("block", item.before, item.fields.height) if isinstance(item, PlainLines) else item

    with open_export(path) as reader:
        expected = [named(item) for item in reader.blocks()]
    sizes: list[int] = []
    put = service._put

    def counted(queue: Any, item: Any, stop: Any) -> None:
        if isinstance(item, tuple):
            sizes.append(len(item[0]))
        put(queue, item, stop)

    monkeypatch.setattr(service, "_put", counted)
    with open_export(path) as reader:
        handed = list(service._read_ahead(reader))
    assert [named(item) for item, _ in handed] == expected
    kinds = {"block" if item[0] == "block" else "row" for item in expected}
    assert kinds == {"block", "row"}
    positions = [position for _, position in handed]
    assert positions == sorted(positions) and positions[-1] == path.stat().st_size
    # Rows go over between the threads seven at a time, blocks one at a time.
    assert sizes and max(sizes) == 7 and sum(sizes) == len(handed)
    assert sum(1 for item, _ in handed if not isinstance(item, PlainLines)) > 7

    with open_export(path) as reader, closing(service._read_ahead(reader)) as blocks:
        next(blocks)
    assert not [t for t in threading.enumerate() if t.name == "dtks-read"]


def test_the_blocks_of_other_separators_and_white_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse, "_COLUMNAR_CHUNK", 300)
    for delimiter in (";", ",", "\t", "|"):
        rows = [delimiter.join(COLUMNS), *(_row(n, delimiter) for n in range(40))]
        for at, space in enumerate(parse.OTHER_SPACE):  # each in a chunk of its own
            rows[1 + at % 40] = rows[1 + at % 40].replace(delimiter, f"{space}{delimiter}", 1)
        rows[5] = "\ufeff" + rows[5]
        rows[9] = rows[9].replace(delimiter, f" \t\x0b\x0c{delimiter} ", 2)
        path = tmp_path / "export.csv"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        assert block_rows(path) == plain_rows(path), delimiter


def test_other_space_is_all_the_white_space_python_strips_beyond_ascii() -> None:
    import sys

    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert "".join(c for c in every if c not in " \t\n\x0b\x0c\r") == parse.OTHER_SPACE


def test_polars_reads_iso_dates_as_fromisoformat_does() -> None:
    import polars as pl

    texts = [
        f"{y:04d}-{m:02d}-{d:02d}"
        for y in (1, 1900, 1906, 2000, 2001, 2024, 2100)
        for m in range(100)
        for d in range(100)
    ]

    def python(text: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None

    read = pl.Series(texts).str.to_date("%Y-%m-%d", strict=False).to_list()
    assert read == [python(t) for t in texts]


def _columnar(
    path: Path, kinds: list[str] | None = None
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """(staged rows, refused (line, iddtks, nik), problems, fuzzy decisions) as `_validated`
    finds them with the vectorised path, and with `check` row by row (`kinds`: which)."""
    from hub.imports.columnar import ColumnarChecker

    validator = _validator()
    columnar = ColumnarChecker(validator)
    staged: list[Any] = []
    bad: list[Any] = []
    problems: list[Any] = []
    with open_export(path) as reader:
        for item in reader.blocks():
            if kinds is not None:
                kinds.append("block" if isinstance(item, PlainLines) else "row")
            if isinstance(item, PlainLines):
                checked = columnar.check(item)
                staged.extend(checked.staged.iter_rows())
                bad.extend(checked.bad)
                problems.extend(checked.problems)
                continue
            line, values = item
            _collect(validator.check(line, values), line, values, staged, bad, problems)
    return staged, bad, problems, _fuzzy(validator)


def _plainly(path: Path) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """The same, read by the csv module and checked by `_check_plain` alone."""
    validator = _validator()
    staged: list[Any] = []
    bad: list[Any] = []
    problems: list[Any] = []
    for line, values in plain_rows(path):
        _collect(validator._check_plain(line, values), line, values, staged, bad, problems)
    return staged, bad, problems, _fuzzy(validator)


def _collect(
    checked: tuple[Any, Any],
    line: int,
    values: Any,
    staged: list[Any],
    bad: list[Any],
    problems: list[Any],
) -> None:
    """One row's check: its staged row, or its refusal (line, iddtks, nik) and problems."""
    row, found = checked
    if row is not None:
        staged.append(row)
    else:
        bad.append((line, values[0], values[10]))
        problems.extend((p.line, p.column, p.value, p.alasan, p.reason) for p in found)


def _fuzzy(validator: Any) -> list[Any]:
    """The validator's fuzzy region decisions, comparable between two runs."""
    return [(d.level, d.text, d.code, d.score, d.rows) for d in validator.regions.decisions]


def _boundary(values: tuple[str, ...], rng: Random) -> tuple[str, ...]:
    """A row with a birth date at or beyond the limits (NIK digits 7-12 made to match it),
    or with a KK number whose issue date is or is not one."""
    row = list(values)
    if rng.random() < 0.5:
        birth = rng.choice(
            ["1906-01-01", "1905-12-31", "2026-12-01", "2026-12-02", "2000-02-29", "1999-02-29"]
        )
        y, m, d = birth.split("-")
        day = int(d) + (40 if row[14].upper().startswith("P") else 0)
        row[12] = birth
        row[10] = f"{row[10][:6]}{day:02d}{m}{y[2:]}{row[10][12:]}"
    else:
        issued = rng.choice(["310299", "290201", "290200", "001299", "311399", "150105"])
        row[9] = f"{row[9][:6]}{issued}{row[9][12:]}"
    return tuple(row)


@pytest.mark.parametrize("chunk", [2_000, 20_000, 100_000])
def test_the_columnar_checker_decides_as_the_plain_one(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse, "_COLUMNAR_CHUNK", chunk)
    source = tmp_path / "dtks.txt"
    write_export(source, citizens=1500, seed=9, dirty=0.1)
    rows = plain_rows(source)
    # Each row, and three copies with one value replaced (Unicode digits, white space,
    # ISO week dates, DD-MM-YYYY, the other sex's NIK date, …), in a file of their own;
    # some chunks get a blank line, a short row or a non-ASCII space and are split by hand.
    lines = [source.read_text(encoding="utf-8").splitlines()[0]]
    odd = ["20-10-1990", "5/3/1988", "1.1.2000", " 1990-01-01", "31-02-2000", "1990-1-01"]
    rng = Random(11)
    for n, (_, values) in enumerate(_mutations(rows, seed=3)):
        if n % 97 == 5:
            values = (*values[:12], rng.choice(odd), *values[13:])
        elif n % 5 == 1 and len(values) > 12 and re.fullmatch(r"\d{4}-\d\d-\d\d", values[12]):
            # The same date as DD-MM-YYYY, D/M/YYYY or DD.MM.YYYY (still a valid row).
            y, m, d = values[12].split("-")
            sep, pad = rng.choice([("-", True), ("/", False), (".", True), ("/", True)])
            day, month = (d, m) if pad else (str(int(d)), str(int(m)))
            values = (*values[:12], f"{day}{sep}{month}{sep}{y}", *values[13:])
        elif n % 7 == 2 and len(values) == len(COLUMNS):
            values = _boundary(values, rng)
        lines.append("|".join(v.replace("|", "/") for v in values))
        if n % 1500 == 700:
            lines.append(rng.choice(["", "a|b|c", "\xa0" + lines[-1], lines[-1] + "\u3000"]))
    path = tmp_path / "mutated.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kinds: list[str] = []
    found = _columnar(path, kinds)
    expected = _plainly(path)
    assert "block" in kinds and "row" in kinds
    assert found[0] == expected[0]
    assert found[1:] == expected[1:]
    assert 0 < len(expected[0]) < len(lines)
    assert expected[3]


async def test_a_columnar_import_stages_what_a_row_by_row_one_does(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The COPY of a polars frame (CSV) and the row-by-row COPY (binary) stage the same rows.
    from sqlalchemy import text

    from hub.db import create_engine
    from hub.imports.merge import Stage

    path = tmp_path / "dtks.txt"
    write_export(path, citizens=800, seed=4, dirty=0.1)
    from hub.imports import service

    staged: dict[bool, list[Any]] = {}
    for columnar in (True, False):
        if not columnar:
            monkeypatch.setattr(parse.Reader, "blocks", parse.Reader.rows)
        engine = create_engine(empty_database_url)
        try:
            async with engine.connect() as connection:
                validator = _validator()
                stage = Stage(connection)
                await stage.create()
                with open_export(path) as reader:
                    import threading

                    for batch in service._validated(reader, validator, threading.Event()):
                        await stage.add(batch.good, batch.bad, batch.frame)
                result = await connection.execute(text("SELECT * FROM import_rows"))
                staged[columnar] = [tuple(r) for r in result]
                await connection.rollback()
        finally:
            await engine.dispose()
    assert staged[True] == staged[False]
    assert len(staged[True]) > 700


@pytest.mark.parametrize("height", [1, 3, 4, 5, 1_001])
async def test_a_frame_encoded_in_slices_is_the_frame_encoded_whole(height: int) -> None:
    import polars as pl

    from hub.imports.merge import staged_csv, staged_csv_slices

    frame = pl.DataFrame(
        {
            "line": list(range(height)),
            "ppks_code": [None if i % 3 else f"P{i}" for i in range(height)],
        }
    )
    parts = [part async for part in staged_csv_slices(frame)]
    assert len(parts) == {1: 1, 3: 3, 4: 4, 5: 3, 1_001: 4}[height]  # slices of ⌈height / 4⌉
    assert b"".join(parts) == staged_csv(frame)
