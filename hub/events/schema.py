"""GraphQL fields of the real-time domain: subscriptions, and an organisation's webhooks."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from hub.events import queries
from hub.events.fanout import Audience, Subscriber, visible_to
from hub.events.models import WebhookDelivery as DeliveryRow
from hub.events.queries import filter_condition, filter_key
from hub.events.streams import stream
from hub.events.types import (
    DeliveryStatus,
    ExpiringPledge,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    stored_filter,
)
from hub.graphql.context import Context
from hub.graphql.errors import BadInput, HubError, NotFound
from hub.graphql.relay import After, Connection, First, connection, page_size, pk_of
from hub.needs.models import Pledge
from hub.needs.types import Need, NeedFilter
from hub.pagination import CursorError, SortKey, paginate, to_page

_pledges = Pledge.__table__
_deliveries = DeliveryRow.__table__

CONNECTING = (
    " Over graphql-transport-ws on /graphql: `connection_init`'s payload carries "
    "`Authorization: Bearer …` and `X-Purpose`."
)


async def _itself(_: Context, need: Need, __: Any) -> Need:
    return need


async def _expiring(context: Context, need: Need, _: Any) -> ExpiringPledge | None:
    rows = await context.rows(
        select(_pledges.c.pledged_at, _pledges.c.expires_at).where(
            _pledges.c.need_id == need.pk,
            _pledges.c.organization_id == context.principal.organization_id,
            _pledges.c.status == "ACTIVE",
        )
    )
    if not rows:
        return None  # released or fulfilled since the warning was written
    return ExpiringPledge(need=need, pledged_at=rows[0].pledged_at, expires_at=rows[0].expires_at)


@strawberry.type
class EventSubscriptions:
    @strawberry.subscription(
        description="Needs the moment they open to foundations (verified, released, or a "
        "pledge lapsed), among those you may see and that match `filter`; each masked as in "
        "`needs`. A foundation hears of the open needs in its categories and kecamatan."
        + CONNECTING
    )
    async def need_opened(
        self,
        info: Info[Context, Any],
        filter: Annotated[
            NeedFilter | None,
            strawberry.argument(
                description="Which needs, as in `needs`; all reachable if omitted."
            ),
        ] = None,
    ) -> AsyncGenerator[Need, None]:
        stored = stored_filter(filter)
        condition = filter_condition(stored)
        subscriber = Subscriber(
            kinds=frozenset({"need.opened"}),
            audience=Audience(info.context.principal, condition, filter_key(stored)),
        )
        async for need in stream(info, subscriber, wrap=_itself):
            yield need

    @strawberry.subscription(
        description="One need each time it changes (status, holder, timeline), while you may "
        "see it; errors with NOT_FOUND when you may not see it now." + CONNECTING
    )
    async def need_changed(
        self,
        info: Info[Context, Any],
        id: Annotated[strawberry.ID, strawberry.argument(description="The need's global id.")],
    ) -> AsyncGenerator[Need, None]:
        context = info.context
        need_id = pk_of(id, "Need")
        if context.fanout is None:
            raise HubError("Subscriptions are served over the websocket of /graphql only.")
        audience = Audience(context.principal)
        policy = await context.fanout.policies.current()
        async with context.fanout.sessions() as session:
            (visible,) = await visible_to(session, policy, need_id, [audience])
        if not visible:
            raise NotFound(f"No need has the id {id!r}")
        subscriber = Subscriber(
            kinds=frozenset({"need.changed"}), audience=audience, need_id=need_id
        )
        async for need in stream(info, subscriber, wrap=_itself):
            yield need

    @strawberry.subscription(
        description="Your organisation's pledges a day before they lapse (unless closed or "
        "released first), with the need masked as in `needs`." + CONNECTING
    )
    async def pledge_expiring(
        self, info: Info[Context, Any]
    ) -> AsyncGenerator[ExpiringPledge, None]:
        principal = info.context.principal
        subscriber = Subscriber(
            kinds=frozenset({"pledge.expiring"}),
            audience=Audience(principal),
            organization_id=principal.organization_id,
        )
        async for item in stream(info, subscriber, wrap=_expiring, at="need"):
            yield item


_NEWEST_FIRST = (SortKey(_deliveries.c.id, "id", descending=True),)


@strawberry.type
class EventQueries:
    @strawberry.field(
        description="Your organisation's webhook endpoints (at most 10), oldest first, with "
        "their status: a DISABLED one says why."
    )
    async def webhooks(self, info: Info[Context, Any]) -> list[WebhookEndpoint]:
        context = info.context
        statement = queries.endpoints_statement(context.principal.organization_id)
        rows = await context.rows(statement.order_by("id"))
        return [WebhookEndpoint.from_row(row) for row in rows]

    @strawberry.field(
        description="Deliveries to your organisation's endpoints, newest first, with every "
        "attempt's status code and latency (`first` up to the server's maximum)."
    )
    async def webhook_deliveries(
        self,
        info: Info[Context, Any],
        endpoint: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this endpoint's (global id); all if omitted."),
        ] = None,
        status: Annotated[
            DeliveryStatus | None, strawberry.argument(description="Only deliveries in it.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[WebhookDelivery]:
        context = info.context
        endpoint_id = pk_of(endpoint, "WebhookEndpoint") if endpoint else None
        statement = queries.deliveries_statement(context.principal.organization_id, endpoint_id)
        if status is not None:
            statement = statement.where(_deliveries.c.status == status.value)
        settings = context.settings
        size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
        try:
            paged = paginate(statement, _NEWEST_FIRST, first=size, after=after)
        except CursorError as error:
            raise BadInput(str(error), code=error.code) from None
        rows = await context.rows(paged)
        page = to_page(rows, _NEWEST_FIRST, first=size, after=after)
        nodes = [WebhookDelivery.from_row(row) for row in page.rows]
        async with context.db_lock:
            attempts = await queries.attempts_of(context.session, [n.pk for n in nodes])
        by_delivery = {n.pk: n for n in nodes}
        for row in attempts:
            by_delivery[row.delivery_id].attempts.append(WebhookAttempt.from_row(row))

        async def count() -> int:
            return int(await context.scalar(select(func.count()).select_from(statement.subquery())))

        return connection(page, nodes, count)
