"""graphql-core's executor with a short path for plain leaf fields.

A page of 50 needs with their people is about 700 leaf fields (`id`, `severity`, `nik`,
…). graphql-core resolves each through the full machinery: a `Path`, the field's lookup,
a resolve-info tuple, strawberry's resolver wrapper, two awaitable checks and the
`complete_value` dispatch, although strawberry's resolver for a field without a resolver
only reads the attribute (`StrawberryField.is_basic_field`). Measured on the feed, that
walk was the largest part of a request after SQL.

Here each selection set (graphql-core memoizes it per response) is planned once per
operation: a field with no resolver, no arguments and a scalar or enum type is read with
the field's own default resolver and coerced by its type, exactly what the full path
computes, and every other field (relations, lists, resolvers, anything with arguments)
takes the full path. A value the short path cannot complete plainly (null for a non-null
field, a failed coercion, an awaitable) is handed to the full path too, so errors are
raised, located and reported as before. Masking and the personal-read record happen on
the objects before execution (`hub.graphql.prefetch`), so nothing the policy decides is
skipped here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, cast

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
#: Values that are certainly neither null, an error nor an awaitable.
_PLAIN_VALUES = frozenset({str, int, float, bool})


class _Plain(NamedTuple):
    """A leaf field read as an attribute: what to read and how to coerce it."""

    response_name: str
    #: `default_resolver(source, python_name)`: strawberry's own read of the attribute.
    read: Callable[[Any, str], Any]
    python_name: str
    coerce: Callable[[Any], Any]
    non_null: bool


#: The plan of one selection set: per response name, a `_Plain` or None (the full path).
_Plan = list[tuple[str, Any, "_Plain | None"]]


def _plain(parent_type: GraphQLObjectType, response_name: str, details: Any) -> _Plain | None:
    """The short path of one field, or None when it must take the full path."""
    if len(details) != 1:
        return None  # merged field nodes: left to graphql-core
    detail = details[0]
    node = detail.node
    if node.arguments or node.directives or detail.defer_usage is not None:
        return None
    field_def = parent_type.fields.get(node.name.value)
    if field_def is None or field_def.args:
        return None
    resolve = field_def.resolve
    if resolve is None or not getattr(resolve, "_is_default", False):
        return None  # a resolver of its own (or not strawberry's): the full path
    field = (field_def.extensions or {}).get(_BACKREF)
    if field is None or not field.is_basic_field or field.default_resolver is None:
        return None
    return_type = field_def.type
    non_null = isinstance(return_type, GraphQLNonNull)
    leaf = return_type.of_type if non_null else return_type
    if not is_leaf_type(leaf):
        return None
    assert isinstance(leaf, GraphQLLeafType)
    return _Plain(
        response_name=response_name,
        read=field.default_resolver,
        python_name=field.python_name,
        coerce=leaf.coerce_output_value,
        non_null=non_null,
    )


class HubExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain leaf fields read directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: id(grouped field set) -> (the set, kept alive so its id stays unique; its plan).
        self._plans: dict[tuple[int, int], tuple[Any, _Plan]] = {}

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        key = (id(parent_type), id(grouped_field_set))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        plan: _Plan = [
            (name, details, _plain(parent_type, name, details))
            for name, details in grouped_field_set.items()
        ]
        self._plans[key] = (grouped_field_set, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            # A resolve hook wants every field: no short path.
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plan = self._plan(parent_type, grouped_field_set)
        if all(plain is None for _, _, plain in plan):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        order: list[str] = []
        for name, details, plain in plan:
            order.append(name)
            if plain is not None:
                value = plain.read(source_value, plain.python_name)
                if type(value) in _PLAIN_VALUES or (
                    value is not None
                    and not isinstance(value, Exception)
                    and not self.is_awaitable(value)
                ):
                    try:
                        coerced = plain.coerce(value)
                    except Exception:  # the full path raises and locates the error
                        coerced = Undefined
                    if coerced is not Undefined and coerced is not None:
                        results[name] = coerced
                        continue
                elif value is None and not plain.non_null:
                    results[name] = None
                    continue
            rest[name] = details
        if not rest:
            return results
        # The full path for the others, in one call (it gathers their awaitables), then
        # the response keeps the document's order of fields.
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(others):

            async def merged() -> dict[str, Any]:
                done = await others
                return _in_order(order, results, done)

            return merged()
        return _in_order(order, results, cast("dict[str, Any]", others))


def _in_order(order: list[str], plain: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """One result map in the document's field order (`others` may lack a failed field)."""
    merged: dict[str, Any] = {}
    for name in order:
        if name in plain:
            merged[name] = plain[name]
        elif name in others:
            merged[name] = others[name]
    return merged
