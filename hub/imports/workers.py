"""Validating a text export in worker processes, beside the process that stages the rows.

Python checks a row in a few microseconds of one core; the city's 2.6 million rows are
most of an import's reading time. `validated_blocks` hands each block of plain lines
(`hub.imports.parse.split_lines`) to a pool of processes, each with its own `RowValidator`
built from the same regions and aliases, and gives their results back in file order: the
staged rows, the rows refused on their own with their problems, and how many rows each
fuzzy region match decided (summed into the importing process's resolver, so that the
report is the one a single process makes). The csv module's tail of a file (from its
first quote or carriage return) is validated in the importing process, in order.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from threading import Event
from typing import Any

from hub.imports.parse import COLUMNS, Layout, Line, Reader, split_lines
from hub.imports.regions import RegionResolver
from hub.imports.validate import RowValidator, StagedRow

#: Below this many bytes a file is read in one process (starting workers costs ~1 s).
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
#: Good rows staged together (one COPY).
BATCH_ROWS = 20_000

_IDDTKS, _NIK = COLUMNS.index("iddtks"), COLUMNS.index("nomor_nik")


@dataclass
class Batch:
    """Rows validated together: the good ones staged, the refused ones' problems."""

    good: list[StagedRow]
    #: (line, iddtks, nik) of each row refused on its own.
    bad: list[tuple[int, str, str]]
    problems: list[tuple[int, str, str, str, str]]
    #: Rows read so far, and bytes of the file.
    read: int
    position: int


def default_workers(size: int) -> int:
    """Worker processes for a file of `size` bytes: none for a small one or one core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return min(2, cores) if size >= PARALLEL_MIN_BYTES and cores > 1 else 0


def validated(
    rows: Iterator[Line],
    validator: RowValidator,
    stop: Event,
    position: Callable[[], int],
    read: int = 0,
) -> Iterator[Batch]:
    """`rows` validated in this process, in batches of `BATCH_ROWS` good ones (the last
    one smaller); `read` rows came before them."""
    good: list[StagedRow] = []
    bad: list[tuple[int, str, str]] = []
    problems: list[tuple[int, str, str, str, str]] = []
    check = validator.check
    keep = good.append
    for number, values in rows:
        read += 1
        staged, found = check(number, values)
        if staged is not None:
            keep(staged)
            if len(good) < BATCH_ROWS:
                continue
        else:
            bad.append((number, values[_IDDTKS], values[_NIK]))
            problems.extend((p.line, p.column, p.value, p.alasan, p.reason) for p in found)
            continue
        yield Batch(good, bad, problems, read, position())
        if stop.is_set():
            return
        good, bad, problems = [], [], []
        keep = good.append
    yield Batch(good, bad, problems, read, position())


def validated_blocks(
    reader: Reader, validator: RowValidator, stop: Event, workers: int
) -> Iterator[Batch]:
    """The reader's rows validated by `workers` processes, in file order."""
    blocks, layout = reader.blocks(), reader.layout
    assert blocks is not None and layout is not None
    resolver = validator.regions
    context = multiprocessing.get_context("spawn")  # no copy of this process's threads
    setup = (resolver.regions_and_aliases(), resolver.threshold, validator.today, layout)
    read = 0
    with ProcessPoolExecutor(workers, context, initializer=_start, initargs=setup) as pool:
        waiting: deque[tuple[Future[Any], int]] = deque()

        def collect() -> Batch:
            nonlocal read
            future, position = waiting.popleft()
            good, bad, problems, rows, decided = future.result()
            resolver.add_decisions(decided)
            read += rows
            return Batch(good, bad, problems, read, position)

        try:
            for block in blocks:
                if stop.is_set():
                    return
                if isinstance(block, tuple):
                    waiting.append((pool.submit(_validate, *block), reader.bytes_read))
                    while len(waiting) > 2 * workers:  # memory stays flat
                        yield collect()
                    continue
                while waiting:
                    yield collect()
                yield from validated(block, validator, stop, lambda: reader.bytes_read, read)
                return
            while waiting:
                yield collect()
        finally:
            for future, _ in waiting:
                future.cancel()


_state: dict[str, Any] = {}


def _start(
    source: tuple[list[tuple[str, str, str, str | None]], list[tuple[str, str]]],
    threshold: float,
    today: dt.date,
    layout: Layout,
) -> None:
    """A worker's validator, as the importing process's."""
    regions, aliases = source
    _state["validator"] = RowValidator(
        RegionResolver(regions, aliases, threshold=threshold), today=today
    )
    _state["layout"] = layout
    _state["reported"] = {}


def _validate(before: int, lines: list[str]) -> tuple[Any, ...]:
    """(good rows, refused rows, their problems, rows read, fuzzy decisions' new rows)."""
    validator: RowValidator = _state["validator"]
    check = validator.check
    good: list[StagedRow] = []
    bad: list[tuple[int, str, str]] = []
    problems: list[tuple[int, str, str, str, str]] = []
    read = 0
    for number, values in split_lines(before, lines, _state["layout"]):
        read += 1
        staged, found = check(number, values)
        if staged is not None:
            good.append(staged)
        else:
            bad.append((number, values[_IDDTKS], values[_NIK]))
            problems.extend((p.line, p.column, p.value, p.alasan, p.reason) for p in found)
    reported: dict[tuple[str, str], int] = _state["reported"]
    decided = []
    for d in validator.regions.decisions:
        new = d.rows - reported.get((d.level, d.text), 0)
        if new:
            decided.append((d.level, d.text, d.code, d.name, d.score, new))
            reported[(d.level, d.text)] = d.rows
    return good, bad, problems, read, decided
