"""Expected failures of the real-time domain: webhook registration and management.

    WebhookError    WebhookErrorCode; the GraphQL layer maps the code to its enum

Subscriptions fail as GraphQL errors with `extensions.code` instead (a subscription has no
payload to carry them): `NOT_FOUND`, `BAD_USER_INPUT`, `FORBIDDEN`.
"""

from __future__ import annotations

from enum import StrEnum


class WebhookErrorCode(StrEnum):
    """Why a webhook operation was refused."""

    #: Not an http(s) URL, too long, or (production) not HTTPS to a public address.
    INVALID_URL = "INVALID_URL"
    #: An unknown event kind, none at all, or a bad filter value.
    INVALID_INPUT = "INVALID_INPUT"
    #: The organisation has no endpoint with this id.
    WEBHOOK_NOT_FOUND = "WEBHOOK_NOT_FOUND"
    #: The organisation already has the most endpoints allowed.
    TOO_MANY_ENDPOINTS = "TOO_MANY_ENDPOINTS"


class WebhookError(Exception):
    """A webhook operation was refused; `code` says why, `message` what is accepted."""

    def __init__(self, code: WebhookErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
