"""Fair turns between clients inside one worker.

A worker's event loop interleaves every request it has started, so a client with four
requests running gets four times the CPU of a client with one, and each of its requests
stretches everyone else's. `Turns` lets at most `HUB_WORKER_MAX_RUNNING` GraphQL
requests run at once in a worker; the others wait, and when a turn frees it goes to the
waiting request whose client has the fewest requests in the worker (running or waiting),
the oldest first among equals. A foundation asking once in a while is then served next,
ahead of a client flooding the worker with its allowance, and shares the loop with at
most `HUB_WORKER_MAX_RUNNING - 1` other requests.

A turn is CPU, not a place in the pool: around a wait that needs no CPU (the audit's
group commit, a held refusal) the request gives its turn to the next one (`waiting()`)
and asks for it back after, so that group commit still batches many requests' events.
The request's session is closed before that wait (hub/graphql/audit.py), so no request
waits for a turn while holding a database connection that a running one needs. Once the
answer starts (`answered()`) the turn is given back for good: a streamed answer must not
keep it for as long as its subscriber listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class _Waiter:
    client_id: str
    order: int
    future: asyncio.Future[None]


@dataclass
class _Turn:
    """A request's turn: whether it holds it now (it does not while in `waiting()`)."""

    turns: Turns
    client_id: str
    held: bool = False


_current: ContextVar[_Turn | None] = ContextVar("hub_turn", default=None)


@dataclass
class Turns:
    """At most `size` requests run at once in this worker; see the module docstring.

    `load(client_id)` says how many requests a client has in the worker (the middleware's
    gate knows); the waiter of the least loaded client goes first."""

    size: int
    load: Callable[[str], int]
    running: int = 0
    _waiting: dict[str, deque[_Waiter]] = field(default_factory=dict)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    @contextlib.asynccontextmanager
    async def turn(self, client_id: str) -> AsyncIterator[None]:
        """Hold a turn for the request of `client_id` while the body runs."""
        turn = _Turn(self, client_id)
        token = _current.set(turn)
        try:
            await self._acquire(turn)
            yield
        finally:
            _current.reset(token)
            if turn.held:
                self._release(turn)

    def waiting_count(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    async def _acquire(self, turn: _Turn) -> None:
        if self.running < self.size and not self._waiting:
            self.running += 1
            turn.held = True
            return
        waiter = _Waiter(
            turn.client_id, next(self._order), asyncio.get_running_loop().create_future()
        )
        self._waiting.setdefault(turn.client_id, deque()).append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                # Granted as it was cancelled: the turn was counted for it; pass it on.
                self.running -= 1
                self._grant()
            else:
                self._forget(waiter)
            raise
        turn.held = True

    def _release(self, turn: _Turn) -> None:
        turn.held = False
        self.running -= 1
        self._grant()

    def _grant(self) -> None:
        """Give free turns to the waiters of the least loaded clients, oldest first."""
        while self.running < self.size and self._waiting:
            client_id = min(
                self._waiting, key=lambda key: (self.load(key), self._waiting[key][0].order)
            )
            queue = self._waiting[client_id]
            waiter = queue.popleft()
            if not queue:
                del self._waiting[client_id]
            if waiter.future.cancelled():
                continue
            self.running += 1
            waiter.future.set_result(None)

    def _forget(self, waiter: _Waiter) -> None:
        queue = self._waiting.get(waiter.client_id)
        if queue is None:
            return
        with contextlib.suppress(ValueError):
            queue.remove(waiter)
        if not queue:
            del self._waiting[waiter.client_id]


def answered() -> None:
    """The request's answer has started: its turn goes to the next request now (what is
    left is sending bytes, or a stream that may last as long as its subscriber)."""
    turn = _current.get()
    if turn is not None and turn.held:
        turn.turns._release(turn)


@contextlib.asynccontextmanager
async def waiting() -> AsyncIterator[None]:
    """Around a wait that needs no CPU: the request's turn (if it holds one) goes to the
    next request meanwhile, and is asked back after (fairly, like a new one)."""
    turn = _current.get()
    if turn is None or not turn.held:
        yield
        return
    turn.turns._release(turn)
    try:
        yield
    finally:
        await turn.turns._acquire(turn)
