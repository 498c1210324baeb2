"""Appending events: in the caller's transaction, or through the group-commit writer.

- `append(session, events)` writes events into the caller's open transaction, so that a
  mutation and its event commit or roll back together.
- `GroupCommitWriter.write(event)` is for reads: concurrent requests' events go into one
  transaction, one commit (one fsync) for all, and `write` returns once that commit is
  durable. If it raises `AuditWriteError`, the caller must not return the data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Integer, bindparam, column, exc, insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from hub.audit.chain import canonical_json
from hub.audit.checkpoints import Sealer
from hub.audit.events import AuditEvent
from hub.audit.head import HEAD_COLUMNS, Head, head_of, lock_head, read_head, update_head
from hub.audit.models import event_citizens_table, events_table, head_table
from hub.audit.rows import chained_rows

log = logging.getLogger(__name__)


class AuditWriteError(RuntimeError):
    """The event could not be made durable; the operation's result must not be returned."""


async def append(
    session: AsyncSession, events: Sequence[AuditEvent], *, sealer: Sealer | None = None
) -> list[int]:
    """Append `events` in the caller's transaction and return their seqs; never commits.

    The chain head stays locked until the caller's transaction ends, so keep the time
    between this call and the commit short. With a `sealer`, a checkpoint is written in the
    same transaction when one is due.
    """
    if not events:
        return []
    head = await lock_head(session, reserve=len(events))
    event_rows, citizen_rows, last_hash = chained_rows(
        list(events), first_seq=head.last_seq + 1, prev_hash=head.last_hash
    )
    if _foldable(session, event_rows, citizen_rows):
        # One statement instead of two or three (the events, the citizens they touched,
        # the head's new end): the same rows in the same transaction, one round trip.
        statement, parameters = _insert_and_advance(event_rows, citizen_rows, last_hash)
        await session.execute(statement, parameters)
    else:
        await session.execute(insert(events_table), event_rows)
        if citizen_rows:
            await session.execute(insert(event_citizens_table), citizen_rows)
        await update_head(session, last_hash=last_hash)
    last_seq = head.last_seq + len(events)
    if sealer is not None:
        await sealer.after_append(session, replace(head, last_seq=last_seq, last_hash=last_hash))
    return list(range(head.last_seq + 1, last_seq + 1))


#: Bound parameters one folded or unlocked statement may carry (asyncpg's limit is 32,767).
_MAX_STATEMENT_PARAMETERS = 30_000


