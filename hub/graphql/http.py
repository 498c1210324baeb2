"""GraphQL over HTTP: Strawberry's Starlette view with the hub's session and media types."""

from __future__ import annotations

from typing import Any, cast

import orjson
from cross_web import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from hub.audit.runtime import AuditRecorder
from hub.auth.resource import REALM
from hub.auth.state import AuthState
from hub.authz.policy import PolicyStore
from hub.db import request_session
from hub.events.connection import ANONYMOUS, Connections, stop_watching
from hub.events.fanout import Fanout
from hub.graphql.context import Context
from hub.graphql.documents import DOCUMENT_ID_STATE, STATUS_OF_CODE
from hub.graphql.edge import UNREADABLE_STATE
from hub.graphql.graphiql import graphiql_page
from hub.graphql.hygiene import clean_surrogates
from hub.requests import RETRY_AFTER_SECONDS
from hub.settings import Settings
from hub.tracking.limits import TrackingRateLimit

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

#: Codes of a response with no data because the hub cannot serve now (a retry may succeed).
RETRY_LATER_CODES = frozenset({"SERVICE_UNAVAILABLE", "AUDIT_UNAVAILABLE", "COMMIT_FAILED"})


def _retry_later(response_data: GraphQLHTTPResponse) -> bool:
    """True when the response has no data and every error says "retry later"."""
    errors: list[dict[str, Any]] = response_data.get("errors") or []  # type: ignore[assignment]
    return (
        response_data.get("data") is None
        and bool(errors)
        and all((e.get("extensions") or {}).get("code") in RETRY_LATER_CODES for e in errors)
    )


