"""Security headers on every answer, and the browser origins allowed to call the hub.

`SecurityHeadersMiddleware` adds `X-Content-Type-Options: nosniff`, `Referrer-Policy:
no-referrer` and `X-Frame-Options: DENY`, and `Strict-Transport-Security` on requests that
came over HTTPS (the scheme uvicorn reports: behind a TLS proxy, run it with
`--proxy-headers` and the proxy in `--forwarded-allow-ips`). CORS is Starlette's own
middleware, configured by `HUB_CORS_ORIGINS`: no origin is allowed unless listed.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.edge.settings import EdgeSettings


class SecurityHeadersMiddleware:
    """Adds the security headers; HSTS only over HTTPS."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains" if hsts_seconds else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                if secure and self.hsts:
                    headers["Strict-Transport-Security"] = self.hsts
            await send(message)

        await self.app(scope, receive, with_headers)


def browser_middleware(settings: EdgeSettings) -> list[Middleware]:
    """The security headers, and CORS for the configured origins (none: no CORS at all)."""
    middleware = [Middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-purpose", "x-request-id"],
                expose_headers=["x-request-id", "retry-after"],
                max_age=600,
            )
        )
    return middleware
