"""Logs as JSON lines (the standard library's logging with a JSON formatter), and one
access line per request.

`JsonFormatter` writes each record as one JSON object: time, level, logger, message, and
the record's `extra` fields. `AccessLogMiddleware` writes, for every HTTP request, the
line an operator searches by: request id, method, route, status, duration, client,
organisation, and for GraphQL the root fields, outcome, error codes and cost. It never
logs a header, a body, a document, variables or data: secrets and personal values do not
reach the logs by construction (tests/edge/test_logs.py greps a journey's logs for them).
It also counts and times the request for `/metrics`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.edge.metrics import HTTP_LATENCY, HTTP_REQUESTS, route_of

access_log = logging.getLogger("hub.access")

#: Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
#: uvicorn's `extra` copy of its message with terminal colours: noise in a JSON line.
_DROPPED = frozenset({"color_message"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in _DROPPED and not name.startswith("_"):
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def log_config(level: str, *, json: bool = True) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the hub and uvicorn: JSON lines on stderr."""
    formatter = (
        {"()": "hub.edge.logs.JsonFormatter"}
        if json
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level.upper()},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level.upper()},
            # The hub's access line replaces uvicorn's (it has the request id and client).
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }


class AccessLogMiddleware:
    """One `hub.access` line and the HTTP metrics per request (inside the request id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope["path"])
            HTTP_REQUESTS.labels(route=route, status=str(status)).inc()
            HTTP_LATENCY.labels(route=route).observe(seconds)
            state = scope.get("state", {})
            principal = state.get("principal")
            line: dict[str, Any] = {
                "request_id": state.get("request_id"),
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": getattr(principal, "client_id", None),
                "organization": getattr(principal, "organization_code", None),
            }
            summary = state.get("hub_graphql")
            if summary:
                line.update(summary)
            access_log.info("%s %s %s", scope["method"], route, status, extra=line)