class HubGraphQL(GraphQL[Context, None]):
    """One database session per request, owned by the request and closed after it."""

    def __init__(
        self,
        schema: BaseSchema,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        policies: PolicyStore,
        auth: AuthState,
        recorder: AuditRecorder | None,
        fanout: Fanout | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            # Subscriptions: graphql-transport-ws only (the legacy graphql-ws is unmaintained).
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=20,
            # A websocket authenticates with the token in connection_init, never with ambient
            # credentials (cookies), so a dashboard served from any origin may connect.
            allowed_origins=("*",),
        )
        self.settings = settings
        self.sessions = sessions
        self.policies = policies
        self.auth = auth
        self.recorder = recorder
        self.tracking_limit = TrackingRateLimit(settings.track_rate)
        self.fanout = fanout
        self.connections = Connections(auth, policies, authorization=settings.authorization)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        if scope["type"] == "http" and "principal" not in state:
            # The bearer middleware lets only a browser's GET for the GraphiQL page through
            # without a token; it needs no context, and without GraphiQL there is nothing here.
            if self.graphql_ide is None:
                response: Response = PlainTextResponse("GraphiQL is off in production", 404)
            else:
                response = HTMLResponse(graphiql_page(scope.get("root_path", "")))
            await response(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        finally:
            await stop_watching(state)
            session: AsyncSession | None = state.pop("hub_session", None)
            if session is not None:
                # Reads leave nothing to keep; a mutation has committed already, with its audit
                # event (hub.graphql.audit.RecordAndCommit), or must leave nothing behind.
                await session.rollback()
                await session.close()

    @property
    def graphql_ide_html(self) -> str:
        """Strawberry's GraphiQL page, its assets served by the hub (no CDN)."""
        return graphiql_page()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        policy = await self.policies.current()
        request_id = getattr(request.state, "request_id", "-")
        session = request_session(self.sessions, request_id)
        request.state.hub_session = session
        if isinstance(request, WebSocket):
            # Who connects is known only from `connection_init` (`on_ws_connect`).
            return Context(
                settings=self.settings,
                session=session,
                request_id=getattr(request.state, "request_id", "-"),
                principal=ANONYMOUS,
                policy=policy,
                access=policy.access(()),
                auth=self.auth,
                policies=self.policies,
                recorder=self.recorder,
                websocket=request,
                fanout=self.fanout,
            )
        principal = request.state.principal
        return Context(
            settings=self.settings,
            session=session,
            request_id=request_id,
            principal=principal,
            policy=policy,
            access=(
                policy.access(principal.roles)
                if self.settings.authorization
                else policy.unrestricted()
            ),
            request=request,
            auth=self.auth,
            policies=self.policies,
            recorder=self.recorder,
            response=response,
            tracking_limit=self.tracking_limit,
        )

    def encode_json(self, data: object) -> str | bytes:
        # orjson: strawberry's `json.dumps` was ~5 % of a feed request's CPU (a page of 50
        # needs is ~20 KB). Characters outside ASCII go out as UTF-8 rather than escaped,
        # both valid JSON; anything orjson refuses (an integer past 64 bits) goes the old way.
        # Text, not bytes: the websocket transports send bytes as binary frames, which
        # GraphQL over WebSocket clients refuse.
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return super().encode_json(data)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except UnicodeDecodeError:
            # Otherwise an unexpected error: a client's body in another encoding is its mistake.
            raise HTTPException(
                400, "The request body is not valid UTF-8; send JSON in UTF-8"
            ) from None

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """Authenticate `connection_init`'s payload; a bad token closes with 4403."""
        await self.connections.connect(context)
        return cast(UnsetType, UNSET)

    async def execute_operation(
        self, request: Request, request_adapter: Any, request_data: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if isinstance(request_data, GraphQLRequestData):
            # JSON may carry lone surrogates ("\ud800") that no encoder takes: replace them
            # before anything (the audit included) reads the request; the schema refuses it.
            found: list[str] = []
            request_data.query = clean_surrogates(request_data.query, "query", found)
            request_data.operation_name = clean_surrogates(
                request_data.operation_name, "operationName", found
            )
            request_data.variables = clean_surrogates(request_data.variables, "variables", found)
            if found:
                setattr(request.state, UNREADABLE_STATE, found)
            sent = await _document_id_sent(request)
            if sent is not None:
                setattr(request.state, DOCUMENT_ID_STATE, sent)
        return await super().execute_operation(
            request, request_adapter, request_data, *args, **kwargs
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming its document by id or hash carries no `query`, yet is no page load.
        params = request.query_params
        return (
            "documentId" not in params
            and "extensions" not in params
            and super().should_render_graphql_ide(request)
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # Remember how the client wants the answer; create_response has no request.
        sub_response.graphql_response_json = GRAPHQL_RESPONSE_JSON in request.headers.get(  # type: ignore[attr-defined]
            "accept", ""
        )
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        status = None if isinstance(response_data, list) else _document_status(response_data)
        if status is not None:
            # The persisted-document protocols fix their statuses (Apollo's client retries
            # on a 200 PersistedQueryNotFound), whatever the media type asked for.
            data = cast(GraphQLHTTPResponse, response_data)
            response = self._without_data(response, data, sub_response)
            response.status_code = status
            return response
        if not isinstance(response_data, list) and _unauthenticated(response_data):
            # A request without a token asked for more than trackRequest: RFC 6750's answer.
            response.status_code = 401
            response.headers["www-authenticate"] = f'Bearer realm="{REALM}"'
            return response
        listed: list[dict[str, Any]] = (
            [] if isinstance(response_data, list) else response_data.get("errors") or []  # type: ignore[assignment]
        )
        if any((e.get("extensions") or {}).get("code") == "METHOD_NOT_ALLOWED" for e in listed):
            # GraphQL over HTTP: a mutation over GET is 405, saying which method works.
            response.status_code = 405
            response.headers["allow"] = "POST"
        limited = next(
            (e for e in listed if (e.get("extensions") or {}).get("code") == "RATE_LIMITED"), None
        )
        if limited is not None:
            # Over the client's rate limit: 429, and when the limit has room again.
            response.status_code = 429
            response.headers["Retry-After"] = str(limited["extensions"].get("retryAfter", 1))
            return response
        if not isinstance(response_data, list) and _retry_later(response_data):
            # The hub could not answer now (its database or audit trail is unavailable),
            # which is no fault of the request: 503, and when to try again.
            response.status_code = 503
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        if not getattr(sub_response, "graphql_response_json", False) or isinstance(
            response_data, list
        ):
            return response
        # GraphQL over HTTP: a request that failed before execution (no error has a path)
        # has no `data` entry and a 4xx status under application/graphql-response+json.
        errors: list[dict[str, Any]] = response_data.get("errors") or []  # type: ignore[assignment]
        if response_data.get("data") is None and errors and not any(e.get("path") for e in errors):
            response = self._without_data(response, response_data, sub_response)
            if response.status_code == 200:  # a 405 above stays a 405
                response.status_code = 400
        response.headers["content-type"] = GRAPHQL_RESPONSE_JSON + "; charset=utf-8"
        return response

    def _without_data(
        self, response: Response, response_data: GraphQLHTTPResponse, sub_response: Response
    ) -> Response:
        """Under application/graphql-response+json (as `sub_response` remembers the client
        asked), a request refused before execution has no `data` entry (GraphQL over HTTP)."""
        if not getattr(sub_response, "graphql_response_json", False):
            return response
        if response_data.get("data") is None:
            trimmed = {k: v for k, v in response_data.items() if k != "data"}
            encoded = self.encode_json(trimmed)
            response.body = encoded.encode() if isinstance(encoded, str) else encoded
            response.headers["content-length"] = str(len(response.body))
        response.headers["content-type"] = GRAPHQL_RESPONSE_JSON + "; charset=utf-8"
        return response


def _document_status(response_data: GraphQLHTTPResponse) -> int | None:
    """The status the persisted-document protocols give this refusal, if it is one."""
    errors: list[dict[str, Any]] = response_data.get("errors") or []  # type: ignore[assignment]
    if response_data.get("data") is not None or len(errors) != 1:
        return None
    return STATUS_OF_CODE.get(str((errors[0].get("extensions") or {}).get("code")))


async def _document_id_sent(request: Request) -> Any:
    """The request's `documentId` (query string on GET, JSON body on POST), if any."""
    if request.method == "GET":
        return request.query_params.get("documentId")
    body = await request.body()  # read already by the view: cached
    if b'"documentId"' not in body:
        return None  # the common case, without decoding the JSON twice
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data.get("documentId") if isinstance(data, dict) else None


def _unauthenticated(response_data: GraphQLHTTPResponse) -> bool:
    errors: list[dict[str, Any]] = response_data.get("errors") or []  # type: ignore[assignment]
    return response_data.get("data") is None and any(
        (e.get("extensions") or {}).get("code") == "UNAUTHENTICATED" for e in errors
    )
