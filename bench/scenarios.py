"""The scenarios: realistic operations from `schema/operations/`, who sends them, and with what.

A scenario whose root field the hub's schema does not have yet (a mutation or query another
change is adding) is skipped with a line saying so, and so is one whose document or
variables the schema rejects: the harness checks both with graphql-core before sending
anything, against the schema of the code it is about to serve.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode, parse, validate
from graphql.execution.values import get_variable_values

from bench.fixtures import Fixtures

OPERATIONS_DIR = Path(__file__).resolve().parent.parent / "schema" / "operations"

Variables = Callable[[Fixtures], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One operation as one kind of client sends it."""

    name: str
    #: Which benchmark client sends it (its role).
    role: str
    #: The X-Purpose header, or None.
    purpose: str | None
    #: The root field it needs: `Query.needs`, `Mutation.recordContribution`, …
    root_field: str
    #: The variables of each request body, sent in rotation.
    variables: Variables
    #: Whether to measure it again with authorization and audit switched off.
    compare_off: bool = False
    #: Why the "off" variant answers with other rows (row rules gone), when it does: its
    #: throughput then measures another query, not the cost of the layers.
    off_differs: str | None = None
    summary: str = ""

    @property
    def document_path(self) -> Path:
        return OPERATIONS_DIR / f"{self.name}.graphql"

    def document(self) -> str:
        """The operation's text."""
        return self.document_path.read_text()

    def bodies(self, fixtures: Fixtures) -> list[dict[str, Any]]:
        """The GraphQL request bodies to rotate through."""
        document = self.document()
        return [{"query": document, "variables": v} for v in self.variables(fixtures)]

    def headers(self) -> dict[str, str]:
        """Headers besides Authorization."""
        headers = {"Content-Type": "application/json"}
        if self.purpose:
            headers["X-Purpose"] = self.purpose
        return headers

    def skip_reason(self, schema: GraphQLSchema, fixtures: Fixtures) -> str | None:
        """Why this scenario cannot run against `schema`, or None when it can."""
        root, _, field = self.root_field.partition(".")
        root_type = schema.mutation_type if root == "Mutation" else schema.query_type
        if root_type is None or field not in root_type.fields:
            kind = "mutation" if root == "Mutation" else "query field"
            return f"skipped: {kind} {field} not in schema"
        document = parse(self.document())
        problems = validate(schema, document)
        if problems:
            return "skipped: the operation does not validate: " + "; ".join(
                p.message for p in problems[:3]
            )
        variables = self.variables(fixtures)
        if not variables:
            return "skipped: the dataset offers no parameters for it"
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        coerced = get_variable_values(
            schema, operation.variable_definitions or (), variables[0], max_errors=3
        )
        if isinstance(coerced, list):
            return "skipped: the variables do not fit the schema: " + "; ".join(
                e.message for e in coerced
            )
        return None


def _feed(first: int) -> Variables:
    return lambda _: [{"first": first}]


def _niks(fixtures: Fixtures) -> list[dict[str, Any]]:
    return [{"nik": nik} for nik in fixtures.niks]


def _contribution(need_id: str | None, citizen_id: str, category: str) -> dict[str, Any]:
    """One `recordContribution` input: a parcel delivered today, under a fresh key."""
    return {
        "input": {
            "citizen": citizen_id,
            "need": need_id,
            "category": category,
            "kind": "IN_KIND",
            "amount": 350_000,
            "quantity": 1,
            "unit": "paket",
            "deliveredOn": dt.date.today().isoformat(),
            "idempotencyKey": "bench-__UNIQUE__",
        }
    }


def _contributions(fixtures: Fixtures) -> list[dict[str, Any]]:
    """Against the foundation's pledged needs; without a need when it holds no live pledge.

    The synthetic city is generated as of a fixed date, so its pledges may all have expired
    by the time the benchmark runs; a delivery recorded without a need, to a person the
    foundation sees in its feed, is then the realistic operation left (a food parcel).
    """
    if fixtures.pledged:
        return [_contribution(p.need_id, p.citizen_id, p.category_code) for p in fixtures.pledged]
    return [_contribution(None, citizen, "FOOD") for citizen in fixtures.area_citizen_ids]


def _none(_: Fixtures) -> list[dict[str, Any]]:
    return [{}]


LKS_NEEDS_FEED = Scenario(
    name="lks_needs_feed",
    role="lks_partner",
    purpose="SERVICE_DELIVERY",
    root_field="Query.needs",
    variables=_feed(50),
    compare_off=True,
    off_differs=(
        "without row rules the feed is the 50 most urgent open needs of the whole city, "
        "another query"
    ),
    summary="a foundation's page of 50 open needs in its area, citizen masked",
)

SCENARIOS: tuple[Scenario, ...] = (
    LKS_NEEDS_FEED,
    Scenario(
        name="lks_needs_feed_count",
        role="lks_partner",
        purpose="SERVICE_DELIVERY",
        root_field="Query.needs",
        variables=_feed(50),
        summary="the foundation's page of 50 with totalCount over everything its rules reach",
    ),
    Scenario(
        name="opd_needs_city",
        role="opd_officer",
        purpose="SERVICE_DELIVERY",
        root_field="Query.needs",
        variables=_feed(50),
        summary="an agency's page of the city's 50 most urgent open needs, totalCount, identity",
    ),
    Scenario(
        name="opd_citizen_profile",
        role="opd_officer",
        purpose="SERVICE_DELIVERY",
        root_field="Query.citizen",
        variables=_niks,
        compare_off=True,
        summary="an agency's full profile by NIK: household, members, enrolments, needs",
    ),
    Scenario(
        name="lks_record_contribution",
        role="lks_partner",
        purpose="SERVICE_DELIVERY",
        root_field="Mutation.recordContribution",
        variables=_contributions,
        summary="a foundation records a delivery on a need it pledged, fresh idempotency key",
    ),
    Scenario(
        name="auditor_access_report",
        role="auditor",
        purpose="AUDIT",
        root_field="Query.accessReport",
        variables=_niks,
        summary="an auditor asks who read a citizen's personal data",
    ),
    Scenario(
        name="stats",
        role="lks_partner",
        purpose=None,
        root_field="Query.stats",
        variables=_none,
        summary="the city's public aggregates",
    ),
)

#: The feed at a small page, for the SQL-statements-per-request check only.
FEED_SMALL_PAGE = Scenario(
    name="lks_needs_feed",
    role="lks_partner",
    purpose="SERVICE_DELIVERY",
    root_field="Query.needs",
    variables=_feed(5),
)


def by_name(names: list[str] | None) -> list[Scenario]:
    """The scenarios named (all when None); raise ValueError for an unknown name."""
    if not names:
        return list(SCENARIOS)
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
