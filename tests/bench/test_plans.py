"""bench.plans' checks on EXPLAIN (FORMAT JSON) trees: what fails, what passes."""

from __future__ import annotations

from typing import Any

from bench.plans import BIG_TABLE_ROWS, problems_of


def _node(kind: str, rows: int, *children: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "Node Type": kind,
        "Actual Rows": rows,
        "Actual Loops": 1,
        "Plans": list(children),
        **extra,
    }


BIG = {"needs": BIG_TABLE_ROWS * 4.0, "regions": 182.0}


def test_a_page_read_off_an_index_passes() -> None:
    plan = _node("Limit", 51, _node("Index Scan", 51, **{"Relation Name": "needs"}))
    assert problems_of(plan, BIG) == []


def test_sorting_every_match_to_keep_a_page_fails() -> None:
    scan = _node("Index Scan", 21_738, **{"Relation Name": "needs"})
    plan = _node(
        "Limit", 51, _node("Incremental Sort", 51, scan, **{"Sort Key": ["severity DESC"]})
    )
    (problem,) = problems_of(plan, BIG)
    assert "incremental sort of 21,738 rows by (severity DESC) to return 51" in problem


def test_sorting_what_is_returned_passes() -> None:
    # A GROUP BY's output sorted for the answer: no more rows sorted than returned.
    plan = _node("Sort", 240, _node("HashAggregate", 240, _node("Index Only Scan", 900)))
    assert problems_of(plan, BIG) == []


def test_a_sequential_scan_fails_on_a_big_table_only() -> None:
    big = _node("Seq Scan", 10, **{"Relation Name": "needs"})
    small = _node("Seq Scan", 10, **{"Relation Name": "regions"})
    assert problems_of(big, BIG) == [
        "sequential scan of needs (200,000 rows): no index serves this condition"
    ]
    assert problems_of(small, BIG) == []
    assert problems_of(big, {"needs": 100.0}) == []  # a tiny city: a scan is the right plan
