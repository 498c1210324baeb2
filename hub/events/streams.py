"""A subscription's stream: wait for events it may see, read each as a query would, yield it.

Every event is built in a context of its own, forked from the connection's: a fresh
session, the policy the fan-out decided with, the subscriber's principal and purpose. The
`Fanout` read the need under the subscriber's row rules and filter (one statement for all
subscribers); here its relations are prefetched through the dataloaders and its personal
fields masked exactly as in `needs`, and an event that shows personal fields in full is
recorded in the audit trail before it is sent.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

from graphql import DocumentNode, GraphQLError
from strawberry.types import Info

from hub.audit.subjects import citizen_accesses
from hub.authz.checks import selected_fields
from hub.authz.masking import apply_field_access
from hub.events import auditing
from hub.events.bus import BusMessage
from hub.events.fanout import Subscriber, Wake
from hub.graphql.context import Context
from hub.graphql.errors import HubError, is_expected
from hub.graphql.prefetch import prefetch_tree, selection_tree
from hub.needs.models import Need as NeedRow
from hub.needs.types import Need

logger = logging.getLogger("hub.events")

T = TypeVar("T")
_needs = NeedRow.__table__

#: Build the yielded object from the need (and the event), in the event's context.
Wrap = Callable[[Context, Need, BusMessage], Awaitable[T | None]]


def _operation_fields(info: Info[Context, Any]) -> frozenset[str]:
    """The `Type.field` pairs of this very operation (the connection may run several)."""
    raw = info._raw_info
    document = DocumentNode(definitions=(raw.operation, *raw.fragments.values()))
    return selected_fields(raw.schema, document)


async def stream(
    info: Info[Context, Any],
    subscriber: Subscriber,
    *,
    wrap: Wrap[T],
    at: str | None = None,
) -> AsyncGenerator[T, None]:
    """Yield what `wrap` makes of each event `subscriber` may see, until the client stops.

    `at` names the field of the yielded object the need sits under (`need`), if not itself.
    """
    context = info.context
    fanout = context.fanout
    if fanout is None:
        raise HubError("Subscriptions are served over the websocket of /graphql only.")
    fields = _operation_fields(info)
    tree = selection_tree(info)
    if at is not None:
        tree = tree.get(at, {})
    fanout.add(subscriber)
    try:
        while True:
            wake = await subscriber.queue.get()
            try:
                item = await _deliver(context, info, wake, fields, tree, wrap)
            except GraphQLError as error:
                if is_expected(error):
                    raise
                raise _masked(context, error) from None
            except Exception as error:
                raise _masked(context, error) from None
            if item is not None:
                yield item
    finally:
        fanout.remove(subscriber)


def _masked(context: Context, error: Exception) -> GraphQLError:
    logger.error("subscription failed (request %s)", context.request_id, exc_info=error)
    return GraphQLError(
        "Unexpected error. Quote the request id to the hub's operators.",
        extensions={"code": "INTERNAL_ERROR", "requestId": context.request_id},
    )


async def _deliver(
    connection: Context,
    info: Info[Context, Any],
    wake: Wake,
    fields: frozenset[str],
    tree: dict[str, Any],
    wrap: Wrap[T],
) -> T | None:
    fanout = connection.fanout
    assert fanout is not None
    policy = wake.policy
    message = wake.message
    session = fanout.sessions()
    try:
        context = dataclasses.replace(
            connection,
            session=session,
            policy=policy,
            access=policy.access(connection.principal.roles),
            selected_fields=fields,
            personal_reads={},
            subject_reads={},
            hidden_by_rows=[],
            warnings=[],
            after_commit=[],
            db_lock=asyncio.Lock(),
            _loaders={},
        )
        if not context.access.may_run(f"Subscription.{info.field_name}"):
            return None  # the policy changed since the subscription began
        # The row the fan-out read under this subscriber's row rules (and filter).
        # A copy per subscriber: prefetching sets its relations, masking changes them.
        prototype = wake.shared.get("need")
        if prototype is None:
            prototype = wake.shared["need"] = Need.from_row(wake.need)
        need = copy.copy(prototype)
        item = await wrap(context, need, message)
        if item is None:
            return None
        collected: list[Any] = []
        await prefetch_tree(context, [need], tree, collected)
        await apply_field_access(context, collected)
        # Household fields are on every member's trail: resolve them while the session is open.
        citizens = (
            await citizen_accesses(session, context.personal_reads, context.subject_reads)
            if context.personal_reads or context.subject_reads
            else ()
        )
    finally:
        # Most events select no relation and never touch the session: nothing to release.
        if session.in_transaction():
            await session.close()
    if citizens:
        event = auditing.connection_event(
            context,
            decision="ALLOWED",
            operation_name=f"{info.field_name} event {message.event_id}",
            citizens=citizens,
        )
        try:
            await auditing.record(event, context)
        except Exception:  # fail closed: an event the trail cannot account for is not sent
            logger.exception("audit failed; event %s withheld", message.event_id)
            return None
    return item
