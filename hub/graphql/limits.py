"""Query limits that cost time linear in the document's text, whatever its fragments do.

A document's fragments may spread each other so that its expansion grows exponentially
(`fragment F1 { ...F2 ...F2 } fragment F2 { ...F3 ...F3 } …`: 1 KB of text, 2^30 fields).
strawberry's depth and alias limiters expand every spread as they walk, so such a document
froze a worker. Here every fragment is measured once and its measure reused at every spread:
depth, aliases and fields of an operation are computed in one pass over the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
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

    def plus(self, other: Measure, *, nested: bool = False) -> Measure:
        depth = other.depth + 1 if nested else other.depth
        return Measure(
            max(self.depth, depth),
            min(self.aliases + other.aliases, _CEILING),
            min(self.fields + other.fields, _CEILING),
        )


class _Measurer:
    """Measures selection sets, each fragment once (a cycle counts as nothing: the
    NoFragmentCycles rule refuses it; this rule must only stay safe without it)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, Measure] = {}
        self.visiting: set[str] = set()

    def fragment(self, name: str) -> Measure:
        known = self.memo.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return Measure()
        self.visiting.add(name)
        measure = self.selection_set(definition.selection_set)
        self.visiting.discard(name)
        self.memo[name] = measure
        return measure

    def selection_set(self, selection_set: SelectionSetNode | None) -> Measure:
        total = Measure()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                own = Measure(0, 1 if selection.alias else 0, 1)
                below = self.selection_set(selection.selection_set)
                if selection.name.value.startswith("__"):
                    # Introspection is as deep as the type system; GraphiQL's own query
                    # nests 13 levels. It stays counted in aliases and fields.
                    below = Measure(0, below.aliases, below.fields)
                    total = total.plus(own.plus(below))
                else:
                    total = total.plus(own.plus(below, nested=True), nested=False)
            elif isinstance(selection, InlineFragmentNode):
                total = total.plus(self.selection_set(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.fragment(selection.name.value))
        return total


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
