"""Checks made once per operation, before anything executes.

1. Operation layer: every root field must be allowed for the caller's roles; otherwise the
   whole operation is refused with `FORBIDDEN`, naming the permission (`Query.citizens`).
2. Purpose: a stated `X-Purpose` must be one of the closed list and allowed for the role;
   an operation selecting a personal field the caller would see in full needs one
   (`PURPOSE_REQUIRED`).

The selected `Type.field` pairs are also kept on the context: the audit trail records
which personal fields a response carried.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    visit,
)
from graphql.language import (
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from hub.authz.catalog import PERSONAL_FIELDS, Level, Purpose
from hub.graphql.context import Context

PURPOSE_HEADER = "x-purpose"


class _FieldCollector(Visitor):
    """Collects every `ParentType.field` a document selects, fragments included."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.fields: set[str] = set()

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        if parent is not None:
            self.fields.add(f"{parent.name}.{node.name.value}")


def selected_fields(schema: GraphQLSchema, document: DocumentNode) -> frozenset[str]:
    """Every `Type.field` the document selects (in any of its operations and fragments)."""
    type_info = TypeInfo(schema)
    collector = _FieldCollector(type_info)
    visit(document, TypeInfoVisitor(type_info, collector))
    return frozenset(collector.fields)


#: Clients send the same few documents again and again; walk each once. Keyed by the query
#: text (and the schema); a miss parses the text again, which costs far less than the walk.
@lru_cache(maxsize=256)
def selected_fields_cached(schema: GraphQLSchema, query: str) -> frozenset[str]:
    """`selected_fields` of the document `query`, remembered per schema and query text."""
    return selected_fields(schema, parse(query))


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, SelectionSetNode]
) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            yield from _root_fields(fragments[selection.name.value], fragments)


def _refusal(message: str, code: str, **details: object) -> ExecutionResult:
    return ExecutionResult(
        data=None, errors=[GraphQLError(message, extensions={"code": code, **details})]
    )


def _stated(access: Any) -> str:
    """The purposes a caller's roles may state, for messages."""
    return ", ".join(sorted(p.value for p in access.purposes)) or "none"


class AuthorizationChecks(SchemaExtension):
    """Refuses operations and purposes the policy does not allow, before execution."""

    def on_execute(self) -> Iterator[None]:
        refusal = self._check()
        if refusal is not None:
            self.execution_context.result = refusal
        yield

    def _check(self) -> ExecutionResult | None:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or execution.graphql_document is None:
            return None
        if context.access.unrestricted:
            return None
        document = execution.graphql_document
        operation = execution.operation_name
        definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = next(
            (d for d in definitions if operation is None or (d.name and d.name.value == operation)),
            None,
        )
        if chosen is None:
            return None  # graphql-core reports the missing operation itself
        fragments = {
            d.name.value: d.selection_set
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        root = chosen.operation.value.capitalize()
        access = context.access
        for name in dict.fromkeys(_root_fields(chosen.selection_set, fragments)):
            if name.startswith("__"):
                continue  # introspection is part of the schema contract
            permission = f"{root}.{name}"
            if not access.may_run(permission):
                return _refusal(
                    f"Your role ({', '.join(access.roles) or 'none'}) may not run {permission}.",
                    "FORBIDDEN",
                    permission=permission,
                )
        schema = execution.schema._schema
        context.selected_fields = (
            selected_fields(schema, document)
            if execution.query is None
            else selected_fields_cached(schema, execution.query)
        )
        return self._check_purpose(context)

    def _check_purpose(self, context: Context) -> ExecutionResult | None:
        access = context.access
        raw = context.request.headers.get(PURPOSE_HEADER) if context.request else None
        if raw:
            try:
                purpose = Purpose(raw.strip().upper())
            except ValueError:
                return _refusal(
                    f"X-Purpose {raw!r} is not a recognised purpose; your role may state: "
                    f"{_stated(access)}.",
                    "BAD_PURPOSE",
                    accepted=sorted(p.value for p in access.purposes),
                )
            if purpose not in access.purposes:
                return _refusal(
                    f"Your role may not read personal data for {purpose.value}; it may state: "
                    f"{_stated(access)}.",
                    "FORBIDDEN",
                    permission=f"purpose:{purpose.value}",
                )
            context.purpose = purpose
            return None
        full = sorted(
            f"{type_name}.{name}"
            for type_name, names in PERSONAL_FIELDS.items()
            for name in names
            if f"{type_name}.{name}" in context.selected_fields
            and access.level(type_name, name) is Level.FULL
        )
        if full:
            return _refusal(
                f"Reading personal data ({', '.join(full)}) needs an X-Purpose header; "
                f"your role may state: {_stated(access)}.",
                "PURPOSE_REQUIRED",
                fields=full,
            )
        unmaskable = sorted(
            f"{type_name}.{name}"
            for type_name, names in PERSONAL_FIELDS.items()
            for name in names
            if f"{type_name}.{name}" in context.selected_fields
            and access.level(type_name, name) is Level.PLEDGED
        )
        if unmaskable:
            # Not an error: the answer is right, masked. But say so, never silently.
            context.warnings.append(
                {
                    "code": "PURPOSE_WOULD_UNMASK",
                    "message": "These fields come masked because the request states no "
                    "purpose; for people whose needs your organisation has pledged they are "
                    f"shown in full with an X-Purpose header ({_stated(access)}).",
                    "fields": unmaskable,
                }
            )
        return None
