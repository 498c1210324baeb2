"""Which document a request runs: its text, a trusted document's id, or an APQ hash.

A request names its document in one of three ways:

- `query`: the text, as always;
- `documentId` (GraphQL over HTTP's trusted documents, as Hive and Yoga send it): the id
  of a document of the catalogue (`hub.edge.documents`), `<sha256 hex>` or `sha256:<hex>`;
- `extensions.persistedQuery` (Apollo's automatic persisted queries, `{"version": 1,
  "sha256Hash": …}`): a manifest document's id, or the hash of a text the client registered
  by sending hash and text together once the hub answered `PersistedQueryNotFound`.

`Documents.resolve` runs first inside the operation (`hub.graphql.edge.EdgeSchema`), so
that everything after it (parsing, validation, limits, cost, the audit) is the same
pipeline whichever way the document came; its refusals are answered and audited like any
other. A text sent with its hash is registered only once the operation is admitted
(`Documents.register`, after validation and the cost and rate limits), as Apollo Server
stores it only after its checks: a refused document is never stored.

Clients whose role `HUB_TRUSTED_DOCUMENTS_ONLY` lists run trusted documents only (by id,
by hash, or by their exact text): anything else is `DOCUMENT_NOT_TRUSTED`, and they cannot
register new text.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLError
from strawberry.types.execution import ExecutionContext, PreExecutionError

from hub.edge.apq import DocumentStore
from hub.edge.documents import Catalogue, document_id
from hub.edge.metrics import PERSISTED_DOCUMENTS
from hub.edge.settings import EdgeSettings
from hub.graphql.context import Context

#: Set on the request's state by the view: the `documentId` the request sent (any JSON).
DOCUMENT_ID_STATE = "hub_document_id"
#: `Context.memo` key: the hash whose text to register once the operation is admitted.
_REGISTER = "hub_apq_register"
#: `Context.memo` key: how an admitted request named its document (the metric's outcome).
_WAY = "hub_document_way"

_HEX = re.compile(r"[0-9a-fA-F]{64}")

#: The HTTP status of a response refused with these codes, whatever the Accept header:
#: Apollo's protocol answers "not found" and "not supported" with 200 (the client retries
#: with the text, or stops hashing), a bad hash or version with 400.
STATUS_OF_CODE = {
    "PERSISTED_QUERY_NOT_FOUND": 200,
    "PERSISTED_QUERY_NOT_SUPPORTED": 200,
    "PERSISTED_QUERY_HASH_MISMATCH": 400,
    "BAD_PERSISTED_QUERY": 400,
    "BAD_DOCUMENT_ID": 400,
    "DOCUMENT_NOT_FOUND": 404,
    "DOCUMENT_NOT_TRUSTED": 403,
}

_ACCEPTED = (
    "send `documentId` with a document's id, Apollo's `extensions.persistedQuery` with its "
    "sha256Hash, or its exact text as `query`; the documents and their ids are in the hub's "
    "manifest (schema/operations/manifest.json, `hub documents export`)"
)


def _refuse(message: str, code: str, **details: Any) -> PreExecutionError:
    error = GraphQLError(message, extensions={"code": code, **details})
    return PreExecutionError(data=None, errors=[error])


def _document_id_of(value: Any) -> str | None:
    """The hex id of a `documentId` (`<hex>` or `sha256:<hex>`), or None if malformed."""
    if not isinstance(value, str):
        return None
    hex_id = value.removeprefix("sha256:")
    return hex_id.lower() if _HEX.fullmatch(hex_id) else None


class Documents:
    """Resolves each request's document from the catalogue, the APQ store or its text."""

    def __init__(
        self, catalogue: Catalogue, store: DocumentStore | None, edge: EdgeSettings
    ) -> None:
        self.catalogue = catalogue
        #: None when APQ is off (`HUB_APQ=off`): only manifest hashes are known.
        self.store = store if edge.apq else None
        self.edge = edge

    async def resolve(self, execution: ExecutionContext) -> PreExecutionError | None:
        """Put the request's document text in `execution.query`, or refuse it."""
        refusal = await self._resolve(execution)
        context = execution.context
        if refusal is not None:  # one of the codes of STATUS_OF_CODE: a bounded label
            first = (refusal.errors or [GraphQLError("refused")])[0]
            outcome = str((first.extensions or {}).get("code", "refused")).lower()
        elif isinstance(context, Context):
            outcome = context.memo.pop(_WAY, "text")
        else:
            outcome = "text"
        PERSISTED_DOCUMENTS.labels(outcome=outcome).inc()
        return refusal

    async def _resolve(self, execution: ExecutionContext) -> PreExecutionError | None:
        context = execution.context
        if not isinstance(context, Context):
            return None
        request = context.request
        sent_id = getattr(request.state, DOCUMENT_ID_STATE, None) if request else None
        persisted = (execution.operation_extensions or {}).get("persistedQuery")
        query = execution.query or None
        restricted = self.edge.trusted_only(context.principal.roles)
        if sent_id is not None:
            return self._by_id(execution, context, sent_id, bool(query or persisted))
        if persisted is not None:
            return await self._by_hash(execution, context, persisted, query, restricted)
        if query is not None and restricted:
            sha256 = document_id(query)
            if self.catalogue.get(sha256) is None:
                return self._untrusted(context, sha256)
            context.document_id = sha256
        return None

    def _by_id(
        self, execution: ExecutionContext, context: Context, sent: Any, with_text: bool
    ) -> PreExecutionError | None:
        if with_text:
            return _refuse(
                "Send `documentId` alone: without `query` and without `extensions.persistedQuery`.",
                "BAD_DOCUMENT_ID",
            )
        sha256 = _document_id_of(sent)
        if sha256 is None:
            return _refuse(
                f"`documentId` {str(sent)[:80]!r} is not a document id; accepted: the 64 hex "
                "digits of the document's SHA-256, optionally prefixed `sha256:`.",
                "BAD_DOCUMENT_ID",
            )
        context.document_id = sha256
        document = self.catalogue.get(sha256)
        if document is None:
            return _refuse(
                f"No trusted document has id {sha256}. The ids are in the hub's manifest "
                "(schema/operations/manifest.json, `hub documents export`).",
                "DOCUMENT_NOT_FOUND",
                documentId=sha256,
            )
        execution.query = document.body
        context.memo[_WAY] = "document_id"
        return None

    async def _by_hash(
        self,
        execution: ExecutionContext,
        context: Context,
        persisted: Any,
        query: str | None,
        restricted: bool,
    ) -> PreExecutionError | None:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            version = persisted.get("version") if isinstance(persisted, dict) else None
            return _refuse(
                f"Unsupported persisted query version {version!r}; this hub speaks "
                'version 1: `{"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`.',
                "BAD_PERSISTED_QUERY",
            )
        sent = persisted.get("sha256Hash")
        sha256 = _document_id_of(sent) if isinstance(sent, str) and ":" not in sent else None
        if sha256 is None:
            return _refuse(
                f"`extensions.persistedQuery.sha256Hash` {str(sent)[:80]!r} is not a SHA-256; "
                "accepted: the 64 hex digits of the SHA-256 of the document's UTF-8 text.",
                "BAD_PERSISTED_QUERY",
            )
        context.document_id = sha256
        trusted = self.catalogue.get(sha256)
        if query is not None:
            if document_id(query) != sha256:
                # Apollo's rule against hash hijacking: a hash is only ever its own text's.
                return _refuse(
                    "provided sha does not match query: `sha256Hash` must be the SHA-256 (hex) "
                    f"of the UTF-8 text sent as `query`, which is {document_id(query)}. "
                    "Nothing was stored.",
                    "PERSISTED_QUERY_HASH_MISMATCH",
                )
            if trusted is None and restricted:
                return self._untrusted(context, sha256)
            if trusted is None and self.store is not None:
                context.memo[_REGISTER] = sha256
            context.memo[_WAY] = "persisted_query_with_text"
            return None
        if trusted is not None:
            execution.query = trusted.body
            context.memo[_WAY] = "persisted_query_trusted"
            return None
        if restricted:
            return self._untrusted(context, sha256)
        if self.store is None:
            return _refuse("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
        text = await self.store.get(sha256)
        if text is None:
            # Apollo's exact answer: its clients match the message or the code, then retry
            # with the text.
            return _refuse("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        execution.query = text
        context.memo[_WAY] = "persisted_query_stored"
        return None

    def _untrusted(self, context: Context, sha256: str) -> PreExecutionError:
        roles = ", ".join(context.principal.roles) or "(none)"
        return _refuse(
            f"Clients of your role ({roles}) may run only the hub's trusted documents: "
            f"{_ACCEPTED}. This document (SHA-256 {sha256}) is not one of them.",
            "DOCUMENT_NOT_TRUSTED",
            documentId=sha256,
        )

    async def register(self, execution: ExecutionContext) -> None:
        """Store the text an admitted operation registered with its hash."""
        context = execution.context
        if not isinstance(context, Context) or self.store is None:
            return
        sha256 = context.memo.pop(_REGISTER, None)
        if sha256 is not None and execution.query is not None:
            await self.store.put(sha256, execution.query)
            PERSISTED_DOCUMENTS.labels(outcome="persisted_query_registered").inc()
