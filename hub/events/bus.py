"""Publish/subscribe between the hub's processes: in-process, PostgreSQL, or Redis.

One bus per process. `publish` sends messages to every process sharing the database (this one
included), and each process hands them to its local listeners (the subscription fan-out, the
webhook worker's wake-up). Messages carry ids only; whoever hears one reads the object again
under its own row rules. The bus is for the live path: a message lost while a connection is
down costs a subscriber one notification, never a webhook (those come from the outbox).

- `InProcessBus`: one process (the embedded SQLite default).
- `PostgresBus`: LISTEN/NOTIFY on a dedicated asyncpg connection (PostgreSQL).
- `RedisBus`: Redis pub/sub (`HUB_REDIS_URL`), when workers do not share a PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import make_url

from hub.settings import Settings

log = logging.getLogger(__name__)

Listener = Callable[["BusMessage"], None]


@dataclass(frozen=True, slots=True)
class BusMessage:
    """One event as it travels between processes: its kind and the ids it is about."""

    kind: str
    need_id: int
    #: The outbox row (`event_outbox.id`).
    event_id: int
    #: The only organisation concerned (a pledge's holder), or None.
    organization_id: int | None = None

    def encode(self) -> str:
        """The wire form (compact JSON)."""
        return orjson.dumps(
            {"k": self.kind, "n": self.need_id, "e": self.event_id, "o": self.organization_id}
        ).decode()

    @classmethod
    def decode(cls, raw: str | bytes) -> BusMessage | None:
        """The message of a wire form; None (and a log line) when it is not one."""
        try:
            data = orjson.loads(raw)
            return cls(
                kind=str(data["k"]),
                need_id=int(data["n"]),
                event_id=int(data["e"]),
                organization_id=None if data.get("o") is None else int(data["o"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("ignored a malformed bus message: %r", raw[:200])
            return None


class EventBus:
    """The in-process bus, and the local fan-out every backend shares."""

    #: The backend's name, for logs and the benchmark report.
    name = "in-process"

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` (synchronously, on the event loop) with every message."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling `listener`."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _deliver(self, message: BusMessage) -> None:
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:  # one broken listener must not starve the others
                log.exception("event listener failed on %s", message)

    async def start(self) -> None:
        """Connect (nothing to do in-process)."""

    async def close(self) -> None:
        """Disconnect, after the messages being sent are out."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def publish(self, messages: Sequence[BusMessage]) -> None:
        """Send `messages` to every process, this one included."""
        for message in messages:
            self._deliver(message)

    def publish_soon(self, messages: Sequence[BusMessage]) -> None:
        """`publish` from synchronous code running on the event loop (an after-commit hook)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a synchronous caller (a script): nobody here listens live
            return
        task = loop.create_task(self._publish_logged(list(messages)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish_logged(self, messages: list[BusMessage]) -> None:
        try:
            await self.publish(messages)
        except Exception:  # subscribers miss this one; webhooks still have the outbox
            log.exception("could not publish %d events on the %s bus", len(messages), self.name)


class PostgresBus(EventBus):
    """LISTEN/NOTIFY on one dedicated connection per process (reconnects when it drops)."""

    name = "postgresql"

    def __init__(self, database_url: str, channel: str) -> None:
        super().__init__()
        # asyncpg speaks libpq URLs; SQLAlchemy's names the driver in the scheme.
        self.dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        self.channel = channel
        self._connection: Any = None
        self._lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    async def start(self) -> None:
        try:
            await self._connect()
        except Exception as error:  # the hub starts with its database down; retry
            log.warning("event bus: PostgreSQL unreachable (%s); retrying", error)
            self._lost.set()
        self._supervisor = asyncio.create_task(self._reconnect_when_lost(), name="bus-postgres")

    async def _connect(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.dsn)
        await connection.add_listener(self.channel, self._on_notify)
        connection.add_termination_listener(lambda _: self._lost.set())
        self._connection = connection

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        message = BusMessage.decode(payload)
        if message is not None:
            self._deliver(message)

    async def _reconnect_when_lost(self) -> None:
        while True:
            await self._lost.wait()
            self._lost.clear()
            delay = 0.5
            while True:
                try:
                    async with self._lock:
                        await self._connect()
                    log.warning("event bus: reconnected to PostgreSQL")
                    break
                except Exception as error:
                    log.warning("event bus: PostgreSQL unreachable (%s); retrying", error)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10)

    async def close(self) -> None:
        await super().close()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def publish(self, messages: Sequence[BusMessage]) -> None:
        # This process hears its own NOTIFY through its LISTEN: no local delivery here.
        async with self._lock:
            if self._connection is None or self._connection.is_closed():
                raise ConnectionError("the event bus is not connected to PostgreSQL")
            for message in messages:
                await self._connection.execute(
                    "SELECT pg_notify($1, $2)", self.channel, message.encode()
                )


class RedisBus(EventBus):
    """Redis pub/sub: one subscribing connection per process, plus a pool to publish."""

    name = "redis"

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._redis: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(self.url)
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._reader = asyncio.create_task(self._read(pubsub), name="bus-redis")

    async def _read(self, pubsub: Any) -> None:
        try:
            while not pubsub.subscribed:
                try:
                    await pubsub.subscribe(self.channel)
                except Exception as error:  # Redis down at start: keep trying
                    log.warning("event bus: Redis unreachable (%s); retrying", error)
                    await asyncio.sleep(1)
            while True:
                try:
                    message = await pubsub.get_message(timeout=None)
                except Exception as error:  # redis' ConnectionError, TimeoutError, …
                    # The next read reconnects and subscribes again (redis-py's PubSub).
                    log.warning("event bus: Redis read failed (%s); retrying", error)
                    await asyncio.sleep(1)
                    continue
                if message is not None and message.get("type") == "message":
                    decoded = BusMessage.decode(message["data"])
                    if decoded is not None:
                        self._deliver(decoded)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def close(self) -> None:
        await super().close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, messages: Sequence[BusMessage]) -> None:
        # Redis echoes the message to this process's own subscription.
        async with self._redis.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.publish(self.channel, message.encode())
            await pipe.execute()


def bus_from_settings(settings: Settings) -> EventBus:
    """Redis when `HUB_REDIS_URL` is set, else LISTEN/NOTIFY on PostgreSQL, else in-process."""
    events = settings.events
    if events.redis_url:
        return RedisBus(events.redis_url.get_secret_value(), events.channel)
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        return PostgresBus(settings.database_url, events.channel)
    return EventBus()
