"""Who a domain service acts for: an organisation, and the OAuth2 client of it that called.

The API layer builds it from the request's principal (`hub.graphql.mutations.actor_of`); the
CLI and the seed build it directly. Services record it in history rows and audit events.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """The organisation, and the OAuth2 client of it, on whose behalf a service acts."""

    organization_id: int
    client_id: int | None = None
