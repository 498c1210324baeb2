"""Rate limits in front of the endpoints that take no token, and of failed token requests.

`EdgeLimitMiddleware` sits inside the audit middleware, so a refused token request is
recorded like any token answer (DENIED, `429 slow_down`). On `/oauth/token` it checks,
before the secret's slow hash is computed, whether the client id or the address named is
locked out, and counts every failed answer against both. Every other endpoint without a
token (`/oauth/*`, `/.well-known/*`, the health checks) is limited per address; those
refusals it records in the audit trail itself. `/graphql` is limited per client, by
cost, inside the operation (`hub.graphql.cost`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.audit.events import AuditEvent
from hub.audit.http import TOKEN_PATHS, _basic_client_id
from hub.db import utcnow
from hub.edge.ratelimit import RateLimiter, Refusal

Record = Callable[[AuditEvent], Awaitable[int]]

#: Paths limited per client inside the operation, or guarded by their own token.
_NOT_ANONYMOUS = ("/graphql", "/metrics")
#: The token endpoint's form is small (hub.auth.endpoints.MAX_FORM_BYTES); keep no more.
_MAX_PEEK = 16 * 1024


def _refusal_response(path: str, refusal: Refusal) -> JSONResponse:
    headers = {"Retry-After": str(refusal.retry_after), "Cache-Control": "no-store"}
    description = (
        f"too many requests ({refusal.limit} per {refusal.family.replace('-', ' ')}); "
        f"retry after {refusal.retry_after} s"
    )
    if path.startswith("/oauth/"):
        # RFC 6749 has no code for this; `slow_down` (RFC 8628) says exactly what to do.
        body: dict[str, object] = {"error": "slow_down", "error_description": description}
    else:
        body = {
            "errors": [
                {
                    "message": f"Too many requests; retry after {refusal.retry_after} s.",
                    "extensions": {"code": "RATE_LIMITED", "retryAfter": refusal.retry_after},
                }
            ]
        }
    return JSONResponse(body, status_code=429, headers=headers)


class EdgeLimitMiddleware:
    """Failed-token lockouts and per-address limits; see the module docstring."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, record: Record | None) -> None:
        self.app = app
        self.limiter = limiter
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        client = scope.get("client")
        address = client[0] if client else None
        if path == "/oauth/token":
            await self._token(scope, receive, send, address)
            return
        if path in _NOT_ANONYMOUS or path.startswith("/graphql/") or address is None:
            await self.app(scope, receive, send)
            return
        refusal = await self.limiter.anonymous(address)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        if path not in TOKEN_PATHS:  # the audit middleware records those
            await self._audit(scope, address, refusal)
        await _refusal_response(path, refusal)(scope, receive, send)

    async def _token(self, scope: Scope, receive: Receive, send: Send, address: str | None) -> None:
        # The client id is in the Basic header or the form: read the (small) body first,
        # then hand it on unchanged.
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > _MAX_PEEK:
                break
        client_id = _basic_client_id(Headers(scope=scope)) or _form_client_id(body)

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        refusal = await self.limiter.anonymous(address) if address else None
        refusal = refusal or await self.limiter.token_locked(client_id, address)
        if refusal is not None:
            await _refusal_response(scope["path"], refusal)(scope, replay, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watch)
        if status in (400, 401):
            await self.limiter.token_failed(client_id, address)

    async def _audit(self, scope: Scope, address: str, refusal: Refusal) -> None:
        if self.record is None:
            return
        started = time.perf_counter()
        await self.record(
            AuditEvent(
                occurred_at=utcnow(),
                decision="DENIED",
                kind="GRAPHQL",
                reason=f"429 RATE_LIMITED: {refusal.limit} per address",
                request_id=scope.get("state", {}).get("request_id"),
                source_address=address,
                operation_type="http",
                operation_name=scope["path"][:200],
                result_size=0,
                duration_us=int((time.perf_counter() - started) * 1_000_000),
            )
        )


def _form_client_id(body: bytes) -> str | None:
    try:
        pairs = parse_qsl(body.decode("utf-8"), max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        return None
    found = next((value for name, value in pairs if name == "client_id"), None)
    return found[:64] if found else None
