"""Database engine, sessions and the declarative base shared by every domain.

The same models and migrations serve SQLite (embedded default) and PostgreSQL (production).
Two column types smooth over their differences: `BigId` (a 64-bit key that SQLite still
auto-increments) and `UTCDateTime` (always timezone-aware in Python, whatever the backend).
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

#: Constraint names are stable so that migrations can refer to them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: 64-bit on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps the offset (`timestamptz`); SQLite stores naive text, so values are
    normalised to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the hub stores timezone-aware times only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text from a core query
            value = dt.datetime.fromisoformat(value)
        moment: dt.datetime = value
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every hub table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine for `url`, with the per-backend settings the hub relies on."""
    backend = make_url(url).get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo}
    if backend == "sqlite":
        _prepare_sqlite_file(url)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        # No `pool_pre_ping`: see `_ping_if_idle`. LIFO hands out the connection used last,
        # so that under load the same few stay warm (and unpinged) while the rest idle.
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True)
        # PostgreSQL's JIT compiles a query whose estimated cost is high, which the row
        # rules' correlated subqueries often are: measured at 270 ms on a 30 ms page query.
        # The hub runs short OLTP queries; compiling never pays off.
        kwargs["connect_args"] = {"server_settings": {"jit": "off"}}
    engine = create_async_engine(url, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    else:
        event.listen(engine.sync_engine, "checkin", _note_idle_since)
        event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    return engine


#: A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 1.0


def _note_idle_since(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["hub_idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for idle connections only.

    `pool_pre_ping` pings at every checkout, and asyncpg's ping is three round trips (a
    transaction begun, `;`, rolled back): on a cheap request, more than its own statements.
    A connection back in the pool within the last second was working then; one idle for
    longer (a database restart may have dropped it) is pinged, and a failed ping makes the
    pool open another (`DisconnectionError`, SQLAlchemy's documented recipe). A connection
    lost within that second fails its statement; SQLAlchemy then invalidates the pool, and
    the request is answered `SERVICE_UNAVAILABLE` with `Retry-After` like any other outage.
    """
    idle_since = record.info.get("hub_idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:
        raise sa_exc.DisconnectionError() from error


#: Execution option asking SQLite to take the write lock when the transaction begins.
WRITE_TRANSACTION = {"hub_write": True}


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The driver's own transaction handling breaks SAVEPOINT (it commits on RELEASE);
    # SQLAlchemy's documented recipe: switch it off and emit BEGIN ourselves (below).
    dbapi_connection.isolation_level = None
    # SQLite leaves foreign keys off by default; WAL lets readers proceed during a write.
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the response leaves (the audit trail promises it).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
    except Exception:
        # SQLite opens lazily: a file that cannot be opened fails here, and the pool, which
        # never got the connection, would leave it (and its thread) unclosed.
        dbapi_connection.close()
        raise


def _sqlite_on_begin(connection: Any) -> None:
    # A transaction that will write takes the lock up front (IMMEDIATE): a deferred one
    # that read first could not upgrade once another writer had committed, and would fail
    # instead of waiting its turn.
    immediate = connection.get_execution_options().get("hub_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def session_factory(
    engine: AsyncEngine, *, write: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (responses are built after it).

    `write=True`: each transaction takes SQLite's write lock as it begins, so concurrent
    writers queue (up to the busy timeout) instead of failing; no effect on PostgreSQL.
    """
    bind = engine.execution_options(**WRITE_TRANSACTION) if write else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


#: SQLSTATE classes that mean "the server cannot serve now": connection exceptions (08),
#: insufficient resources (53), operator intervention such as a shutdown (57).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57")
_SQLITE_UNAVAILABLE = ("unable to open database file", "database is locked", "disk I/O error")


def is_unavailable(error: BaseException) -> bool:
    """True when `error` says the database cannot be reached or is going away (worth a retry
    later), as opposed to a statement the database refused."""
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current, OSError | TimeoutError | sa_exc.TimeoutError | sa_exc.InterfaceError
        ):
            return True
        # SQLite has no SQLSTATE; its OperationalError also means "no such table" (a bug,
        # not an outage), so only these messages count.
        if type(current).__module__ == "sqlite3" and str(current).startswith(_SQLITE_UNAVAILABLE):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        # The driver's own error (SQLAlchemy's `orig`), or what the driver wrapped.
        current = getattr(current, "orig", None) or current.__cause__
    return False


#: Execution option carried by every statement a request's own session runs: its request id.
#: Logs and tests tell the request's statements from the process's background reads (the
#: policy version check, the client status cache) by it.
REQUEST_ID_OPTION = "hub_request_id"


#: `Session.info` key: the engine a request's session was made from (`request_session`).
_BASE_BIND = "hub_base_bind"

#: Per engine, its AUTOCOMMIT variant, made once: an isolation level is the costly option
#: (SQLAlchemy gives the new engine a listener that sets the level on every checkout),
#: about four times a request id's (timeit: 47 against 13 µs).
_AUTOCOMMIT: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def request_session(sessions: async_sessionmaker[AsyncSession], request_id: str) -> AsyncSession:
    """A session from `sessions` whose statements carry `request_id` (`REQUEST_ID_OPTION`)."""
    bind = sessions.kw["bind"]
    session = sessions(bind=bind.execution_options(**{REQUEST_ID_OPTION: request_id}))
    session.info[_BASE_BIND] = bind
    return session


def statement_request_id(connection: Any) -> str | None:
    """The request id a statement on `connection` (a sync `Connection`) was run for."""
    value = connection.get_execution_options().get(REQUEST_ID_OPTION)
    return value if isinstance(value, str) else None


def reads_outside_transaction(session: AsyncSession) -> None:
    """Let a read-only request's statements run without BEGIN and ROLLBACK (PostgreSQL).

    At READ COMMITTED, the hub's level, each statement of a transaction takes its own
    snapshot anyway, so a query's statements see what they would see inside one; the two
    round trips around them were 23 % of a cheap query's samples in the hub (py-spy, one
    worker, `{ regions { code } }`, bench/results/attack.md).
    Only before the session's first statement: a begun transaction is left as it is. SQLite
    keeps its transactions (no round trip, and its BEGIN is what orders readers and writers).
    """
    bind = session.bind
    if (
        not isinstance(bind, AsyncEngine)
        or bind.dialect.name != "postgresql"
        or session.in_transaction()
    ):
        return
    base = session.info.get(_BASE_BIND)
    if not isinstance(base, AsyncEngine):  # not a request's session: no cached variant
        session.bind = bind.execution_options(isolation_level="AUTOCOMMIT")
        return
    autocommit = _AUTOCOMMIT.get(base)
    if autocommit is None:
        autocommit = _AUTOCOMMIT[base] = base.execution_options(isolation_level="AUTOCOMMIT")
    request_id = bind.get_execution_options().get(REQUEST_ID_OPTION)
    session.bind = autocommit.execution_options(**{REQUEST_ID_OPTION: request_id})


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on any error."""
    async with sessions() as session, session.begin():
        yield session


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query (readiness)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


_Item = TypeVar("_Item")

#: Keys per `IN (…)` list. A driver bounds one statement's parameters (asyncpg 32,767),
#: and a sweep or an import may name far more rows than that.
IN_LIST_SIZE = 1000


def in_chunks(items: Sequence[_Item], size: int = IN_LIST_SIZE) -> Iterator[Sequence[_Item]]:
    """`items` in consecutive slices of at most `size`, for statements with an IN list."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
