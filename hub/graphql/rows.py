"""Reading a row's columns by name, quickly, in the `from_row` mappings.

A SQLAlchemy `Row`'s attribute (`row.status`) costs about 0.3 µs, its mapping's item
(`row._mapping["status"]`) about 0.05 µs: a page of 50 needs and their people reads some
2,000 columns, so the mappings read them through the mapping. Anything else that carries
the same names as attributes (a `RETURNING` row's stand-in, a test's namespace) is read
by attribute, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class _Attributes:
    """A mapping view of an object's attributes (only what `from_row` needs of one)."""

    __slots__ = ("_source",)

    def __init__(self, source: Any) -> None:
        self._source = source

    def __getitem__(self, name: str) -> Any:
        return getattr(self._source, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self._source, name, default)


def columns(row: Any) -> Mapping[str, Any] | _Attributes:
    """`row`'s columns by name: its mapping when it is a SQLAlchemy row, else its attributes."""
    mapping = getattr(row, "_mapping", None)
    return mapping if mapping is not None else _Attributes(row)
