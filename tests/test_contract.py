"""The committed GraphQL contract matches the code."""

from __future__ import annotations

from pathlib import Path

from hub.graphql.schema import schema_sdl, subgraph_sdl

SCHEMA_FILE = Path(__file__).parent.parent / "schema" / "hub.graphql"
SUBGRAPH_FILE = Path(__file__).parent.parent / "schema" / "hub.subgraph.graphql"

#: Federation's own plumbing, named and described by its specification, not by us.
FEDERATION = {"_Any", "_Entity", "_Service", "_FieldSet", "link__Import", "link__Purpose"}


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "schema/hub.graphql is stale: run `hub schema export` and commit the result"
    )


def test_committed_subgraph_schema_is_current() -> None:
    assert SUBGRAPH_FILE.read_text() == subgraph_sdl(), (
        "schema/hub.subgraph.graphql is stale: run `hub schema export` and commit the result"
    )


def test_the_api_schema_is_the_subgraph_without_federation() -> None:
    api = SCHEMA_FILE.read_text()
    for plumbing in ("_entities", "_service", "_Any", "@key", "@link"):
        assert plumbing not in api
        assert plumbing in SUBGRAPH_FILE.read_text()


def test_every_type_and_field_is_described() -> None:
    from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

    from hub.graphql.schema import build_schema
    from hub.settings import Settings

    schema = build_schema(Settings())._schema
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        if not graphql_type.description and name not in {"Query"}:
            missing.append(name)
        if isinstance(
            graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            for field_name, field in graphql_type.fields.items():
                if name == "Query" and field_name in ("_service", "_entities"):
                    continue  # federation's, described by its specification
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
    assert [m for m in missing if m.split(".")[0].split("(")[0] not in FEDERATION] == []
