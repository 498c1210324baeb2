"""Request ids: every request gets one, echoed in `X-Request-Id` and quoted in errors.

`RequestIdMiddleware` is the outermost layer of the app, so every response carries the id,
also one made here for an exception nothing inside answered: it is logged under the id and
answered in the protocol of the path (OAuth's error JSON on `/oauth/*`, a GraphQL error
elsewhere), 503 with `Retry-After` when the database is unavailable, else 500.
"""

from __future__ import annotations

import logging
import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.db import is_unavailable

logger = logging.getLogger("hub.requests")

_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

#: Seconds a client should wait before retrying while the database is unavailable.
RETRY_AFTER_SECONDS = 5


def failure_response(path: str, error: BaseException, request_id: str) -> Response:
    """The answer to an exception nothing inside answered, in the protocol of `path`."""
    unavailable = is_unavailable(error)
    headers = {"Cache-Control": "no-store"}
    if unavailable:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    status = 503 if unavailable else 500
    if unavailable:
        message = f"The hub's database is unavailable; retry in {RETRY_AFTER_SECONDS} s."
    else:
        message = "Unexpected error. Quote the request id to the hub's operators."
    if path.startswith("/oauth/"):
        body: dict[str, object] = {
            # RFC 6749 §5.2 / §4.1.2.1: the two server-side error codes.
            "error": "temporarily_unavailable" if unavailable else "server_error",
            "error_description": f"{message} Request id {request_id}.",
        }
    else:
        code = "SERVICE_UNAVAILABLE" if unavailable else "INTERNAL_ERROR"
        body = {
            "errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}]
        }
    return JSONResponse(body, status_code=status, headers=headers)


class RequestIdMiddleware:
    """Takes a well-formed incoming `X-Request-Id` or makes one, and sets it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if scope["type"] != "http" or started:
                raise  # too late to answer: the server closes the connection and logs it
            if is_unavailable(error):
                logger.warning("database unavailable (request %s): %r", request_id, error)
            else:
                logger.exception("unhandled error (request %s)", request_id)
            await failure_response(scope["path"], error, request_id)(scope, receive, send_with_id)
