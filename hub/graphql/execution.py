"""graphql-core's executor with a short path for plain fields, leaves and objects alike.

A page of 50 needs with their people is about 700 leaf fields (`id`, `severity`, `nik`,
…) and 250 objects (each need, its citizen, category, kelurahan, kecamatan). graphql-core
resolves each field through the full machinery: a `Path`, the field's lookup, a
resolve-info tuple, strawberry's resolver wrapper, two awaitable checks and the
`complete_value` dispatch, although strawberry's resolver for a field without a resolver
only reads the attribute (`StrawberryField.is_basic_field`). Measured on the feed, that
walk was the largest part of a request after SQL.

Here each selection set (graphql-core memoizes it per response) is planned once per
operation. A field with no resolver, no arguments and no directives is read with the
field's own default resolver:

- a scalar or enum is coerced by its type, exactly what the full path computes;
- an object (or a list of objects) of a concrete type is completed by planning its own
  selection set the same way (`collect_subfields`, memoized too), so that a page the
  prefetch loaded (`hub.graphql.prefetch`) is walked as plain attribute reads all the way
  down. The type's `is_type_of` (strawberry's `isinstance`) must accept the value and a
  list must be a list; anything else takes the full path, which raises the error.

Every other field (relations with a resolver, anything with arguments, interfaces and
unions, `@defer`) takes the full path. A value the short path cannot complete plainly
(null for a non-null field, a failed coercion, an awaitable, an object of another class) is
handed to the full path too, and an error raised below an object is located and reported
by graphql-core's own `handle_field_error` at the same path, so errors are raised, located,
nulled and propagated as before. Masking and the personal-read record happen on the objects
before execution (`hub.graphql.prefetch`), so nothing the policy decides is skipped here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, NamedTuple, cast

from graphql import (
    GraphQLEnumType,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE as _TYPE_CAST

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
#: Values that are certainly neither null, an error nor an awaitable.
_PLAIN_VALUES = frozenset({str, int, float, bool})
#: What `_complete_object` returns when the field must take the full path instead.
_FULL = object()


class _Plain(NamedTuple):
    """A leaf field read as an attribute: what to read and how to coerce it."""

    response_name: str
    #: `default_resolver(source, python_name)`: strawberry's own read of the attribute.
    read: Callable[[Any, str], Any]
    python_name: str
    coerce: Callable[[Any], Any]
    non_null: bool
    #: A `str` is its own output (`String`, `ID`: graphql-core returns it unchanged).
    str_as_is: bool
    #: An enum's outputs by (class, member): strawberry's coercion loops over the values,
    #: and its answer for a member never changes. None for other leaves.
    memo: dict[Any, Any] | None


class _Object(NamedTuple):
    """An object field (or a list of objects) read as an attribute, its value completed
    by the plan of its own selection set."""

    response_name: str
    read: Callable[[Any, str], Any]
    python_name: str
    #: The field's GraphQL type, and the list's item type (None: not a list).
    return_type: GraphQLOutputType
    item_type: GraphQLOutputType | None
    object_type: GraphQLObjectType
    #: strawberry's `is_type_of` check of the object type (None: graphql-core checks none).
    is_type_of: Callable[[Any, Any], Any] | None
    non_null: bool
    item_non_null: bool


#: The plan of one selection set: per response name, its field details and how to read it
#: (`_Plain`, `_Object`, or None: the full path).
_Plan = list[tuple[str, Any, "_Plain | _Object | None"]]


def _basic_field(parent_type: GraphQLObjectType, details: Any) -> tuple[Any, Any] | None:
    """(GraphQL field, strawberry field) of a field read as a plain attribute, else None."""
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
    return field_def, field


def _unwrap(graphql_type: Any) -> tuple[Any, bool]:
    if isinstance(graphql_type, GraphQLNonNull):
        return graphql_type.of_type, True
    return graphql_type, False


def _concrete(graphql_type: Any) -> bool:
    """Whether a field of this type may be completed here: a strawberry object type whose
    `is_type_of`, if any, is strawberry's own (an `isinstance` that ignores the info)."""
    if not isinstance(graphql_type, GraphQLObjectType):
        return False  # interfaces and unions resolve their type: the full path
    definition = (graphql_type.extensions or {}).get(_BACKREF)
    # A type's own `is_type_of` classmethod may read the resolve info: the full path.
    return definition is not None and getattr(definition, "is_type_of", None) is None


