"""`import_dtks`: stream a SIKS-NG export in, check it, and apply the month's difference.

The file is read once to hash it (the SHA-256 is the import's identity) and once to validate
and stage its rows in batches, so memory stays flat whatever its size; everything else is
set-based SQL (`hub.imports.merge`). The caller owns the transaction: it commits (with the
import's ADMIN audit event) or, for a dry run, rolls back. Rows refused on their own are
written to the rejects file as they are read; rows refused by the whole-file checks follow,
in line order.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.imports.bulk import BULK_MIN_ROWS
from hub.imports.errors import ImportFileError
from hub.imports.merge import HOUSEHOLD_REASONS, Counts, Stage
from hub.imports.models import DtksImport
from hub.imports.parse import COLUMNS, Line, PlainLines, Reader, file_sha256, open_export
from hub.imports.regions import FuzzyDecision, load_resolver
from hub.imports.validate import RowValidator, StagedRow

__all__ = ["ImportFileError", "ImportSummary", "import_dtks"]

#: Rows per COPY / executemany into the staging table.
BATCH_ROWS = 20_000
#: Validated batches that may wait for the database (each about 20 MB).
_AHEAD = 2
REJECT_HEADER = ("line", "column", "value", "alasan", "reason")

#: (bytes read, file size, rows read, rows refused so far)
Progress = Callable[[int, int, int, int], None]


@dataclass
class ImportSummary:
    """What an import read, refused and changed."""

    file_name: str
    sha256: str
    format: str
    dry_run: bool
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    #: Lines written to the rejects file (a row with two problems has two).
    reject_lines: int = 0
    households: Counts = field(default_factory=Counts)
    citizens: Counts = field(default_factory=Counts)
    fuzzy: list[FuzzyDecision] = field(default_factory=list)
    #: Earlier imports of the very same file: (import id, when it finished).
    previous_imports: list[tuple[int, dt.datetime]] = field(default_factory=list)
    import_id: int | None = None
    read_seconds: float = 0.0
    #: CPU seconds this process spent reading, validating and staging (on a busy machine
    #: far below `read_seconds`: the rest is waiting for a core or for the database).
    read_cpu_seconds: float = 0.0
    merge_seconds: float = 0.0
    #: Seconds of each step of the merge (`check`, `households`, `citizens`, …), in order.
    steps: dict[str, float] = field(default_factory=dict)
    #: `time.perf_counter()` where each step ended: `before` (hashing the file, loading the
    #: regions), `read`, then the merge's steps; a benchmark lines its CPU samples up with
    #: them.
    marks: list[tuple[str, float]] = field(default_factory=list)
    #: Registry tables whose indexes and foreign keys were rebuilt around a big insert.
    rebuilt: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Wall time of reading, checking and merging."""
        return self.read_seconds + self.merge_seconds

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain data (the import record and its audit event)."""
        return {
            "file": self.file_name,
            "sha256": self.sha256,
            "format": self.format,
            "rows": {
                "read": self.rows_read,
                "accepted": self.rows_accepted,
                "rejected": self.rows_rejected,
                "reject_lines": self.reject_lines,
            },
            "households": self.households.as_dict(),
            "citizens": self.citizens.as_dict(),
            "fuzzy_decisions": [
                {"level": d.level, "text": d.text, "code": d.code, "score": d.score, "rows": d.rows}
                for d in self.fuzzy
            ],
            "seconds": round(self.seconds, 2),
        }


def _reason_of(kind: str, reason: str, other: int | None) -> tuple[str, str, str]:
    """(column, alasan, reason) of a row refused by a whole-file check."""
    if kind == "DUPLICATE_NIK":
        return (
            "nomor_nik",
            f"NIK sudah tercantum di baris {other}",
            f"the NIK is already listed at line {other}",
        )
    alasan, english = HOUSEHOLD_REASONS[reason]
    return "iddtks", alasan.format(line=other), english.format(line=other)


async def import_dtks(
    connection: AsyncConnection,
    path: Path,
    *,
    rejects_path: Path,
    ran_by: str,
    dry_run: bool = False,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    on_progress: Progress | None = None,
    bulk_min_rows: int = BULK_MIN_ROWS,
) -> ImportSummary:
    """Import the export at `path` in `connection`'s transaction; return what it did.

    An insert of at least `bulk_min_rows` rows into a registry table no bigger than it
    rebuilds that table's indexes and foreign keys around it (`hub.imports.bulk`).

    Raises ImportFileError, before writing anything, when the file cannot be read or lacks
    a required column. Never commits; a dry run changes nothing the caller cannot roll back.
    """
    now = now or dt.datetime.now(dt.UTC)
    today = today or now.date()
    sha256 = file_sha256(path)
    previous = (
        await connection.execute(
            select(DtksImport.id, DtksImport.finished_at)
            .where(DtksImport.sha256 == sha256)
            .order_by(DtksImport.id)
        )
    ).all()
    started, cpu = time.perf_counter(), time.process_time()
    with open_export(path) as reader:
        summary = ImportSummary(
            file_name=path.name,
            sha256=sha256,
            format=reader.format,
            dry_run=dry_run,
            previous_imports=[(int(i), at) for i, at in previous],
        )
        validator = RowValidator(await load_resolver(connection), today=today)
        stage = Stage(connection, bulk_min_rows=bulk_min_rows)
        await stage.create()
        if not dry_run:
            summary.import_id = await connection.scalar(
                insert(DtksImport)
                .values(
                    file_name=path.name[:255],
                    sha256=sha256,
                    ran_by=ran_by[:64],
                    rows_read=0,
                    rows_accepted=0,
                    rows_rejected=0,
                    summary={},
                    started_at=now,
                    finished_at=now,
                )
                .returning(DtksImport.id)
            )
        rejects_path.parent.mkdir(parents=True, exist_ok=True)
        with rejects_path.open("w", newline="", encoding="utf-8") as out:
            rejects = csv.writer(out)
            rejects.writerow(REJECT_HEADER)
            await _stream(reader, validator, stage, rejects, summary, on_progress)
            summary.read_seconds = time.perf_counter() - started
            summary.read_cpu_seconds = time.process_time() - cpu
            summary.marks += [("before", started), ("read", started + summary.read_seconds)]
            started = time.perf_counter()
            step = _Steps(summary.steps, summary.marks)
            await stage.check_file(assign_ids=not dry_run)
            step("check")
            async for line, kind, value, reason, other in stage.set_refusals():
                column, alasan, english = _reason_of(kind, reason, other)
                rejects.writerow((line, column, value, alasan, english))
                summary.reject_lines += 1
                summary.rows_rejected += 1
            step("rejects")
    summary.rows_accepted = await stage.accepted()
    summary.fuzzy = validator.regions.decisions
    summary.households = await stage.households()
    step("sort_households")
    if summary.import_id is not None:
        await stage.apply_households(import_id=summary.import_id, today=today, now=now)
        step("write_households")
    summary.citizens = await stage.citizens()
    step("sort_citizens")
    if summary.import_id is not None:
        await stage.apply_citizens(import_id=summary.import_id, today=today, now=now)
        step("write_citizens")
    await stage.drop()
    summary.rebuilt = list(stage.rebuilt)
    summary.merge_seconds = time.perf_counter() - started
    if summary.import_id is not None:
        await connection.execute(
            update(DtksImport)
            .where(DtksImport.id == summary.import_id)
            .values(
                rows_read=summary.rows_read,
                rows_accepted=summary.rows_accepted,
                rows_rejected=summary.rows_rejected,
                summary=summary.as_dict(),
                finished_at=dt.datetime.now(dt.UTC),
            )
        )
    return summary


class _Steps:
    """Records the seconds since the previous step under each step's name, and its end."""

    def __init__(self, into: dict[str, float], marks: list[tuple[str, float]]) -> None:
        self._into = into
        self._marks = marks
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self._into[name] = round(now - self._last, 3)
        self._marks.append((name, now))
        self._last = now


