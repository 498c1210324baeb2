"""GraphQL field of tracking: `trackRequest`, the one a request without a token may run."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.graphql.context import Context
from hub.graphql.errors import HubError
from hub.tracking import queries
from hub.tracking.errors import TrackingError
from hub.tracking.types import TrackedRequest

#: What a tracking lookup puts on the citizen's trail: their need's status was shown.
TRACKING_VIEW = "Need.tracking"


@strawberry.type
class TrackingQueries:
    @strawberry.field(
        description="Follow a reported need by the tracking code the reporting officer gave "
        "the citizen (`YJ-7KQ4-92MX`; case, spaces and dashes do not matter). Needs no "
        "token. Returns statuses and dates only. Limited per address: past the limit the "
        "error is RATE_LIMITED with `retryAfter` seconds (and a Retry-After header); an "
        "unknown code is TRACKING_CODE_NOT_FOUND, a malformed one INVALID_TRACKING_CODE."
    )
    async def track_request(
        self,
        info: Info[Context, Any],
        tracking_code: Annotated[
            str, strawberry.argument(description="The tracking code, as given to the citizen.")
        ],
    ) -> TrackedRequest:
        context = info.context
        request = context.request
        address = request.client.host if request and request.client else "-"
        wait = context.tracking_limit.hit(address) if context.tracking_limit else None
        if wait is not None:
            if context.response is not None:
                context.response.status_code = 429
                context.response.headers["retry-after"] = str(wait)
            raise HubError(
                f"Too many tracking lookups from your address; try again in {wait} seconds.",
                code="RATE_LIMITED",
                retryAfter=wait,
            )
        try:
            async with context.db_lock:
                tracked = await queries.track(context.session, code=tracking_code)
        except TrackingError as error:
            raise HubError(error.message, code=error.code.value) from None
        context.subject_reads.setdefault(tracked.citizen_id, set()).add(TRACKING_VIEW)
        return TrackedRequest.of(
            tracked, name_organization=context.access.may_disclose("Tracking.organization")
        )
