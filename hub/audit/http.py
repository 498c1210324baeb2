"""Audit events for what happens before GraphQL: token requests and refused tokens.

`AuditHttpMiddleware` sits outside the bearer check. It records:

- every call of `/oauth/token`, `/oauth/revoke` and `/oauth/introspect` (kind TOKEN,
  ALLOWED when answered 200, DENIED otherwise with the OAuth error code), and holds the
  response until its event is durable: no token leaves the hub unrecorded (503 instead);
- every `/graphql` request that no GraphQL operation recorded: refused for its token (401,
  with the reason the challenge gave), or before execution (a syntax error, a limit, an
  unknown `operationName`, a JSON batch, a GET mutation, a form post, a body that is not
  UTF-8: DENIED with the status, the error code and its message), or the GraphiQL page.
  An operation that ran is recorded by the schema (`hub.graphql.audit.RecordAndCommit`),
  which marks the request; this is the net under it, so no request leaves unrecorded.

A token answer, and any other answer, leaves only once its event is durable. A `429` on
`/graphql` (a rate-limit refusal, which gives nothing away) is sent first and recorded
right after, in the same request: a flood of refusals is recorded in full without each
refusal waiting for the audit's group commit, and an audit failure is logged (and the
hub's `/readyz` and metrics show it) rather than turned into another answer.

Only the status line and small error bodies are read; tokens and secrets never are.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from collections.abc import Awaitable, Callable

import orjson
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.audit.events import AuditEvent
from hub.db import utcnow

#: Set in the scope state by the schema once it recorded the operation.
AUDITED = "hub_audited"

log = logging.getLogger(__name__)

Record = Callable[[AuditEvent], Awaitable[int]]
TOKEN_PATHS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect")
_DESCRIPTION = re.compile(r'error_description="([^"]*)"')


def _basic_client_id(headers: Headers) -> str | None:
    """The client id of an HTTP Basic `Authorization` header, if there is one."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user = base64.b64decode(value, validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user[:64] or None


class AuditHttpMiddleware:
    """Records token requests and refused bearer tokens before their responses leave."""

    def __init__(self, app: ASGIApp, *, record: Record) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        is_token = path in TOKEN_PATHS
        if not is_token and path != "/graphql":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        occurred_at = utcnow()
        held: list[Message] = []
        recording = False
        sent_first = False

        async def hold(message: Message) -> None:
            nonlocal recording, sent_first
            if message["type"] == "http.response.start":
                # Token answers are recorded; on /graphql whatever the schema did not record.
                recording = is_token or not scope.get("state", {}).get(AUDITED)
                sent_first = recording and not is_token and message["status"] == 429
            if not recording:
                await send(message)
                return
            held.append(message)
            if sent_first:
                await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                if sent_first:
                    await self._record_sent(scope, held, occurred_at, started)
                else:
                    await self._flush(scope, held, send, occurred_at, started, is_token)

        await self.app(scope, receive, hold)

    async def _record_sent(
        self, scope: Scope, held: list[Message], occurred_at: object, started: float
    ) -> None:
        """Record a refusal already sent; a failure is logged, there is nothing to undo."""
        try:
            await self.record(self._event(scope, held, occurred_at, started, False))
        except Exception:
            log.exception("audit write failed for a refusal on %s", scope["path"])

    async def _flush(
        self,
        scope: Scope,
        held: list[Message],
        send: Send,
        occurred_at: object,
        started: float,
        is_token: bool,
    ) -> None:
        event = self._event(scope, held, occurred_at, started, is_token)
        try:
            await self.record(event)
        except Exception:
            log.exception("audit write failed for %s", scope["path"])
            if is_token:
                # Fail closed: a token the trail cannot account for is not handed out.
                refusal = JSONResponse(
                    {"error": "temporarily_unavailable", "error_description": "audit unavailable"},
                    status_code=503,
                )
                await refusal({"type": "http"}, _no_receive, send)
                return
        for message in held:
            await send(message)

    def _event(
        self,
        scope: Scope,
        held: list[Message],
        occurred_at: object,
        started: float,
        is_token: bool,
    ) -> AuditEvent:
        start = held[0]
        status: int = start["status"]
        response_headers = Headers(raw=start.get("headers", []))
        request_headers = Headers(scope=scope)
        state = scope.get("state", {})
        reason = None
        refused = status != 200
        if not is_token and not refused:
            # GraphQL answers a request refused before execution with 200 and only errors.
            refused = _errors_only(held)
        if refused:
            reason = self._reason(status, response_headers, held)
        client = scope.get("client")
        principal = state.get("principal")
        return AuditEvent(
            occurred_at=occurred_at,  # type: ignore[arg-type]
            decision="DENIED" if refused else "ALLOWED",
            kind="TOKEN" if is_token else "GRAPHQL",
            reason=reason,
            request_id=state.get("request_id"),
            client_id=principal.client_id if principal else _basic_client_id(request_headers),
            organization_code=principal.organization_code or None if principal else None,
            roles=principal.roles if principal else (),
            token_id=principal.token_id or None if principal else None,
            source_address=client[0] if client else None,
            operation_type="token" if is_token else None,
            operation_name=scope["path"].rsplit("/", 1)[-1],
            result_size=sum(len(m.get("body", b"")) for m in held),
            duration_us=int((time.perf_counter() - started) * 1_000_000),
        )

    @staticmethod
    def _reason(status: int, headers: Headers, held: list[Message]) -> str:
        """`401 invalid_client: why`, from the OAuth or GraphQL error body, the bearer
        challenge, or a plain-text answer."""
        body = _body(held)
        error = description = None
        parsed = _json(body)
        if isinstance(parsed, dict):
            error, description = parsed.get("error"), parsed.get("error_description")
            errors = parsed.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                first = errors[0]
                extensions = first.get("extensions") or {}
                error = extensions.get("code") if isinstance(extensions, dict) else None
                error = error or "GRAPHQL_ERROR"
                description = first.get("message")
        elif body and not body.lstrip().startswith(b"<"):
            description = body[:160].decode("utf-8", "replace").strip()
        described = _DESCRIPTION.search(headers.get("www-authenticate", ""))
        if described:
            description = described.group(1)
        return f"{status} {error or 'refused'}: {description or ''}".rstrip(": ")


def _body(held: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in held)


def _json(body: bytes) -> object:
    if body[:1] != b"{":
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _errors_only(held: list[Message]) -> bool:
    """True for a GraphQL answer with errors and no data (refused before execution)."""
    parsed = _json(_body(held))
    return isinstance(parsed, dict) and bool(parsed.get("errors")) and parsed.get("data") is None


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