class _RejectsWriter(Protocol):
    def writerows(self, rows: Iterable[Iterable[object]], /) -> None: ...


@dataclass
class _Batch:
    """Rows validated together: the good ones staged, the refused ones' problems."""

    good: list[StagedRow]
    #: (line, iddtks, nik) of each row refused on its own.
    bad: list[tuple[int, str, str]]
    problems: list[tuple[int, str, str, str, str]]
    #: Rows read so far, and bytes of the file.
    read: int
    position: int
    #: More good rows, as a polars frame (`hub.imports.columnar`), staged after `good`.
    frame: Any = None


#: Rows of a file the fast paths cannot read (quotes, carriage returns) handed from the
#: reading thread to the checking one at a time: a queue hop per row would cost more than
#: reading it.
_ROWS_PER_HAND = 2_000
#: Read blocks that may wait for the checking thread (a block is about 4 MiB of text).
_READ_AHEAD = 1


def _read_ahead(reader: Reader) -> Generator[tuple[Line | PlainLines, int], None, None]:
    """`reader.blocks()` read and split in a thread of its own while the caller checks
    what came before: in order, each with the bytes of the file read by then (rows cross
    between the threads `_ROWS_PER_HAND` at a time). An error reading the file is raised
    here, after the blocks read before it. Closing this generator stops the thread."""
    handed: queue.Queue[tuple[list[Line | PlainLines], int] | BaseException | None]
    handed = queue.Queue(maxsize=_READ_AHEAD)
    stop = threading.Event()

    def read() -> None:
        try:
            rows: list[Line | PlainLines] = []
            for item in reader.blocks():
                if isinstance(item, PlainLines):
                    if rows:
                        _put(handed, (rows, reader.bytes_read), stop)
                        rows = []
                    _put(handed, ([item], reader.bytes_read), stop)
                    continue
                rows.append(item)
                if len(rows) == _ROWS_PER_HAND:
                    _put(handed, (rows, reader.bytes_read), stop)
                    rows = []
            if rows:
                _put(handed, (rows, reader.bytes_read), stop)
        except BaseException as error:  # raised again by the generator, in its thread
            _put(handed, error, stop)
        else:
            _put(handed, None, stop)

    thread = threading.Thread(target=read, name="dtks-read", daemon=True)
    thread.start()
    try:
        while (got := handed.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            items, position = got
            items.reverse()
            while items:  # (letting go of each block once the caller has it)
                yield items.pop(), position
    finally:
        stop.set()
        while thread.is_alive():  # let a `put` waiting on a full queue see `stop`
            with suppress(queue.Empty):
                handed.get(timeout=0.1)
        thread.join()


def _validated(reader: Reader, validator: RowValidator, stop: threading.Event) -> Iterator[_Batch]:
    """The file's rows in batches of `BATCH_ROWS` good or refused ones (the last one
    smaller), and of a chunk of plain lines each. The file is read and split a block
    ahead, in a thread of its own (`_read_ahead`); the checks stay in line order, in this
    one."""
    good: list[StagedRow] = []
    bad: list[tuple[int, str, str]] = []
    problems: list[tuple[int, str, str, str, str]] = []
    check = validator.check
    iddtks_at, nik_at = COLUMNS.index("iddtks"), COLUMNS.index("nomor_nik")
    keep = good.append
    read = 0
    # polars is loaded here, by an import, not by everything that imports this module.
    from hub.imports.columnar import ColumnarChecker

    columnar = ColumnarChecker(validator)
    with closing(_read_ahead(reader)) as blocks:
        for item, position in blocks:
            if isinstance(item, PlainLines):
                if good or bad:  # rows read before, staged first: lines stay in order
                    yield _Batch(good, bad, problems, read, position)
                    good, bad, problems = [], [], []
                    keep = good.append
                checked = columnar.check(item)
                read += checked.rows
                batch = _Batch([], checked.bad, checked.problems, read, position)
                batch.frame = checked.staged
                del checked, item  # (the frames: only the batch is kept while it waits)
                yield batch
                if stop.is_set():
                    return
                continue
            number, values = item
            read += 1
            staged, found = check(number, values)
            if staged is not None:
                keep(staged)
                if len(good) < BATCH_ROWS:
                    continue
            else:
                bad.append((number, values[iddtks_at], values[nik_at]))
                problems.extend((p.line, p.column, p.value, p.alasan, p.reason) for p in found)
                if len(bad) < BATCH_ROWS:  # a file of refused rows is handed over in batches too
                    continue
            yield _Batch(good, bad, problems, read, position)
            if stop.is_set():
                return
            good, bad, problems = [], [], []
            keep = good.append
    yield _Batch(good, bad, problems, read, reader.size)


async def _stream(
    reader: Reader,
    validator: RowValidator,
    stage: Stage,
    rejects: _RejectsWriter,
    summary: ImportSummary,
    on_progress: Progress | None,
) -> None:
    """Validate every row, staging the good ones and writing the bad ones' problems.

    The file is read and validated in a thread of its own while this coroutine stages the
    previous batch, so that the database takes one batch while Python checks the next (at
    most `_AHEAD` batches wait between them: memory stays flat).
    """
    loop = asyncio.get_running_loop()
    handed: queue.Queue[_Batch | BaseException | None] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in _validated(reader, validator, stop):
                _put(handed, batch, stop)
        except BaseException as error:  # handed over, raised again by the consumer
            _put(handed, error, stop)
        else:
            _put(handed, None, stop)

    producer = loop.run_in_executor(None, produce)
    try:
        while True:
            item = await loop.run_in_executor(None, handed.get)
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            rejects.writerows(item.problems)
            summary.rows_rejected += len(item.bad)
            summary.reject_lines += len(item.problems)
            summary.rows_read = item.read
            await stage.add(item.good, item.bad, item.frame)
            if on_progress is not None:
                on_progress(item.position, reader.size, item.read, summary.rows_rejected)
    finally:
        stop.set()
        while not handed.empty():  # let a producer blocked on a full queue see `stop`
            handed.get_nowait()
        with suppress(queue.Full):  # and a `get` left waiting by a cancellation return
            handed.put_nowait(None)
        await producer


def _put(handed: queue.Queue[Any], item: object, stop: threading.Event) -> None:
    """Put `item` in `handed`, unless the consumer stops first."""
    while not stop.is_set():
        try:
            handed.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
