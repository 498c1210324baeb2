"""Fair turns between clients in a worker (hub.edge.turns): who runs next, and that a
turn is never lost or doubled."""

from __future__ import annotations

import asyncio
from collections import Counter

from hub.edge.turns import Turns, answered, waiting


class Worker:
    """Requests that enter a `Turns`, say when they start, and finish when told."""

    def __init__(self, size: int) -> None:
        self.load: Counter[str] = Counter()
        self.turns = Turns(size, lambda client: self.load[client])
        self.started: list[str] = []
        self.finish: dict[str, asyncio.Event] = {}

    async def request(self, client: str, name: str) -> None:
        self.load[client] += 1
        self.finish[name] = asyncio.Event()
        try:
            async with self.turns.turn(client):
                self.started.append(name)
                await self.finish[name].wait()
        finally:
            self.load[client] -= 1

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)


async def test_the_quiet_client_goes_before_the_busy_clients_queue() -> None:
    worker = Worker(size=1)
    tasks = [asyncio.create_task(worker.request("flood", f"flood-{n}")) for n in range(4)]
    await worker.settle()
    tasks.append(asyncio.create_task(worker.request("victim", "victim")))
    await worker.settle()
    assert worker.started == ["flood-0"]

    worker.finish["flood-0"].set()
    await worker.settle()
    # The victim has one request in the worker, the flood three: the victim is next,
    # though it came last.
    assert worker.started == ["flood-0", "victim"]
    for name in ("victim", "flood-1", "flood-2", "flood-3"):
        worker.finish[name].set()
        await worker.settle()
    await asyncio.gather(*tasks)
    assert worker.started == ["flood-0", "victim", "flood-1", "flood-2", "flood-3"]
    assert worker.turns.running == 0 and worker.turns.waiting_count() == 0


async def test_equal_clients_are_served_in_arrival_order() -> None:
    worker = Worker(size=1)
    tasks = [asyncio.create_task(worker.request(f"client-{n}", f"r{n}")) for n in range(4)]
    await worker.settle()
    for n in range(4):
        worker.finish[f"r{n}"].set()
        await worker.settle()
    await asyncio.gather(*tasks)
    assert worker.started == ["r0", "r1", "r2", "r3"]


async def test_at_most_size_requests_run_at_once() -> None:
    worker = Worker(size=2)
    tasks = [asyncio.create_task(worker.request(f"c{n % 3}", f"r{n}")) for n in range(6)]
    await worker.settle()
    assert len(worker.started) == 2 and worker.turns.running == 2
    for name in [f"r{n}" for n in range(6)]:
        worker.finish[name].set()
        await worker.settle()
        assert worker.turns.running <= 2
    await asyncio.gather(*tasks)
    assert sorted(worker.started) == [f"r{n}" for n in range(6)]
    assert worker.turns.running == 0


async def test_a_wait_without_cpu_gives_the_turn_to_the_next_request() -> None:
    worker = Worker(size=1)
    durable = asyncio.Event()
    order: list[str] = []

    async def reader() -> None:
        worker.load["reader"] += 1
        async with worker.turns.turn("reader"):
            order.append("reader computes")
            async with waiting():  # e.g. the audit's group commit
                await durable.wait()
            order.append("reader answers")
        worker.load["reader"] -= 1

    task = asyncio.create_task(reader())
    await worker.settle()
    other = asyncio.create_task(worker.request("other", "other"))
    await worker.settle()
    # The reader waits for durability; the other request runs meanwhile.
    assert worker.started == ["other"]
    durable.set()
    await worker.settle()
    assert order == ["reader computes"]  # the turn is the other's until it ends
    worker.finish["other"].set()
    await asyncio.gather(task, other)
    assert order == ["reader computes", "reader answers"]
    assert worker.turns.running == 0


async def test_a_cancelled_waiter_loses_no_turn() -> None:
    worker = Worker(size=1)
    first = asyncio.create_task(worker.request("a", "first"))
    await worker.settle()
    cancelled = asyncio.create_task(worker.request("b", "cancelled"))
    third = asyncio.create_task(worker.request("c", "third"))
    await worker.settle()
    cancelled.cancel()
    await worker.settle()
    worker.finish["first"].set()
    await worker.settle()
    assert worker.started == ["first", "third"]
    worker.finish["third"].set()
    await asyncio.gather(first, third)
    assert cancelled.cancelled()
    assert worker.turns.running == 0 and worker.turns.waiting_count() == 0


async def test_outside_a_turn_waiting_changes_nothing() -> None:
    async with waiting():
        await asyncio.sleep(0)


async def test_an_answer_that_started_gives_its_turn_back() -> None:
    worker = Worker(size=1)
    streaming = asyncio.Event()

    async def stream() -> None:
        async with worker.turns.turn("subscriber"):
            answered()  # the first bytes are out; the stream may last for hours
            await streaming.wait()

    task = asyncio.create_task(stream())
    await worker.settle()
    other = asyncio.create_task(worker.request("other", "other"))
    await worker.settle()
    assert worker.started == ["other"]
    worker.finish["other"].set()
    streaming.set()
    await asyncio.gather(task, other)
    assert worker.turns.running == 0
