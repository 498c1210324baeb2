"""The executor's short path for plain fields answers exactly as graphql-core does.

Each document runs twice over the same objects, once with strawberry's execution context
and once with the hub's, and the answers (data, errors with their paths and locations,
field order) must be identical, including the failures the short path hands over.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, ClassVar

import orjson
import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from hub.graphql.execution import HubExecutionContext


@strawberry.enum(description="A colour.")
class Colour(Enum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.interface(description="Anything with a name (gives Item an `is_type_of`).")
class Named:
    name: str = strawberry.field(description="Plain string.")


@strawberry.type(description="A leaf-rich object.")
class Item(Named):
    name: str = strawberry.field(description="Plain string.")
    size: int = strawberry.field(description="Non-null int.")
    colour: Colour = strawberry.field(description="An enum.")
    note: str | None = strawberry.field(description="Nullable string.")
    seen: dt.datetime = strawberry.field(description="A custom scalar.")
    tags: list[str] = strawberry.field(description="A list of leaves (full path).")
    child: Item | None = strawberry.field(default=None, description="A nested object.")
    strict_child: Item = strawberry.field(default=None, description="A non-null object.")  # type: ignore[assignment]
    children: list[Item] = strawberry.field(default_factory=list, description="Objects.")
    maybe_children: list[Item | None] | None = strawberry.field(
        default=None, description="Nullable objects."
    )

    @strawberry.field(description="A resolver with an argument (full path).")
    def shout(self, times: int = 1) -> str:
        return self.name.upper() * times

    @strawberry.field(description="An async resolver (full path).")
    async def later(self) -> str:
        return f"later {self.name}"


class Shade(Enum):
    """Another enum with the same values: not a Colour, whatever the short path memoised."""

    RED = "RED"


class NotAnItem:
    """An object of another class where an Item is declared (is_type_of refuses it)."""

    name = "impostor"
    size = 9


def _tree() -> list[Item]:
    """Items with lists of children, some of them broken below."""
    seen = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)

    def item(name: str, size: Any = 1, colour: Any = Colour.RED, **more: Any) -> Item:
        return Item(name=name, size=size, colour=colour, note=None, seen=seen, tags=[], **more)

    return [
        item(
            "p",
            children=[item("p1"), item("p2", child=item("p2c"), colour=Colour.BLUE)],
            strict_child=item("ps", colour=Shade.RED),
        ),
        item("q", children=[item("q1"), item("q2", size=None)], strict_child=item("qs")),
        item("r", maybe_children=[item("r1"), None, item("r3", size="x")], strict_child=None),
        item("s", child=NotAnItem(), strict_child=item("ss"), maybe_children=[NotAnItem()]),  # type: ignore[list-item]
    ]


def _items() -> list[Item]:
    seen = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)
    good = Item(
        name="a", size=1, colour=Colour.RED, note=None, seen=seen, tags=["x"],
        child=Item(name="c", size=3, colour=Colour.BLUE, note="n", seen=seen, tags=[]),
    )  # fmt: skip
    broken_null = Item(name="b", size=None, colour=Colour.BLUE, note="x", seen=seen, tags=[])  # type: ignore[arg-type]
    broken_type = Item(name="d", size="big", colour="GREEN", note=3, seen=seen, tags=[])  # type: ignore[arg-type]
    return [good, broken_null, broken_type]


@strawberry.type(description="Root.")
class Query:
    @strawberry.field(description="Items, some of them broken.")
    def items(self) -> list[Item | None]:
        return _items()  # type: ignore[return-value]

    @strawberry.field(description="Only good items, non-null all the way.")
    def strict(self) -> list[Item]:
        return _items()[:1]

    @strawberry.field(description="Items with nested lists, some broken below.")
    def tree(self) -> list[Item | None]:
        return _tree()  # type: ignore[return-value]

    @strawberry.field(description="The same under a non-null list.")
    def strict_tree(self) -> list[Item]:
        return _tree()

    @strawberry.field(description="A broken item under a non-null list.")
    def strict_broken(self) -> list[Item]:
        return _items()[1:2]


def _schema(context_class: type) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=context_class)


SLOW = _schema(StrawberryGraphQLCoreExecutionContext)
FAST = _schema(HubExecutionContext)

DOCUMENTS = {
    "leaves": "{ strict { name size colour note seen } }",
    "aliases and order": "{ strict { z: name size a: colour name n2: name } }",
    "nested and lists": "{ strict { tags child { name colour tags child { name } } name } }",
    "resolvers mixed in": "{ strict { later name shout(times: 2) size later2: later } }",
    "fragments": "fragment F on Item { size colour } { strict { ...F name ... on Item { note } } }",
    "directives": "query($y: Boolean!) { strict { name @include(if: $y) size @skip(if: $y) } }",
    "typename": "{ strict { __typename name } }",
    "merged duplicates": "{ strict { name name child { name } child { colour } } }",
    "null for non-null nulls the item": "{ items { name size } }",
    "failed coercions": "{ items { name size colour note } }",
    "error under a non-null list": "{ strictBroken { name size } }",
    "lists of objects": "{ tree { name children { name child { name } } } }",
    "null in a non-null item nulls the list": "{ tree { name children { name size } } }",
    "nullable items": "{ tree { name maybeChildren { name size } } }",
    "non-null object missing": "{ tree { name strictChild { name } } }",
    "propagation to the root": "{ strictTree { name strictChild { name } } }",
    "object of another class": "{ tree { name child { name size } maybeChildren { name } } }",
    "async below a list": "{ tree { name children { later name child { later } } } }",
    "async and errors below a list": "{ tree { children { later size } later } }",
    "typename below": "{ tree { children { __typename name } } }",
    "enums below, memoised": "{ tree { children { colour } strictChild { colour } } }",
    "fragments below": (
        "fragment C on Item { name size } { tree { children { ...C } child { ...C } } }"
    ),
}


async def _answer(schema: strawberry.Schema, document: str) -> bytes:
    result = await schema.execute(document, variable_values={"y": True})
    errors = [
        {
            "message": error.message,
            "path": error.path,
            "locations": [(at.line, at.column) for at in error.locations or []],
        }
        for error in result.errors or []
    ]
    # The JSON's bytes: the field order of every object must match too.
    return orjson.dumps({"data": result.data, "errors": errors}, default=str)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
async def test_the_short_path_answers_like_graphql_core(name: str) -> None:
    document = DOCUMENTS[name]
    slow, fast = await _answer(SLOW, document), await _answer(FAST, document)
    assert fast == slow
    assert b'"data"' in fast


async def test_failures_are_reported_with_their_paths() -> None:
    # Guard against two identical wrong answers: the broken items do fail, where expected.
    answer: dict[str, Any] = orjson.loads(await _answer(FAST, DOCUMENTS["failed coercions"]))
    paths = sorted(tuple(e["path"]) for e in answer["errors"])
    assert ("items", 1, "size") in paths
    assert ("items", 2, "size") in paths
    assert answer["data"]["items"][0] == {"name": "a", "size": 1, "colour": "RED", "note": None}
    assert answer["data"]["items"][1] is None and answer["data"]["items"][2] is None


def test_the_hub_schema_runs_on_the_short_path() -> None:
    from hub.graphql.schema import build_schema
    from hub.settings import Settings

    assert build_schema(Settings()).execution_context_class is HubExecutionContext


class _Counting(HubExecutionContext):
    """Counts the fields that take graphql-core's full path."""

    full_path: ClassVar[list[str]] = []

    def execute_field(self, parent_type: Any, source: Any, details: Any, *args: Any) -> Any:
        _Counting.full_path.append(f"{parent_type.name}.{details[0].node.name.value}")
        return super().execute_field(parent_type, source, details, *args)


