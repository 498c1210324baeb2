"""GraphQL mutations of webhooks: register, rotate the secret, enable again."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from hub.events import errors, service
from hub.events.models import WebhookEndpoint as EndpointRow
from hub.events.types import WebhookEndpoint, WebhookEvent, stored_filter
from hub.graphql.context import Context
from hub.graphql.mutations import attempt
from hub.graphql.relay import pk_of
from hub.needs.types import NeedFilter


@strawberry.enum(description="Why a webhook operation was refused.")
class WebhookErrorCode(Enum):
    INVALID_URL = strawberry.enum_value(
        "INVALID_URL",
        description="Not an absolute http(s) URL, too long, or carrying credentials; in "
        "production also not HTTPS, or its host resolves to a loopback, private or other "
        "non-public address.",
    )
    INVALID_INPUT = strawberry.enum_value(
        "INVALID_INPUT", description="No event kind was named, or a filter value is malformed."
    )
    WEBHOOK_NOT_FOUND = strawberry.enum_value(
        "WEBHOOK_NOT_FOUND", description="Your organisation has no endpoint with this id."
    )
    TOO_MANY_ENDPOINTS = strawberry.enum_value(
        "TOO_MANY_ENDPOINTS", description="Your organisation already has 10 endpoints."
    )


@strawberry.type(description="An expected failure of a webhook operation.")
class WebhookError:
    code: WebhookErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(description="What was wrong and what is accepted.")


@strawberry.type(description="The result of a webhook operation.")
class WebhookPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(
        default=None, description="The endpoint after the change; null when refused."
    )
    errors: list[WebhookError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.type(description="The result of registering an endpoint or rotating its secret.")
class WebhookSecretPayload(WebhookPayload):
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (`whsec_…`), shown this once: keep it to verify the "
        "`webhook-signature` header (Standard Webhooks). After a rotation the old secret "
        "also signs for 24 hours.",
    )


@strawberry.input(description="Where to send events, which ones, and about which needs.")
class RegisterWebhookInput:
    url: str = strawberry.field(
        description="An absolute URL (HTTPS to a public address in production)."
    )
    events: list[WebhookEvent] = strawberry.field(description="The kinds of events to send.")
    filter: NeedFilter | None = strawberry.field(
        default=None,
        description="Which needs, as in `needs`; every need your organisation may see if omitted.",
    )


EndpointId = Annotated[
    strawberry.ID, strawberry.argument(description="Global id of one of your endpoints.")
]


def _refused(error: errors.WebhookError) -> list[WebhookError]:
    return [WebhookError(code=WebhookErrorCode[error.code.name], message=error.message)]


@strawberry.type
class EventMutations:
    @strawberry.mutation(
        description="Register a webhook endpoint for your own organisation. Events about "
        "needs your organisation may see (as in `needs`) are POSTed to it, signed per Standard "
        "Webhooks; the payload carries ids and masked data only, fetch the rest with your "
        "token. The secret is returned once."
    )
    async def register_webhook(
        self,
        info: Info[Context, Any],
        input: Annotated[RegisterWebhookInput, strawberry.argument(description="The endpoint.")],
    ) -> WebhookSecretPayload:
        context = info.context
        principal = context.principal
        stored = stored_filter(input.filter)

        async def work(session: AsyncSession) -> tuple[EndpointRow, str]:
            return await service.register_webhook(
                session,
                organization_id=principal.organization_id,
                client_id=principal.client_pk,
                roles=principal.roles,
                url=input.url.strip(),
                events=[str(event.value) for event in input.events],
                filter=stored,
                production=context.settings.is_production,
                now=dt.datetime.now(dt.UTC),
            )

        outcome = await attempt(context, work, errors.WebhookError)
        if isinstance(outcome, errors.WebhookError):
            return WebhookSecretPayload(errors=_refused(outcome))
        endpoint, secret = outcome
        return WebhookSecretPayload(endpoint=WebhookEndpoint.from_row(endpoint), secret=secret)

    @strawberry.mutation(
        description="Give one of your endpoints a new secret (returned once). Deliveries are "
        "signed with both the new and the old secret for 24 hours, then with the new only."
    )
    async def rotate_webhook_secret(
        self, info: Info[Context, Any], id: EndpointId
    ) -> WebhookSecretPayload:
        context = info.context
        endpoint_id = pk_of(id, "WebhookEndpoint")

        async def work(session: AsyncSession) -> tuple[EndpointRow, str]:
            return await service.rotate_secret(
                session,
                endpoint_id=endpoint_id,
                organization_id=context.principal.organization_id,
                now=dt.datetime.now(dt.UTC),
            )

        outcome = await attempt(context, work, errors.WebhookError)
        if isinstance(outcome, errors.WebhookError):
            return WebhookSecretPayload(errors=_refused(outcome))
        endpoint, secret = outcome
        return WebhookSecretPayload(endpoint=WebhookEndpoint.from_row(endpoint), secret=secret)

    @strawberry.mutation(
        description="Send events to a DISABLED endpoint of yours again, once its receiver "
        "works (new events only; failed deliveries are not resent)."
    )
    async def enable_webhook(self, info: Info[Context, Any], id: EndpointId) -> WebhookPayload:
        context = info.context
        endpoint_id = pk_of(id, "WebhookEndpoint")

        async def work(session: AsyncSession) -> EndpointRow:
            return await service.enable_webhook(
                session, endpoint_id=endpoint_id, organization_id=context.principal.organization_id
            )

        outcome = await attempt(context, work, errors.WebhookError)
        if isinstance(outcome, errors.WebhookError):
            return WebhookPayload(errors=_refused(outcome))
        return WebhookPayload(endpoint=WebhookEndpoint.from_row(outcome))
