"""The trusted documents: `schema/operations/`, each document with its SHA-256 id.

A document's id is the SHA-256 (lowercase hex) of its text encoded as UTF-8, byte for byte
as the `.graphql` file holds it (comments and the final newline included: `sha256sum
schema/operations/stats.graphql` prints it). The manifest is Apollo's persisted query
manifest format, so that Apollo's tooling (and any client that reads it) understands it:

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 hex>", "name": "LksNeedsFeed", "type": "query",
                     "body": "<the file's text>"}]}

`hub documents export` writes it from the folder (`Catalogue.from_directory`); the hub
loads it at start (`Catalogue.load`), checking that every id is its body's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
MANIFEST_VERSION = 1
#: Where the catalogue lives in a checkout, and its manifest.
OPERATIONS_DIR = Path("schema/operations")
MANIFEST_NAME = "manifest.json"


class CatalogueError(ValueError):
    """A document or a manifest the hub cannot take; the message names the file."""


def document_id(text: str) -> str:
    """A document's id: SHA-256 (hex) of its text as UTF-8, as the client sends it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    """One document of the catalogue, as a manifest entry."""

    id: str
    name: str
    type: str
    body: str

    def entry(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "type": self.type, "body": self.body}


def _operation(text: str, source: str) -> OperationDefinitionNode:
    try:
        document = parse(text)
    except GraphQLError as error:
        raise CatalogueError(f"{source}: does not parse: {error.message}") from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None:
        raise CatalogueError(
            f"{source}: holds {len(operations)} operations; a trusted document holds exactly "
            "one, named (its name is the manifest's `name`)"
        )
    return operations[0]


class Catalogue:
    """The trusted documents by id."""

    def __init__(self, documents: Iterable[TrustedDocument] = ()) -> None:
        self.by_id: dict[str, TrustedDocument] = {}
        names: set[str] = set()
        for document in documents:
            if document.name in names:
                raise CatalogueError(f"two trusted documents are named {document.name!r}")
            names.add(document.name)
            self.by_id[document.id] = document

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, document_id: str) -> TrustedDocument | None:
        return self.by_id.get(document_id)

    @classmethod
    def from_directory(cls, directory: Path, schema: GraphQLSchema | None = None) -> Catalogue:
        """Every `*.graphql` file of `directory` (sorted by name), validated against
        `schema` when one is given."""
        documents = []
        for path in sorted(directory.glob("*.graphql")):
            # Bytes, not read_text: no newline translation, the id is of the file's bytes.
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                raise CatalogueError(f"{path}: is not UTF-8") from None
            operation = _operation(text, str(path))
            if schema is not None:
                errors = validate(schema, parse(text))
                if errors:
                    raise CatalogueError(f"{path}: does not validate: {errors[0].message}")
            assert operation.name is not None
            documents.append(
                TrustedDocument(
                    document_id(text), operation.name.value, operation.operation.value, text
                )
            )
        return cls(documents)

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read a manifest; refuse one whose format is not Apollo's or whose ids are not
        their bodies' hashes."""
        try:
            manifest = json.loads(path.read_bytes())
        except (OSError, ValueError) as error:
            raise CatalogueError(f"{path}: cannot be read as JSON ({error})") from None
        if not isinstance(manifest, dict) or (
            manifest.get("format"),
            manifest.get("version"),
        ) != (MANIFEST_FORMAT, MANIFEST_VERSION):
            raise CatalogueError(
                f"{path}: is not an {MANIFEST_FORMAT} (version {MANIFEST_VERSION}); "
                "write one with `hub documents export`"
            )
        documents = []
        for number, entry in enumerate(manifest.get("operations") or []):
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(key), str) for key in ("id", "name", "type", "body")
            ):
                raise CatalogueError(
                    f"{path}: operation {number} needs id, name, type and body (strings)"
                )
            if document_id(entry["body"]) != entry["id"]:
                raise CatalogueError(
                    f"{path}: operation {entry['name']!r} has id {entry['id']}, but its body's "
                    f"SHA-256 is {document_id(entry['body'])}"
                )
            documents.append(
                TrustedDocument(entry["id"], entry["name"], entry["type"], entry["body"])
            )
        return cls(documents)

    def manifest(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "operations": [document.entry() for document in self.by_id.values()],
        }

    def manifest_json(self) -> str:
        """The manifest as committed: indented, UTF-8 as is, one final newline."""
        return json.dumps(self.manifest(), indent=2, ensure_ascii=False) + "\n"


def default_manifest() -> Path | None:
    """The checkout's `schema/operations/manifest.json`, else the one the wheel ships."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (
        package.parent / OPERATIONS_DIR / MANIFEST_NAME,
        package / "operations" / MANIFEST_NAME,
    ):
        if candidate.exists():
            return candidate
    return None


def load_catalogue(path: Path | None) -> Catalogue:
    """The catalogue of `path` (`HUB_TRUSTED_DOCUMENTS_FILE`), else the shipped one, else
    none (a hub without a catalogue serves free-form documents only)."""
    path = path or default_manifest()
    return Catalogue.load(path) if path is not None else Catalogue()