def _foldable(
    session: AsyncSession, event_rows: list[dict[str, Any]], citizen_rows: list[dict[str, Any]]
) -> bool:
    """Whether the append can be one statement: PostgreSQL (data-modifying CTEs; SQLite
    has none) and few enough parameters."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    parameters = sum(len(r) for r in event_rows) + sum(len(r) for r in citizen_rows)
    return parameters <= _MAX_STATEMENT_PARAMETERS


_quote = postgresql.dialect().identifier_preparer.quote  # type: ignore[no-untyped-call]

#: The folded and unlocked statements by shape (kind, columns, events, citizens rows):
#: built and compiled once each, then run with the batch's values as parameters.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}
_STATEMENT_SHAPES = 256


def _values(
    binds: list[Any], prefix: str, table: Any, names: tuple[str, ...], count: int
) -> tuple[str, str]:
    """`(:e0_a, :e0_b), (:e1_a, …)` for `count` rows of `table`'s columns `names`, their
    typed parameters appended to `binds`; and the quoted column list."""
    rows = []
    for i in range(count):
        row = []
        for name in names:
            binds.append(bindparam(f"{prefix}{i}_{name}", type_=table.c[name].type))
            row.append(f":{prefix}{i}_{name}")
        rows.append(f"({', '.join(row)})")
    return ", ".join(rows), ", ".join(_quote(name) for name in names)


def _cached(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    statement = _STATEMENTS.get(key)
    if statement is None:
        if len(_STATEMENTS) >= _STATEMENT_SHAPES:
            _STATEMENTS.clear()
        statement = _STATEMENTS[key] = build()
    return statement


def _folded_statement(columns: tuple[str, ...], events: int, citizens: int) -> Any:
    """`WITH appended AS (INSERT events), touched AS (INSERT citizens) UPDATE head` for a
    batch of this shape, its values as bound parameters `e<i>_<column>`, `c<i>_<column>`.

    PostgreSQL runs every data-modifying part of a WITH exactly once, whether or not the
    main statement reads it, and checks the citizens' foreign key at the statement's end.
    Written as text with typed parameters: SQLAlchemy caches no compiled form of a WITH of
    DML (it would compile it for every batch), but does cache a `text()`.
    """

    def build() -> Any:
        binds = [bindparam("last_hash", type_=head_table.c.last_hash.type)]
        rows, quoted = _values(binds, "e", events_table, columns, events)
        parts = [f"appended AS (INSERT INTO {_quote(events_table.name)} ({quoted}) VALUES {rows})"]
        if citizens:
            rows, quoted = _values(binds, "c", event_citizens_table, _CITIZEN_COLUMNS, citizens)
            table = _quote(event_citizens_table.name)
            parts.append(f"touched AS (INSERT INTO {table} ({quoted}) VALUES {rows})")
        head = _quote(head_table.name)
        sql = f"WITH {', '.join(parts)} UPDATE {head} SET last_hash = :last_hash WHERE id = 1"
        return text(sql).bindparams(*binds)

    return _cached(("folded", columns, events, citizens), build)


def _unlocked_statement(columns: tuple[str, ...], events: int, citizens: int) -> Any:
    """The batch appended only if the head is still where it was read, in one statement:
    `WITH advanced AS (UPDATE head … WHERE last_seq = :expected_seq AND last_hash =
    :expected_hash RETURNING id)`, then the events and citizens inserted only when
    `advanced` has its row. The statement returns how many head rows moved (1 or 0) and the
    head as its snapshot saw it: after a lost race that is, most often, the head that won,
    so the retry needs no read of its own (with two workers appending in turn, nearly
    every batch found its kept head stale and paid a read before the retry)."""

    def build() -> Any:
        binds = [
            bindparam(name, type_=head_table.c[column].type)
            for name, column in (
                ("last_seq", "last_seq"),
                ("last_hash", "last_hash"),
                ("expected_seq", "last_seq"),
                ("expected_hash", "last_hash"),
            )
        ]
        head = _quote(head_table.name)
        parts = [
            f"advanced AS (UPDATE {head} SET last_seq = :last_seq, last_hash = :last_hash "
            "WHERE id = 1 AND last_seq = :expected_seq AND last_hash = :expected_hash "
            "RETURNING id)"
        ]
        tables = [("appended", "e", events_table, columns, events)]
        if citizens:
            tables.append(("touched", "c", event_citizens_table, _CITIZEN_COLUMNS, citizens))
        for name, prefix, table, names, count in tables:
            rows, quoted = _values(binds, prefix, table, names, count)
            parts.append(
                f"{name} AS (INSERT INTO {_quote(table.name)} ({quoted}) SELECT * FROM "
                f"(VALUES {rows}) AS v ({quoted}) WHERE EXISTS (SELECT FROM advanced))"
            )
        selected = ", ".join(_quote(name) for name in HEAD_COLUMNS)
        sql = (
            f"WITH {', '.join(parts)} SELECT (SELECT count(*) FROM advanced) AS moved, "
            f"{selected} FROM {head} WHERE id = 1"
        )
        return (
            text(sql)
            .bindparams(*binds)
            .columns(column("moved", Integer), *(head_table.c[name] for name in HEAD_COLUMNS))
        )

    return _cached(("unlocked", columns, events, citizens), build)


_CITIZEN_COLUMNS = ("event_seq", "citizen_id", "fields")


def _parameters(
    event_rows: list[dict[str, Any]], citizen_rows: list[dict[str, Any]], **head: Any
) -> dict[str, Any]:
    """The batch's rows as the `e<i>_<column>`, `c<i>_<column>` parameters, and `head`."""
    columns = tuple(event_rows[0])
    parameters: dict[str, Any] = dict(head)
    for i, row in enumerate(event_rows):
        parameters.update((f"e{i}_{name}", row[name]) for name in columns)
    for i, row in enumerate(citizen_rows):
        parameters.update((f"c{i}_{name}", row[name]) for name in _CITIZEN_COLUMNS)
    return parameters


