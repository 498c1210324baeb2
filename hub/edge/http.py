"""Rate limits in front of the endpoints that take no token, and of failed token requests.

`EdgeLimitMiddleware` sits inside the audit middleware, so a refused token request is
recorded like any token answer (DENIED, `429 slow_down`). On `/oauth/token` it checks,
before the secret's slow hash is computed, whether the client id or the address named is
locked out, and counts every failed answer against both. Every other endpoint without a
token (`/oauth/*`, `/.well-known/*`, the health checks) is limited per address; those
refusals it records in the audit trail itself. `/graphql` is limited per client, by
cost, inside the operation (`hub.graphql.cost`).

`ClientLimitMiddleware` sits inside the bearer check, where the client is known, in front
of `/graphql`. It runs at most `HUB_CLIENT_MAX_IN_FLIGHT` requests of one client at once
(more wait, and beyond `HUB_CLIENT_MAX_WAITING` are refused at once), starts them no
faster than its pace after a burst (`HUB_CLIENT_RATE`, `hub.edge.pacing`), and runs at most
`HUB_WORKER_MAX_RUNNING` of all clients, the next turn going to the least busy client
(`hub.edge.turns`); it refuses a client
the limiter refused lately and that has not even the minimum charge left, before any
GraphQL work; and it holds every 429 it answers for `HUB_RATE_LIMIT_REFUSAL_DELAY`, in
its slot, so a client that ignores `Retry-After` gets one refusal a delay per slot
instead of as many as the hub can answer. Its refusals are recorded by the audit net
(`hub.audit.http`) as DENIED `429 RATE_LIMITED`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.audit.events import AuditEvent
from hub.audit.http import TOKEN_PATHS, _basic_client_id
from hub.db import utcnow
from hub.edge.pacing import Pacer
from hub.edge.ratelimit import RateLimiter, Refusal
from hub.edge.settings import EdgeSettings
from hub.edge.turns import Turns, answered, waiting

Record = Callable[[AuditEvent], Awaitable[int]]

#: Paths limited per client inside the operation, or guarded by their own token.
_NOT_ANONYMOUS = ("/graphql", "/metrics")
#: Refusals held at once per address on the token endpoint (see `EdgeLimitMiddleware`).
_MAX_HELD = 8
#: The token endpoint's form is small (hub.auth.endpoints.MAX_FORM_BYTES); keep no more.
_MAX_PEEK = 16 * 1024


def _refusal_response(path: str, refusal: Refusal, message: str | None = None) -> JSONResponse:
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
                    "message": message
                    or f"Too many requests; retry after {refusal.retry_after} s.",
                    "extensions": {
                        "code": "RATE_LIMITED",
                        "retryAfter": refusal.retry_after,
                        "limit": refusal.limit,
                    },
                }
            ]
        }
    return JSONResponse(body, status_code=429, headers=headers)


class EdgeLimitMiddleware:
    """Failed-token lockouts and per-address limits; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        record: Record | None,
        refusal_delay: float = 0.0,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.record = record
        #: Locked-out token requests are held this long; at most `_MAX_HELD` per address
        #: at once (more are answered at once: holding them must not cost memory without end).
        self.refusal_delay = refusal_delay
        self._held: dict[str, int] = {}

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
            await self._hold(address or "", min(self.refusal_delay, refusal.retry_after))
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

    async def _hold(self, key: str, seconds: float) -> None:
        held = self._held.get(key, 0)
        if seconds <= 0 or held >= _MAX_HELD:
            return
        self._held[key] = held + 1
        try:
            await asyncio.sleep(seconds)
        finally:
            self._held[key] -= 1
            if not self._held[key]:
                del self._held[key]

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


class _Gate:
    """One client's requests in one worker: a slot each while it runs, and the waiting."""

    __slots__ = ("slots", "users")

    def __init__(self, size: int) -> None:
        self.slots = asyncio.Semaphore(size)
        #: Requests holding or waiting for a slot; the gate is dropped when none is left.
        self.users = 0


class ClientLimitMiddleware:
    """Per-client slots, early refusal and held refusals on `/graphql`; see the module
    docstring."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, settings: EdgeSettings) -> None:
        self.app = app
        self.limiter = limiter
        self.max_in_flight = settings.client_max_in_flight
        self.max_waiting = settings.client_max_waiting
        self.delay = settings.rate_limit_refusal_delay
        self._gates: dict[str, _Gate] = {}
        self.turns = Turns(settings.worker_max_running, self._load)
        #: One pace for every client, or None: each at its role's limit (`_allowance_rate`).
        self.rate = None if settings.client_rate == "allowance" else settings.client_rate
        self.pacer = Pacer(settings.client_burst) if self.rate != 0 else None

    def _allowance_rate(self, roles: tuple[str, ...]) -> float:
        """Requests a second the client's rate limit allows at the minimum charge."""
        item = self.limiter.graphql_limit(roles)
        return item.amount / item.get_expiry() / self.limiter.min_cost

    def _load(self, client_id: str) -> int:
        gate = self._gates.get(client_id)
        return gate.users if gate else 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal") if scope["type"] == "http" else None
        if principal is None or not principal.token_id or scope["path"] != "/graphql":
            # Websockets, anonymous requests (limited per address) and other paths.
            await self.app(scope, receive, send)
            return
        client_id: str = principal.client_id
        gate = self._gates.get(client_id)
        if gate is None:
            gate = self._gates[client_id] = _Gate(self.max_in_flight)
        if gate.users >= self.max_in_flight + self.max_waiting:
            refusal = Refusal("in-flight", 1, f"{self.max_in_flight} requests in flight")
            for hook in self.limiter.on_refusal:
                hook(refusal.family)
            message = (
                f"Client {client_id} has {gate.users} requests in flight or waiting, the "
                f"most one client may have; retry after {refusal.retry_after} s."
            )
            await _refusal_response(scope["path"], refusal, message)(scope, receive, send)
            return
        gate.users += 1
        try:
            async with gate.slots:
                if self.pacer is not None:
                    rate = self.rate or self._allowance_rate(principal.roles)
                    pause = self.pacer.reserve(client_id, rate)
                    if pause > 0:
                        await asyncio.sleep(pause)
                await self._admit(scope, receive, send, client_id, principal.roles)
        finally:
            gate.users -= 1
            if not gate.users:
                del self._gates[client_id]

    async def _admit(
        self, scope: Scope, receive: Receive, send: Send, client_id: str, roles: tuple[str, ...]
    ) -> None:
        refusal = await self.limiter.exhausted(client_id, roles)
        if refusal is not None:
            await asyncio.sleep(min(self.delay, refusal.retry_after))
            message = (
                f"Client {client_id} has spent its rate limit ({refusal.limit}, in cost units; "
                f"every request costs at least {self.limiter.min_cost}). "
                f"Retry after {refusal.retry_after} s."
            )
            await _refusal_response(scope["path"], refusal, message)(scope, receive, send)
            return

        async def held(message: Message) -> None:
            # A refusal of the operation itself (over the rate limit) is held the same way.
            if message["type"] == "http.response.start" and message["status"] == 429:
                retry_after = Headers(raw=message.get("headers", [])).get("retry-after", "1")
                wait = min(self.delay, float(retry_after)) if retry_after.isdigit() else 0
                async with waiting():
                    await asyncio.sleep(wait)
            if message["type"] == "http.response.start":
                answered()
            await send(message)

        async with self.turns.turn(client_id):
            await self.app(scope, receive, held)
