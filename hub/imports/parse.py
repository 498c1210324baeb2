"""Reading SIKS-NG exports as a stream of rows: pipe-separated, CSV (comma or semicolon), XLSX.

The format is detected, not declared: `.xlsx` by its name (read with openpyxl in read-only
mode, which streams the sheet), anything else by sniffing the header line. Header names are
matched case- and space-insensitively (`Nomor NIK`, `NOMOR_NIK` and `nomor_nik` are one
column), and a file missing a required column is refused before anything is read further.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

from hub.imports.errors import ImportErrorCode as Code
from hub.imports.errors import ImportFileError

#: The columns of SIKS-NG's PMKS export, in its order.
COLUMNS = (
    "iddtks", "provinsi", "kabupaten_kota", "kecamatan", "desa_kelurahan", "alamat", "dusun",
    "rt", "rw", "nomor_kk", "nomor_nik", "nama", "tanggal_lahir", "tempat_lahir",
    "jenis_kelamin", "nama_ibu_kandung", "hubungan_keluarga", "tahun_data", "jenis_pmks",
)  # fmt: skip
#: Index of each column in the tuples `Reader.rows()` yields.
COLUMN_INDEX = {name: i for i, name in enumerate(COLUMNS)}
#: Appended to a row that has more values than the header has columns.
EXTRA = "\x00extra"


def header_key(name: str) -> str:
    """How a header name is matched: lower case, without spaces, underscores or hyphens."""
    return re.sub(r"[\s_\-.]+", "", name.strip().lower())


_KEYS = {header_key(name): name for name in COLUMNS}


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of the file's bytes: the identity of an import."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


#: One data row: its line number in the file (1 = the header) and its values in `COLUMNS`
#: order. A plain tuple: millions are made, and a dataclass would cost a call each.
Line = tuple[int, tuple[str, ...]]


class Reader:
    """The rows of one export, in `COLUMNS` order, with how far into the file reading is."""

    def __init__(
        self,
        format: str,
        size: int,
        rows: Iterator[Line],
        position: Callable[[], int],
        blocks: Iterator[Line | PlainLines] | None = None,
    ) -> None:
        """A reader of `rows` (already in `COLUMNS` order) of a file of `size` bytes; or,
        when `blocks` is given, of the same rows as `blocks` hands them over."""
        self.format = format
        self.size = size
        self._rows = rows
        self._blocks = blocks
        self._position = position

    def rows(self) -> Iterator[Line]:
        """Each non-empty data row. A row longer than the header ends with `EXTRA` (the
        validator refuses it); a shorter one is padded with empty values."""
        return self._rows

    def blocks(self) -> Iterator[Line | PlainLines]:
        """The rows as `rows` reads them, except that a run of plain lines of a text export
        comes whole, unsplit (`PlainLines`), for `hub.imports.columnar`. Read either this
        or `rows`, not both: they read the same file."""
        return self._rows if self._blocks is None else self._blocks

    @property
    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (for a progress bar)."""
        return self._position()


@dataclass(frozen=True, slots=True)
class PlainLines:
    """Lines of a text export read whole by polars, the one after line `before` first:
    each has the header's number of values, no quote, carriage return or NUL, no white
    space but ASCII's (space, tab, VT, FF) and is no longer than the csv module's field
    limit, so that `fields` holds what `line.split(delimiter)` gives, one column (`c0`,
    `c1`, …) per value, unstripped."""

    before: int
    fields: Any  # a polars DataFrame; untyped here so that importing parse needs no polars
    #: Where each of `COLUMNS` is among a line's values.
    positions: list[int]


#: The white space that `str.strip` and `str.split` know beyond ASCII's space, tab, VT and
#: FF (and the line ends): a line with any of it is split the plain way (a test compares
#: this with `str.isspace` over every code point).
OTHER_SPACE = (
    "\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_OTHER_SPACE_PATTERN = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in OTHER_SPACE) + "]"


