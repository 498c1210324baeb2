"""Query limits that cost time linear in the document's text, whatever its fragments do.

A document's fragments may spread each other so that its expansion grows exponentially
(`fragment F1 { ...F2 ...F2 } fragment F2 { ...F3 ...F3 } …`: 1 KB of text, 2^30 fields).
strawberry's depth and alias limiters expand every spread as they walk, so such a document
froze a worker. Here every fragment is measured once and its measure reused at every spread:
depth, aliases and fields of an operation are computed in one pass over the text.

The same walk gives an operation's static cost (see `hub.graphql.cost`): every field counts
1, and the fields below a list count once per item it may hold: `first` of the connection
above (its default page size when omitted, the largest page when a variable is not given),
or `list_size` for a list that is not paginated. It is an upper bound of the number of
values the response can carry, so the actual cost (the values it did carry) never exceeds
it. Fragments are measured once per page size they are spread under.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from graphql.language.visitor import SKIP, VisitorAction

#: Counts saturate here: a measure past it is refused anyway, and big integers stay small.
_CEILING = 2**63


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set costs once expanded."""

    #: Levels of fields below this set, the set's own fields counting 1 (introspection: 0).
    depth: int = 0
    #: Aliased fields, fragments expanded.
    aliases: int = 0
    #: Fields, fragments expanded.
    fields: int = 0
    #: Values the response may carry: fields, each counted once per list item above it.
    cost: int = 0

    def plus(self, other: Measure, *, nested: bool = False) -> Measure:
        depth = other.depth + 1 if nested else other.depth
        return Measure(
            max(self.depth, depth),
            min(self.aliases + other.aliases, _CEILING),
            min(self.fields + other.fields, _CEILING),
            min(self.cost + other.cost, _CEILING),
        )


@dataclass(frozen=True, slots=True)
class Pages:
    """How many items a list may hold, for the cost: connection page sizes and the
    estimate for lists that are not paginated."""

    default_page_size: int = 20
    max_page_size: int = 100
    list_size: int = 10


class _Measurer:
    """Measures selection sets, each fragment once (a cycle counts as nothing: the
    NoFragmentCycles rule refuses it; this rule must only stay safe without it)."""

    def __init__(
        self,
        fragments: dict[str, FragmentDefinitionNode],
        schema: GraphQLSchema | None = None,
        variables: dict[str, Any] | None = None,
        pages: Pages | None = None,
    ) -> None:
        self.fragments = fragments
        self.schema = schema
        self.variables = variables or {}
        self.pages = pages or Pages()
        # A fragment's cost depends on the page size of the list it is spread under.
        self.memo: dict[tuple[str, int | None], Measure] = {}
        self.visiting: set[str] = set()

    def fragment(self, name: str, page: int | None) -> Measure:
        known = self.memo.get((name, page))
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return Measure()
        self.visiting.add(name)
        measure = self.selection_set(
            definition.selection_set, self._type(definition.type_condition.name.value), page
        )
        self.visiting.discard(name)
        self.memo[(name, page)] = measure
        return measure

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name) if self.schema is not None else None

    def _first(self, arguments: tuple[ArgumentNode, ...] | None) -> int:
        """The page a connection field asks for (`first`), within the server's bounds."""
        pages = self.pages
        value: Any = pages.default_page_size
        for argument in arguments or ():
            if argument.name.value != "first":
                continue
            node = argument.value
            if isinstance(node, IntValueNode):
                value = int(node.value)
            elif isinstance(node, VariableNode):
                value = self.variables.get(node.name.value, pages.max_page_size)
            if value is None:
                value = pages.default_page_size
        size = value if isinstance(value, int) else pages.max_page_size
        return max(0, min(size, pages.max_page_size))

    def selection_set(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None = None,
        page: int | None = None,
    ) -> Measure:
        total = Measure()
        fields = getattr(parent, "fields", None) or {}
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                own = Measure(0, 1 if selection.alias else 0, 1, 1)
                if selection.name.value.startswith("__"):
                    # Introspection is as deep as the type system; GraphiQL's own query
                    # nests 13 levels. It stays counted in aliases and fields, each field
                    # costing 1 (the schema's lists are the schema's size).
                    below = self.selection_set(selection.selection_set)
                    below = Measure(0, below.aliases, below.fields, below.fields)
                    total = total.plus(own.plus(below))
                    continue
                definition = fields.get(selection.name.value)
                child_page = None
                many = 1
                child_type = None
                if definition is not None:
                    child_type = get_named_type(definition.type)
                    if "first" in definition.args:
                        child_page = self._first(selection.arguments)
                    if isinstance(get_nullable_type(definition.type), GraphQLList):
                        many = self.pages.list_size if page is None else page
                below = self.selection_set(selection.selection_set, child_type, child_page)
                below = Measure(
                    below.depth, below.aliases, below.fields, min(below.cost * many, _CEILING)
                )
                total = total.plus(own.plus(below, nested=True), nested=False)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inline_type = self._type(condition.name.value) if condition else parent
                total = total.plus(self.selection_set(selection.selection_set, inline_type, page))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.fragment(selection.name.value, page))
        return total


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    pages: Pages,
) -> int:
    """The static cost of `operation` with these variables (see the module's docstring)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measurer = _Measurer(fragments, schema, variables, pages)
    root = schema.get_root_type(operation.operation)
    try:
        return measurer.selection_set(operation.selection_set, root).cost
    except RecursionError:
        return _CEILING


def document_limits(max_depth: int, max_aliases: int, max_fields: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations deeper, more aliased or larger than the limits.

    Build it once per schema: the validation cache keys its entries by the rule classes.
    """

    class DocumentLimits(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)

        def enter_document(self, node: DocumentNode, *_args: Any) -> VisitorAction:
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            measurer = _Measurer(fragments)
            for definition in node.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    try:
                        measure = measurer.selection_set(definition.selection_set)
                    except RecursionError:
                        measure = Measure(_CEILING, 0, 0)
                    self._check(definition, measure)
            return SKIP

        def _check(self, operation: OperationDefinitionNode, measure: Measure) -> None:
            name = f"'{operation.name.value}'" if operation.name else "The operation"
            # Root fields are at depth 0, as graphql's depth limiters count.
            depth = max(measure.depth - 1, 0)
            if depth > max_depth:
                self._refuse(
                    f"{name} exceeds maximum operation depth of {max_depth}: its fields nest "
                    f"{depth} levels below the root",
                    operation,
                    "QUERY_TOO_DEEP",
                    limit=max_depth,
                    depth=depth,
                )
            if measure.aliases > max_aliases:
                self._refuse(
                    f"{name} uses {measure.aliases} aliases (fragments expanded); at most "
                    f"{max_aliases} are accepted",
                    operation,
                    "TOO_MANY_ALIASES",
                    limit=max_aliases,
                    aliases=measure.aliases,
                )
            if measure.fields > max_fields:
                self._refuse(
                    f"{name} asks for {measure.fields} fields once its fragments are "
                    f"expanded; at most {max_fields} are accepted. Split it into smaller "
                    "documents.",
                    operation,
                    "QUERY_TOO_LARGE",
                    limit=max_fields,
                    fields=measure.fields,
                )

        def _refuse(
            self, message: str, node: OperationDefinitionNode, code: str, **numbers: int
        ) -> None:
            self.report_error(GraphQLError(message, node, extensions={"code": code, **numbers}))

    return DocumentLimits