async def test_only_plain_fields_skip_the_full_path() -> None:
    _Counting.full_path = []
    document = "{ strict { name size tags child { name shout } children { name } shout } }"
    await _answer(_schema(_Counting), document)
    # Plain leaves and plain objects (and lists of them) are read directly, at any depth;
    # resolvers and lists of leaves take the full path.
    assert sorted(_Counting.full_path) == ["Item.shout", "Item.shout", "Item.tags", "Query.strict"]


async def test_failures_below_objects_are_reported_with_their_paths() -> None:
    # The same guard for the nested cases: each broken value fails where it is.
    answer: dict[str, Any] = orjson.loads(
        await _answer(FAST, DOCUMENTS["null in a non-null item nulls the list"])
    )
    assert [e["path"] for e in answer["errors"]] == [["tree", 1, "children", 1, "size"]]
    assert answer["data"]["tree"][1] is None  # a non-null list: the null reaches the item
    answer = orjson.loads(await _answer(FAST, DOCUMENTS["object of another class"]))
    paths = sorted(tuple(e["path"]) for e in answer["errors"])
    assert paths == [("tree", 3, "child"), ("tree", 3, "maybeChildren", 0)]
    answer = orjson.loads(await _answer(FAST, DOCUMENTS["propagation to the root"]))
    assert answer["data"] is None
    assert [e["path"] for e in answer["errors"]] == [["strictTree", 2, "strictChild"]]
