"""A cap on request bodies: a bigger one is answered 413 before the app reads it.

A declared `Content-Length` over the cap is refused at once; a body without one (chunked)
is counted while it streams in, and refused as soon as it passes the cap, so that at most
`max_bytes` of it are ever held. GraphQL clients get a GraphQL-shaped error, OAuth clients
OAuth's error JSON; both carry the request id.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """The body passed the cap while streaming."""


class BodyLimitMiddleware:
    """Refuses bodies over `max_bytes` with 413 (`REQUEST_TOO_LARGE`)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send, int(declared))
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send, None)

    async def _refuse(self, scope: Scope, send: Send, size: int | None) -> None:
        request_id = scope.get("state", {}).get("request_id", "-")
        told = f"{size} bytes" if size is not None else f"more than {self.max_bytes} bytes"
        message = (
            f"The request body is {told}; at most {self.max_bytes} bytes are accepted "
            "(HUB_MAX_BODY_BYTES)."
        )
        if str(scope.get("path", "")).startswith("/oauth"):
            body: object = {"error": "invalid_request", "error_description": message}
            media_type = b"application/json"
        else:
            body = {
                "errors": [
                    {
                        "message": message,
                        "extensions": {
                            "code": "REQUEST_TOO_LARGE",
                            "limit": self.max_bytes,
                            "requestId": request_id,
                        },
                    }
                ]
            }
            media_type = b"application/json; charset=utf-8"
        encoded = orjson.dumps(body)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media_type),
                    (b"content-length", str(len(encoded)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": encoded})