def _plain(
    parent_type: GraphQLObjectType, response_name: str, details: Any
) -> _Plain | _Object | None:
    """The short path of one field, or None when it must take the full path."""
    basic = _basic_field(parent_type, details)
    if basic is None:
        return None
    field_def, field = basic
    return_type = field_def.type
    inner, non_null = _unwrap(return_type)
    if is_leaf_type(inner):
        assert isinstance(inner, GraphQLLeafType)
        return _Plain(
            response_name=response_name,
            read=field.default_resolver,
            python_name=field.python_name,
            coerce=inner.coerce_output_value,
            non_null=non_null,
            str_as_is=inner is GraphQLString or inner is GraphQLID,
            memo={} if isinstance(inner, GraphQLEnumType) else None,
        )
    item_type: GraphQLOutputType | None = None
    item_non_null = False
    target = inner
    if isinstance(inner, GraphQLList):
        item_type = inner.of_type
        target, item_non_null = _unwrap(item_type)
    if not _concrete(target):
        return None
    return _Object(
        response_name=response_name,
        read=field.default_resolver,
        python_name=field.python_name,
        return_type=return_type,
        item_type=item_type,
        object_type=target,
        is_type_of=target.is_type_of,
        non_null=non_null,
        item_non_null=item_non_null,
    )


class HubExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain fields read directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: id(grouped field set) -> (the set, kept alive so its id stays unique; its plan).
        self._plans: dict[tuple[int, int], tuple[Any, _Plan]] = {}
        #: Per object type, the classes whose values `_accepts` took (see there).
        self._accepted: dict[GraphQLObjectType, set[type]] = {}
        #: (object type, field details) -> (the details, kept alive; the object's selection
        #: set and its plan): what `collect_subfields` and `_plan` answer, looked up once.
        self._subplans: dict[tuple[int, int], tuple[Any, Any, _Plan | None]] = {}

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
        return self._run(plan, parent_type, source_value, path, position_context)

    def _run(
        self,
        plan: _Plan,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        position_context: Any,
    ) -> Any:
        """`execute_fields` of a planned selection set."""
        results: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        #: Response names whose short-path result is still an awaitable.
        pending: list[str] = []
        try:
            for name, details, plain in plan:
                if plain is None:
                    rest[name] = details
                elif type(plain) is _Plain:
                    value = plain.read(source_value, plain.python_name)
                    if plain.str_as_is and type(value) is str:
                        results[name] = value
                        continue
                    memo = plain.memo
                    if memo is not None and isinstance(value, Enum):
                        known = memo.get((type(value), value), Undefined)
                        if known is not Undefined:
                            results[name] = known
                            continue
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
                            if memo is not None and isinstance(value, Enum):
                                memo[(type(value), value)] = coerced
                            continue
                    elif value is None and not plain.non_null:
                        results[name] = None
                        continue
                    rest[name] = details
                else:
                    nested = cast("_Object", plain)
                    value = nested.read(source_value, nested.python_name)
                    completed = self._complete_object(
                        nested, details, value, parent_type, path, position_context
                    )
                    if completed is _FULL:
                        rest[name] = details
                        continue
                    results[name] = completed
                    if type(completed) is not dict and self.is_awaitable(completed):
                        pending.append(name)
        except Exception:
            if pending:  # settle what the fields before the failure started
                self.settle_in_background([results[name] for name in pending])
            raise
        if not rest and not pending:
            return results  # every field in the plan's order: the document's
        order = [name for name, _, _ in plan]
        # The full path for the others, in one call (it gathers their awaitables), then
        # the response keeps the document's order of fields.
        others: Any = {}
        if rest:
            try:
                others = super().execute_fields(
                    parent_type, source_value, path, rest, position_context
                )
            except Exception:
                if pending:
                    self.settle_in_background([results[name] for name in pending])
                raise
        if not pending and not self.is_awaitable(others):
            return _in_order(order, results, cast("dict[str, Any]", others))

        async def merged() -> dict[str, Any]:
            awaited = (
                await gather_with_cancel(*(results[name] for name in pending)) if pending else []
            )
            results.update(zip(pending, awaited, strict=True))
            done = await others if self.is_awaitable(others) else others
            return _in_order(order, results, done)

        return merged()

    def _complete_object(
        self,
        plan: _Object,
        details: Any,
        value: Any,
        parent_type: GraphQLObjectType,
        path: Path | None,
        position_context: Any,
    ) -> Any:
        """The completed value of an object field read plainly, or `_FULL`."""
        if value is None:
            return _FULL if plan.non_null else None
        if position_context is not None:
            return _FULL  # inside a deferred fragment: graphql-core's bookkeeping
        if plan.item_type is None:
            if not self._accepts(plan, value):
                return _FULL  # the full path raises the error
        elif type(value) is not list or any(
            (item is None and plan.item_non_null)
            or (item is not None and not self._accepts(plan, item))
            for item in value
        ):
            return _FULL
        key = (id(plan.object_type), id(details))
        known = self._subplans.get(key)
        if known is None:
            grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                plan.object_type, details
            )
            subplan = None if new_defer_usages else self._plan(plan.object_type, grouped_field_set)
            known = self._subplans[key] = (details, grouped_field_set, subplan)
        subplan = known[2]
        if subplan is None:
            return _FULL  # a `@defer` below: graphql-core's bookkeeping
        field_path = Path(path, plan.response_name, parent_type.name)
        try:
            if plan.item_type is None:
                completed = self._run(subplan, plan.object_type, value, field_path, None)
            else:
                completed = self._complete_items(plan, details, value, field_path, subplan)
        except Exception as error:
            self.handle_field_error(error, plan.return_type, details, field_path)
            return None
        if type(completed) not in (dict, list) and self.is_awaitable(completed):
            return self._located(completed, plan.return_type, details, field_path)
        return completed

    def _accepts(self, plan: _Object, value: Any) -> bool:
        """Whether `value` completes plainly as the plan's object type.

        What decides is the value's class (an error, an awaitable, strawberry's
        `isinstance`), unless the value was `strawberry.cast`: classes once accepted are
        remembered per object type, and a cast value is always checked in full.
        """
        cls = type(value)
        accepted = self._accepted.get(plan.object_type)
        uncast = getattr(value, _TYPE_CAST, None) is None
        if accepted is not None and cls in accepted and uncast:
            return True
        if isinstance(value, Exception) or self.is_awaitable(value):
            return False
        is_type_of = plan.is_type_of
        if is_type_of is not None and is_type_of(value, None) is not True:
            return False
        if uncast:
            self._accepted.setdefault(plan.object_type, set()).add(cls)
        return True

    def _complete_items(
        self, plan: _Object, details: Any, items: list[Any], path: Path, subplan: _Plan
    ) -> Any:
        """A list of objects completed item by item, as `complete_list_item_value` does."""
        item_type = cast("GraphQLOutputType", plan.item_type)
        completed: list[Any] = []
        waiting: list[int] = []
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = path.add_key(index, None)
                try:
                    result = self._run(subplan, plan.object_type, item, item_path, None)
                except Exception as error:
                    self.handle_field_error(error, item_type, details, item_path)
                    result = None
                if type(result) is not dict and self.is_awaitable(result):
                    result = self._located(result, item_type, details, item_path)
                    waiting.append(index)
                completed.append(result)
        except Exception:
            if waiting:
                self.settle_in_background([completed[index] for index in waiting])
            raise
        if not waiting:
            return completed

        async def gathered() -> list[Any]:
            awaited = await gather_with_cancel(*(completed[index] for index in waiting))
            for index, result in zip(waiting, awaited, strict=True):
                completed[index] = result
            return completed

        return gathered()

    async def _located(
        self, awaitable: Awaitable[Any], return_type: Any, details: Any, path: Path
    ) -> Any:
        """`awaitable`'s value; an error it raises is handled at `path` (null or raised)."""
        try:
            return await awaitable
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None


def _in_order(order: list[str], plain: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """One result map in the document's field order (`others` may lack a failed field)."""
    merged: dict[str, Any] = {}
    for name in order:
        if name in plain:
            merged[name] = plain[name]
        elif name in others:
            merged[name] = others[name]
    return merged
