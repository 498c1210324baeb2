"""Keyset pagination: sort keys, the opaque cursor codec, and the page cut.

Free of the API layer, so that domain queries can declare their orders (`SortKey`) without
importing strawberry; `hub.graphql.relay` turns a `Page` into a Relay connection.

Cursors hold the sort-key values of the last row, so the next page is a
`WHERE (sort keys) > (cursor)` range scan on an index, not an OFFSET that grows with the page
number.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.engine import Row


class CursorError(ValueError):
    """`after` is not a cursor of this list (the API layer shows it as INVALID_CURSOR)."""

    code = "INVALID_CURSOR"


@dataclass(frozen=True, slots=True)
class SortKey:
    """One column of a page's order; the last key of an order must be unique (the id).

    `name` is the label the column has in the statement's rows (the cursor reads it there).
    """

    column: ColumnElement[Any]
    name: str
    descending: bool = False

    def order(self) -> ColumnElement[Any]:
        return self.column.desc() if self.descending else self.column.asc()


def encode_cursor(values: Sequence[object]) -> str:
    """An opaque cursor holding the sort-key values of one row."""
    return base64.urlsafe_b64encode(orjson.dumps([_plain(v) for v in values])).decode()


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _typed(value: object) -> object:
    if isinstance(value, dict):
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
    return value


def decode_cursor(cursor: str, length: int) -> list[object]:
    """The sort-key values inside `cursor`; raise `CursorError` when it is not one of ours."""
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError):
        raw = None
    if not isinstance(raw, list) or len(raw) != length:
        raise CursorError(
            "`after` is not a cursor from this list; pass `pageInfo.endCursor` of the "
            "previous page unchanged"
        )
    try:
        return [_typed(v) for v in raw]
    except (TypeError, ValueError):
        raise CursorError("`after` holds a damaged cursor") from None


def _after(keys: Sequence[SortKey], values: Sequence[object]) -> ColumnElement[bool]:
    # (a, b, id) > (x, y, z) in the order's directions, expanded so that mixed
    # ascending/descending keys and NULL-free columns work on every backend.
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


@dataclass(slots=True)
class Page:
    """The rows of one page, and whether more follow."""

    rows: list[Row[Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool

    @property
    def end_cursor(self) -> str | None:
        """The `after` of the next page (None for an empty page)."""
        return self.cursors[-1] if self.cursors else None


def paginate(
    statement: Select[Any], keys: Sequence[SortKey], *, first: int, after: str | None
) -> Select[Any]:
    """`statement` ordered by `keys`, starting after the cursor, one row past the page."""
    if after is not None:
        statement = statement.where(_after(keys, decode_cursor(after, len(keys))))
    return statement.order_by(*(k.order() for k in keys)).limit(first + 1)


def to_page(
    rows: Sequence[Row[Any]], keys: Sequence[SortKey], *, first: int, after: str | None
) -> Page:
    """Cut the extra row off and compute each row's cursor."""
    visible = list(rows[:first])
    cursors = [encode_cursor([row._mapping[k.name] for k in keys]) for row in visible]
    return Page(visible, cursors, has_next=len(rows) > first, has_previous=after is not None)