def _insert_and_advance(
    event_rows: list[dict[str, Any]], citizen_rows: list[dict[str, Any]], last_hash: str
) -> tuple[Any, dict[str, Any]]:
    """The folded statement of this batch and its parameters."""
    statement = _folded_statement(tuple(event_rows[0]), len(event_rows), len(citizen_rows))
    return statement, _parameters(event_rows, citizen_rows, last_hash=last_hash)


@dataclass
class WriterStats:
    """What a writer has done, for tests, metrics and the benchmark."""

    events: int = 0
    #: Committed transactions (each carried one or more events).
    commits: int = 0
    failures: int = 0
    largest_batch: int = 0
    #: PostgreSQL: batches appended by compare-and-set, and the sets another appender won.
    unlocked: int = 0
    head_races: int = 0


_Pending = tuple[AuditEvent, "asyncio.Future[int]"]

# Errors that say the database is unreachable: retrying event by event would only multiply
# the wait, so the whole batch fails at once.
_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, OSError, TimeoutError)


class GroupCommitWriter:
    """Appends concurrent requests' events in shared transactions (group commit).

    One task drains a queue: while a commit is in flight, new events wait, and the next
    transaction carries all of them (up to `max_batch`). A batch that fails for a reason
    other than an unreachable database is retried event by event, so one malformed event
    fails only its own request.

    On PostgreSQL a batch is appended without holding the head's lock across a round trip
    (`_append_unlocked`): the writer keeps one connection in autocommit and the head it
    last saw, chains the batch from that head in Python, and appends it in one statement
    that moves the head only if it is still there (compare-and-set), else reads the head
    again and retries. The row lock is then held by PostgreSQL for that one statement and
    its commit, never while this worker's event loop runs someone else's request, so a
    busy worker does not make the others' appends wait; and a batch costs one round trip
    instead of seven (checkout ping, BEGIN, lock, insert, COMMIT). A batch whose append
    makes a checkpoint due, or that keeps losing the race, takes the locked transaction
    (`append`), which seals in the same transaction.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        sealer: Sealer | None = None,
        max_batch: int = 500,
    ) -> None:
        self.sessions = sessions
        self.sealer = sealer
        self.max_batch = max_batch
        self.stats = WriterStats()
        #: Told the queue's depth when it changes, each committed batch's size, and each
        #: set of events another appender's won the head from (metrics).
        self.on_queue: list[Callable[[int], None]] = []
        self.on_commit: list[Callable[[int], None]] = []
        self.on_head_race: list[Callable[[], None]] = []
        self._queue: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        #: The unlocked path's connection (autocommit) and the head it last left.
        self._connection: AsyncConnection | None = None
        self._head: Head | None = None

    async def write(self, event: AuditEvent) -> int:
        """Append `event` and return its seq once durable; raise `AuditWriteError` otherwise."""
        if self._closed:
            raise AuditWriteError("the audit writer is closed")
        try:
            canonical_json(event.variables)
        except (TypeError, ValueError) as error:
            raise AuditWriteError(f"unserialisable audit variables: {error}") from error
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Mark a failure seen even when the waiter was cancelled, so asyncio does not log it.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._queue.append((event, future))
        self._queued()
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="audit-group-commit")
        # A cancelled request does not withdraw its event: the log must show it was asked.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Write what is queued, then stop; later writes raise `AuditWriteError`."""
        self._closed = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        await self._drop_connection()

    async def _run(self) -> None:
        """Drain the queue, one transaction per batch, until closed and empty."""
        while True:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                self._queued()
                await self._flush(batch)
            if self._closed:
                return
            self._wakeup.clear()
            await self._wakeup.wait()

    async def _flush(self, batch: list[_Pending]) -> None:
        """Commit `batch`; resolve each waiter with its seq or an `AuditWriteError`."""
        try:
            seqs = await self._commit([event for event, _ in batch])
        except Exception as error:
            if len(batch) > 1 and not isinstance(error, _UNAVAILABLE):
                for item in batch:
                    await self._flush([item])
                return
            self.stats.failures += len(batch)
            log.error("audit write failed for %d event(s): %r", len(batch), error)
            failure = AuditWriteError(f"the audit event could not be written: {error}")
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        self.stats.commits += 1
        self.stats.events += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        for hook in self.on_commit:
            hook(len(batch))
        for (_, future), seq in zip(batch, seqs, strict=True):
            if not future.done():
                future.set_result(seq)

    def _queued(self) -> None:
        for hook in self.on_queue:
            hook(len(self._queue))

    async def _commit(self, events: list[AuditEvent]) -> list[int]:
        """Append `events` and commit them: unlocked when it can, else in a transaction."""
        engine = self.sessions.kw.get("bind")
        if isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql":
            seqs = await self._append_unlocked(engine, events)
            if seqs is not None:
                return seqs
        self._head = None  # the transaction moves the head: read it afresh next time
        # Durable means what the engine's commit means: fsync on PostgreSQL (its default
        # synchronous_commit); on SQLite it depends on `PRAGMA synchronous` (see hub.db).
        async with self.sessions() as session, session.begin():
            return await append(session, events, sealer=self.sealer)

    async def _append_unlocked(
        self, engine: AsyncEngine, events: list[AuditEvent]
    ) -> list[int] | None:
        """Append `events` by compare-and-set on the head (see the class docstring): their
        seqs, or None when the locked transaction must do it (a checkpoint is due, the
        batch is too big for one statement, or the head kept moving)."""
        reconnected = False
        for _ in range(_UNLOCKED_ATTEMPTS):
            connection = await self._open(engine)
            try:
                head = self._head or await read_head(connection)
                if self.sealer is not None and (
                    head.last_checkpoint_at is None
                    or self.sealer.due(
                        replace(head, last_seq=head.last_seq + len(events)), self.sealer.clock()
                    )
                ):
                    return None
                event_rows, citizen_rows, last_hash = chained_rows(
                    events, first_seq=head.last_seq + 1, prev_hash=head.last_hash
                )
                parameters = _parameters(
                    event_rows,
                    citizen_rows,
                    last_seq=head.last_seq + len(events),
                    last_hash=last_hash,
                    expected_seq=head.last_seq,
                    expected_hash=head.last_hash,
                )
                if len(parameters) > _MAX_STATEMENT_PARAMETERS:
                    return None
                statement = _unlocked_statement(
                    tuple(event_rows[0]), len(event_rows), len(citizen_rows)
                )
                answer = (await connection.execute(statement, parameters)).first()
            except BaseException as error:
                # Whatever failed (the event, the connection), start from a fresh one.
                await self._drop_connection()
                lost = isinstance(error, exc.DBAPIError) and error.connection_invalidated
                if lost and not reconnected:
                    # The kept connection died while idle (a database restart): the pool
                    # pings the next one on checkout, as it does for every other session.
                    reconnected = True
                    continue
                raise
            if answer is not None and answer.moved:
                last_seq = head.last_seq + len(events)
                self._head = replace(head, last_seq=last_seq, last_hash=last_hash)
                self.stats.unlocked += 1
                return list(range(head.last_seq + 1, last_seq + 1))
            # Another appender moved the head first. The statement's snapshot shows where
            # to, unless that appender committed only after the snapshot was taken (the
            # head then looks unmoved): read it again in that case.
            seen = head_of(answer) if answer is not None else None
            stale = seen is None or (seen.last_seq, seen.last_hash) == (
                head.last_seq,
                head.last_hash,
            )
            self._head = None if stale else seen
            self.stats.head_races += 1
            for hook in self.on_head_race:
                hook()
        return None

    async def _open(self, engine: AsyncEngine) -> AsyncConnection:
        if self._connection is None or self._connection.closed:
            connection = await engine.connect()
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    async def _drop_connection(self) -> None:
        connection, self._connection, self._head = self._connection, None, None
        if connection is not None:
            try:
                await connection.close()
            except Exception as error:  # a broken connection: the pool discards it anyway
                log.debug("audit writer: closing its connection failed: %r", error)


#: Compare-and-set attempts of a batch before it takes the locked transaction.
_UNLOCKED_ATTEMPTS = 3
