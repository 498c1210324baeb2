"""A background task that runs one step every few seconds until it is stopped.

The pledge sweeper and the pledge-expiry warner are both this: a step that opens its own
transaction and returns how many things it did, logged when it did any. A failed step is
logged and retried at the next round; requests go on regardless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    """Runs `step` every `interval` seconds (0: never) from `start()` until `stop()`."""

    def __init__(
        self, name: str, step: Callable[[], Awaitable[int]], *, interval: float, did: str
    ) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        #: How a round that did something is logged, with its count (`"expired %d pledges"`).
        self.did = did
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin running in the background (once; not at all when the interval is 0)."""
        if self._task is None and self.interval > 0:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            try:
                done = await self.step()
                if done:
                    log.info(self.did, done)
            except Exception:  # the next round retries
                log.exception("%s failed", self.name)
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stop running, waiting for a round in progress to be cancelled."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
