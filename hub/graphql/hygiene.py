"""Input hygiene at the edge: every string a client sends, checked once before execution.

One walk over the document's arguments (literals, and the variables they use) against the
schema's input types refuses, with `BAD_USER_INPUT` naming the argument:

- a NUL or any other control character but tab, line feed and carriage return (refused,
  not stripped: a changed value would be stored as if the client had sent it);
- a lone UTF-16 surrogate (JSON allows `"\\ud800"`; no database or UTF-8 encoder does);
- a string longer than the column it is written to (`MAX_LENGTHS`), or than
  `DEFAULT_MAX_LENGTH` for any other argument.

The walk is linear: each argument node is visited once, and each variable is checked once
per schema coordinate that uses it.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.language import ArgumentNode
from graphql.language.visitor import SKIP, VisitorAction
from sqlalchemy import Column, String

from hub.authz.models import FieldAccessOverride
from hub.contributions.models import Contribution
from hub.needs.models import NeedCategory
from hub.organizations.models import Client, Organization

#: Any string argument not written to a narrower column (free text lands in TEXT columns).
DEFAULT_MAX_LENGTH = 4000

#: Schema coordinates (`Input.field`, `Type.field(argument)`) and the column they are
#: written to or looked up in: their length limit is the column's.
_COLUMNS: dict[str, Any] = {
    "CreateClientInput.name": Client.name,
    "CreateClientInput.organization": Organization.code,
    "Mutation.rotateClientSecret(clientId)": Client.client_id,
    "Mutation.revokeClient(clientId)": Client.client_id,
    "Mutation.grantRole(clientId)": Client.client_id,
    "Mutation.revokeRole(clientId)": Client.client_id,
    "Mutation.setFieldAccess(field)": FieldAccessOverride.field,
    "RegisterOrganizationInput.code": Organization.code,
    "RegisterOrganizationInput.name": Organization.name,
    "RegisterOrganizationInput.registrationNumber": Organization.registration_number,
    "Mutation.approveOrganization(code)": Organization.code,
    "Mutation.suspendOrganization(code)": Organization.code,
    "Mutation.referNeed(to)": Organization.code,
    "ReportNeedInput.category": NeedCategory.code,
    "ReportNeedInput.ppksType": NeedCategory.code,
    "RecordContributionInput.category": NeedCategory.code,
    "RecordContributionInput.unit": Contribution.unit,
    "RecordContributionInput.evidenceSha256": Contribution.evidence_sha256,
    "RecordContributionInput.idempotencyKey": Contribution.idempotency_key,
}


def _length(column: Any) -> int:
    sql_type = column.type if isinstance(column, Column) else column.property.columns[0].type
    assert isinstance(sql_type, String) and sql_type.length is not None, column
    return int(sql_type.length)


MAX_LENGTHS: dict[str, int] = {coordinate: _length(c) for coordinate, c in _COLUMNS.items()}

_TEXT_TYPES = frozenset({"String", "ID"})
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def string_problem(value: str, *, max_length: int | None) -> str | None:
    """What is wrong with one string a client sent, or None."""
    bad = _FORBIDDEN.search(value)
    if bad is not None:
        char = bad.group()
        position = bad.start()
        if char == "\x00":
            return f"contains a NUL character (U+0000) at position {position}"
        if _SURROGATE.match(char):
            return (
                f"contains a lone UTF-16 surrogate (U+{ord(char):04X}) at position {position};"
                " send valid Unicode text"
            )
        return (
            f"contains the control character U+{ord(char):04X} at position {position}; of the "
            "control characters only tab, line feed and carriage return are accepted"
        )
    if max_length is not None and len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} are accepted"
    return None


def clean_surrogates(value: Any, path: str, found: list[str]) -> Any:
    """`value` (decoded JSON) with every lone surrogate replaced by U+FFFD; the paths of the
    strings that held one are appended to `found`. Nothing downstream (audit, logs, the
    database driver) can then trip over them while the request is refused."""
    if isinstance(value, str):
        if _SURROGATE.search(value) is None:
            return value
        found.append(path)
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {
            clean_surrogates(k, path, found): clean_surrogates(v, f"{path}.{k}", found)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [clean_surrogates(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def bad_input(argument: str, problem: str) -> GraphQLError:
    return GraphQLError(
        f"Argument `{argument}` {problem}.",
        extensions={"code": "BAD_USER_INPUT", "argument": argument},
    )


#: The arguments of a document, as `literal(...)` calls for the checker: (value node,
#: argument type, coordinate, path).
_Arguments = list[tuple[ValueNode, GraphQLInputType, str, str]]

#: Documents' arguments by the parsed document (ParserCache hands the same object for the
#: same text): walking the document with type information is the costly part, and only
#: the variables change from one request to the next. Entries keep their document alive,
#: so that an id is never reused while cached.
_ARGUMENTS: dict[tuple[int, int], tuple[GraphQLSchema, DocumentNode, _Arguments]] = {}
_ARGUMENTS_KEPT = 256


def _arguments(schema: GraphQLSchema, document: DocumentNode) -> _Arguments:
    key = (id(schema), id(document))
    cached = _ARGUMENTS.get(key)
    if cached is not None and cached[0] is schema and cached[1] is document:
        return cached[2]
    found: _Arguments = []
    type_info = TypeInfo(schema)
    visit(document, TypeInfoVisitor(type_info, _ArgumentVisitor(type_info, found)))
    if len(_ARGUMENTS) >= _ARGUMENTS_KEPT:
        _ARGUMENTS.pop(next(iter(_ARGUMENTS)))  # the oldest entry
    _ARGUMENTS[key] = (schema, document, found)
    return found


def input_problems(
    schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any] | None
) -> list[GraphQLError]:
    """Every string argument of `document` (and its variables) checked; the refusals."""
    checker = _Checker(variables or {})
    for value, type_, coordinate, path in _arguments(schema, document):
        checker.literal(value, type_, coordinate, path)
    return [bad_input(argument, problem) for argument, problem in checker.problems[:10]]


class _Checker:
    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables
        self.problems: list[tuple[str, str]] = []
        self.checked: set[tuple[str, str]] = set()

    def literal(self, node: ValueNode, type_: GraphQLInputType, coordinate: str, path: str) -> None:
        named = _unwrap(type_)
        if isinstance(node, VariableNode):
            name = node.name.value
            if (name, coordinate) not in self.checked and name in self.variables:
                self.checked.add((name, coordinate))
                self.value(self.variables[name], type_, coordinate, path)
        elif isinstance(node, ListValueNode):
            item_type = _item_type(type_)
            for item in node.values:
                self.literal(item, item_type, coordinate, path)
        elif isinstance(node, ObjectValueNode) and isinstance(named, GraphQLInputObjectType):
            for field in node.fields:
                definition = named.fields.get(field.name.value)
                if definition is not None:
                    self.literal(
                        field.value,
                        definition.type,
                        f"{named.name}.{field.name.value}",
                        f"{path}.{field.name.value}",
                    )
        elif isinstance(node, StringValueNode):
            self.string(node.value, named, coordinate, path)

    def value(self, value: Any, type_: GraphQLInputType, coordinate: str, path: str) -> None:
        named = _unwrap(type_)
        if isinstance(value, list):
            item_type = _item_type(type_)
            for index, item in enumerate(value):
                self.value(item, item_type, coordinate, f"{path}[{index}]")
        elif isinstance(value, dict) and isinstance(named, GraphQLInputObjectType):
            for key, item in value.items():
                definition = named.fields.get(key)
                if definition is not None:
                    self.value(item, definition.type, f"{named.name}.{key}", f"{path}.{key}")
        elif isinstance(value, str):
            self.string(value, named, coordinate, path)

    def string(self, value: str, named: Any, coordinate: str, path: str) -> None:
        if not isinstance(named, GraphQLScalarType):
            return
        # Custom scalars (NIK, Rupiah, dates) parse their own values, strictly.
        max_length = (
            MAX_LENGTHS.get(coordinate, DEFAULT_MAX_LENGTH) if named.name in _TEXT_TYPES else None
        )
        problem = string_problem(value, max_length=max_length)
        if problem is not None:
            self.problems.append((path, problem))


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _item_type(type_: Any) -> Any:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_.of_type if isinstance(type_, GraphQLList) else type_


class _ArgumentVisitor(Visitor):
    def __init__(self, type_info: TypeInfo, found: _Arguments) -> None:
        super().__init__()
        self.type_info = type_info
        self.found = found
        self.directive: str | None = None
        self.fields: list[str] = []

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self.fields.append(node.name.value)

    def leave_field(self, *_: Any) -> None:
        self.fields.pop()

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.directive = node.name.value

    def leave_directive(self, *_: Any) -> None:
        self.directive = None

    def enter_argument(self, node: ArgumentNode, *_: Any) -> VisitorAction:
        argument = self.type_info.get_argument()
        if argument is None:
            return SKIP  # unknown argument: validation has refused it
        name = node.name.value
        if self.directive is not None:
            coordinate = path = f"@{self.directive}({name})"
        else:
            parent = self.type_info.get_parent_type()
            field_name = self.fields[-1] if self.fields else "?"
            coordinate = f"{parent.name if parent else '?'}.{field_name}({name})"
            path = f"{field_name}({name})"
        self.found.append((node.value, argument.type, coordinate, path))
        return SKIP
