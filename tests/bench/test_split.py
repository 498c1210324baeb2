"""The profiler-free split of bench/profiling.py times functions that exist, and undoes
its wrapping."""

from __future__ import annotations

import asyncio
import importlib

from bench.profiling import SPLIT_PHASES, _install, _timed


def test_every_phase_names_a_function_of_the_hub() -> None:
    importlib.import_module("hub.graphql.schema")
    for label, module_name, owner_name, attribute in SPLIT_PHASES:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        assert callable(getattr(owner, attribute, None)), label


def test_timed_counts_the_outermost_call_only_and_install_restores() -> None:
    totals: dict[str, list[float]] = {}

    def inner(n: int) -> int:
        return n if n == 0 else inner_timed(n - 1)

    inner_timed = _timed(inner, "inner", totals)
    assert inner_timed(3) == 0
    assert len(totals) == 1 and totals["inner"][0] > 0

    async def waiting() -> str:
        await asyncio.sleep(0.01)
        return "done"

    assert asyncio.run(_timed(waiting, "waiting", totals)()) == "done"
    assert totals["waiting"][0] >= 0.01  # wall clock includes the wait

    from hub.graphql import cost, lists

    before = (lists.page_of, cost.actual_cost)
    restore = _install({})
    assert (lists.page_of, cost.actual_cost) != before
    for owner, attribute, original in reversed(restore):
        setattr(owner, attribute, original)
    assert (lists.page_of, cost.actual_cost) == before