def _plain_lines(
    body: str, before: int, delimiter: str, positions: list[int], width: int, limit: int
) -> PlainLines | None:
    """`body` (whole lines, no quote, CR or NUL) read by polars, or None when one of its
    lines is not plain enough for that (`PlainLines`): it is then split line by line."""
    import polars as pl

    if body.startswith("\ufeff"):
        return None  # polars would take it for a byte order mark
    count = body.count("\n") + (not body.endswith("\n"))
    if body.count(delimiter) != (width - 1) * count:
        return None  # a blank, short or long line (or several)
    if body.isascii():
        if any(c in body for c in "\x1c\x1d\x1e\x1f"):
            return None
    elif pl.Series([body]).str.contains(_OTHER_SPACE_PATTERN).item():
        return None
    try:
        fields = pl.read_csv(
            body.encode(),
            has_header=False,
            separator=delimiter,
            quote_char=None,
            infer_schema=False,
            empty_string_is_null=False,
            new_columns=[f"c{i}" for i in range(width)],
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None  # a line with more values than the header (another short)
    if fields.height != count or fields.width != width:
        return None
    if len(body) > limit:
        longest = fields.select(pl.sum_horizontal(pl.all().str.len_bytes()).max()).item()
        if int(longest or 0) + width - 1 > limit:  # (bytes: at least as many as chars)
            return None
    return PlainLines(before, fields, positions)


def _picked(raw: list[Any], positions: list[int], width: int) -> tuple[str, ...] | None:
    """The required columns of a row whose length is not the header's (or a workbook's row):
    padded with empty values, `EXTRA` appended when values follow the last column, None for
    a row with nothing in it (skipped)."""
    if not any(raw):
        return None
    cells = [_text(cell) for cell in raw]
    count = len(cells)
    picked = tuple(cells[i] if i < count else "" for i in positions)
    if count > width and any(cells[width:]):
        picked = (*picked, EXTRA)
    return picked


def _sheet_rows(
    rows: Iterator[tuple[int, list[Any]]], positions: list[int], width: int
) -> Iterator[Line]:
    """A workbook's rows: cells may be numbers, dates or None."""
    for number, raw in rows:
        picked = _picked(raw, positions, width)
        if picked is not None:
            yield number, picked


#: Text read at a time by the fast reader (whole lines of it are split at once).
_CHUNK = 1 << 20
#: Text read at a time for `Reader.blocks` (about 20,000 lines of a SIKS-NG export).
_COLUMNAR_CHUNK = 4 << 20


def _text_rows(
    text: io.TextIOWrapper,
    delimiter: str,
    after_header: int,
    positions: list[int],
    width: int,
) -> Iterator[Line]:
    """The data rows of a text export, read a chunk of whole lines at a time."""
    return cast(
        Iterator[Line], _text_blocks(text, delimiter, after_header, positions, width, False)
    )


def _text_blocks(
    text: io.TextIOWrapper,
    delimiter: str,
    after_header: int,
    positions: list[int],
    width: int,
    columnar: bool,
) -> Iterator[Line | PlainLines]:
    """The data rows of a text export, read a chunk of whole lines at a time.

    A chunk without quotes, carriage returns or NUL, and with no line longer than the csv
    module's field limit, is split with `str.split`, which is what the csv module makes of
    such lines, at a fraction of the cost (`columnar`: handed over whole as `PlainLines`,
    split into lines by polars). From the first chunk that has any of them to the end of
    the file, the csv module reads the rest (a quoted value may hold the delimiter or span
    lines, a lone carriage return ends a record, a value over the limit is an error), with
    the same line numbers.
    """
    pick = itemgetter(*positions)
    strip = str.strip
    limit = csv.field_size_limit()
    size = _COLUMNAR_CHUNK if columnar else _CHUNK
    number = after_header
    pending = ""
    while True:
        try:
            chunk = text.read(size)
        except UnicodeDecodeError:
            raise ImportFileError(
                Code.UNREADABLE,
                f"the file is not UTF-8 text after line {number}; save it as UTF-8",
            ) from None
        if chunk:
            chunk = pending + chunk
            cut = chunk.rfind("\n") + 1
            if not cut:
                pending = chunk
                continue
            body, pending = chunk[:cut], chunk[cut:]
        elif pending:
            body, pending = pending, ""
        else:
            return
        plain = '"' not in body and "\r" not in body and "\x00" not in body
        if columnar and plain:
            block = _plain_lines(body, number, delimiter, positions, width, limit)
            if block is not None:
                yield block
                number += block.fields.height
                continue
        lines = body.split("\n")
        if not lines[-1]:
            lines.pop()
        if not plain or max(map(len, lines), default=0) > limit:
            rest = body + pending
            if pending:  # the rest of its line (or the \n of its \r) is still unread
                rest += text.readline()
            yield from _csv_rows(
                chain(io.StringIO(rest, newline=""), text), delimiter, number, positions, width
            )
            return
        for line in lines:
            number += 1
            raw = line.split(delimiter)
            if len(raw) == width:
                # The common case, kept lean: millions of rows pass here.
                yield number, tuple(map(strip, pick(raw)))
                continue
            picked = _picked(raw, positions, width)
            if picked is not None:
                yield number, picked


def _csv_rows(
    source: Iterator[str], delimiter: str, before: int, positions: list[int], width: int
) -> Iterator[Line]:
    """The rows the csv module reads from `source`, numbered from line `before` + 1."""
    lines = csv.reader(source, delimiter=delimiter)
    pick = itemgetter(*positions)
    strip = str.strip
    try:
        for raw in lines:
            if len(raw) == width:
                yield before + lines.line_num, tuple(map(strip, pick(raw)))
                continue
            picked = _picked(raw, positions, width)
            if picked is not None:
                yield before + lines.line_num, picked
    except UnicodeDecodeError:
        raise ImportFileError(
            Code.UNREADABLE,
            f"the file is not UTF-8 text after line {before + lines.line_num}; save it as UTF-8",
        ) from None
    except csv.Error as error:
        raise ImportFileError(Code.UNREADABLE, f"line {before + lines.line_num}: {error}") from None


def _text(cell: Any) -> str:
    """A cell as text: spreadsheets hand numbers, dates and empty cells over as such."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer():
        # A NIK typed into a spreadsheet becomes a number; 16 digits still fit a double.
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell).strip()


def _positions(header: list[Any]) -> list[int]:
    """Where each required column is in the file's header; refuse the file if any is missing."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _KEYS.get(header_key(_text(cell)))
        if name is not None and name not in found:
            found[name] = index
    missing = [name for name in COLUMNS if name not in found]
    if missing:
        raise ImportFileError(
            Code.MISSING_COLUMN,
            f"the file has no column {', '.join(missing)}; a SIKS-NG export has the columns "
            f"{', '.join(COLUMNS)} (names match regardless of case and spaces)",
        )
    return [found[name] for name in COLUMNS]


def _delimiter(sample: str) -> str:
    """The separator of a text export: pipe, semicolon, comma or tab, from its header line."""
    first = sample.splitlines()[0] if sample else ""
    if "|" in first:
        return "|"
    try:
        return csv.Sniffer().sniff(first, delimiters=";,\t").delimiter
    except csv.Error:
        raise ImportFileError(
            Code.UNKNOWN_FORMAT,
            "cannot tell how the header line is separated; use | , ; or tab between columns",
        ) from None


@contextmanager
def open_export(path: Path) -> Iterator[Reader]:
    """A reader of the export at `path`; raise ImportFileError when it cannot be imported."""
    if not path.is_file():
        raise ImportFileError(Code.UNREADABLE, f"{path} is not a file")
    size = path.stat().st_size
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        with _open_xlsx(path, size) as reader:
            yield reader
        return
    raw = path.open("rb")
    try:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            sample = text.read(64 * 1024)
        except UnicodeDecodeError as error:
            raise ImportFileError(
                Code.UNREADABLE,
                f"the file is not UTF-8 text (byte {error.start}); save it as UTF-8",
            ) from None
        text.seek(0)
        delimiter = _delimiter(sample)
        lines = csv.reader(text, delimiter=delimiter)
        header = next(lines, None)
        if header is None:
            raise ImportFileError(Code.EMPTY, "the file is empty")
        positions = _positions(header)
        name = {"|": "pipe", ";": "semicolon", ",": "comma", "\t": "tab"}[delimiter]
        after, width = lines.line_num, len(header)
        rows = _text_rows(text, delimiter, after, positions, width)
        blocks = _text_blocks(text, delimiter, after, positions, width, True)
        yield Reader(name, size, rows, raw.tell, blocks)
    finally:
        raw.close()


@contextmanager
def _open_xlsx(path: Path, size: int) -> Iterator[Reader]:
    """The first sheet of a workbook, streamed (openpyxl read-only mode)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(Code.UNREADABLE, f"cannot read the workbook: {error}") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ImportFileError(Code.EMPTY, "the first sheet is empty")
        positions = _positions(list(header))
        done = [0]

        def numbered() -> Iterator[tuple[int, list[Any]]]:
            for number, row in enumerate(rows, start=2):
                done[0] = number
                yield number, list(row)

        # A workbook is compressed: progress is counted in rows against the sheet's extent.
        extent = sheet.max_row or 1

        def position() -> int:
            return int(size * min(1.0, done[0] / extent))

        yield Reader("xlsx", size, _sheet_rows(numbered(), positions, len(header)), position)
    finally:
        workbook.close()
