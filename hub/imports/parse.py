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
from operator import itemgetter
from pathlib import Path
from typing import Any

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
        rows: Iterator[tuple[int, list[Any]]],
        positions: list[int],
        position: Callable[[], int],
        width: int,
    ) -> None:
        """A reader of `rows` whose required columns sit at `positions` of `width` columns."""
        self.format = format
        self.size = size
        self._rows = rows
        self._positions = positions
        self._position = position
        self._width = width

    def rows(self) -> Iterator[Line]:
        """Each non-empty data row. A row longer than the header ends with `EXTRA` (the
        validator refuses it); a shorter one is padded with empty values."""
        positions, width = self._positions, self._width
        pick = itemgetter(*positions)
        strip = str.strip
        # Text exports hold only strings; a workbook's cells may be numbers, dates or None.
        text = self.format != "xlsx"
        for number, raw in self._rows:
            if text and len(raw) == width:
                # The common case, kept lean: millions of rows pass here.
                yield number, tuple(map(strip, pick(raw)))
                continue
            if not any(raw):
                continue
            cells = [_text(cell) for cell in raw]
            count = len(cells)
            picked = tuple(cells[i] if i < count else "" for i in positions)
            if count > width and any(cells[width:]):
                picked = (*picked, EXTRA)
            yield number, picked

    @property
    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (for a progress bar)."""
        return self._position()


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

        def numbered() -> Iterator[tuple[int, list[Any]]]:
            try:
                for row in lines:
                    yield lines.line_num, row
            except UnicodeDecodeError:
                raise ImportFileError(
                    Code.UNREADABLE,
                    f"the file is not UTF-8 text after line {lines.line_num}; save it as UTF-8",
                ) from None
            except csv.Error as error:
                raise ImportFileError(Code.UNREADABLE, f"line {lines.line_num}: {error}") from None

        name = {"|": "pipe", ";": "semicolon", ",": "comma", "\t": "tab"}[delimiter]
        yield Reader(name, size, numbered(), positions, raw.tell, len(header))
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

        yield Reader("xlsx", size, numbered(), positions, position, len(header))
    finally:
        workbook.close()
