"""The request edge of the schema: what is refused before execution, and how it is named.

`EdgeSchema` answers, inside the operation (so that every refusal is audited like any other
answer), what strawberry would otherwise raise past the extensions as a bare HTTP error:
a mutation over GET (`METHOD_NOT_ALLOWED`), several operations and no `operationName`
(`OPERATION_NAME_REQUIRED`), an unknown `operationName` (`UNKNOWN_OPERATION`). It refuses
bad strings (`hub.graphql.hygiene`) and cancels an execution past its wall-clock budget
(`REQUEST_TIMEOUT`). Before all of it, `hub.graphql.documents` resolves a trusted
document's id or an APQ hash into the text. `CodedErrors` gives graphql-core's parse and
validation errors the codes clients match on, and drops "Did you mean …" when suggestions
are off.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLSyntaxError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionContext, PreExecutionError
from strawberry.types.graphql import OperationType

from hub.db import reads_outside_transaction
from hub.graphql.context import Context
from hub.graphql.hygiene import bad_input, input_problems

#: Set on the request's state by the view: where the body held lone surrogates.
UNREADABLE_STATE = "hub_unreadable_input"

_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


def _asked_name(context: ExecutionContext) -> str | None:
    # `operation_name` falls back to the first operation's name; this is what was sent.
    name: str | None = getattr(context, "_provided_operation_name", None)
    return name


def _refusal(message: str, code: str, **details: Any) -> PreExecutionError:
    error = GraphQLError(message, extensions={"code": code, **details})
    return PreExecutionError(data=None, errors=[error])


class EdgeSchema(strawberry.Schema):
    """strawberry's schema with the edge's refusals inside the operation.

    It overrides two of strawberry's private steps (`_prepare_operation_async`,
    `_execute_operation`): they are the only points that run inside the extensions'
    `on_operation`, where the audit records the answer, yet before and around execution.
    """

    request_timeout_seconds: float = 30.0
    #: Runs last before execution (the cost and rate limits, `hub.graphql.cost.Admission`).
    admission: Any = None
    #: Runs first: which document the request names (`hub.graphql.documents.Documents`).
    documents: Any = None

    async def _prepare_operation_async(
        self, context: ExecutionContext, extensions_runner: Any
    ) -> PreExecutionError | None:
        hub_context = context.context
        request = getattr(hub_context, "request", None)
        unreadable: list[str] = getattr(request.state, UNREADABLE_STATE, []) if request else []
        if unreadable:
            return PreExecutionError(
                data=None,
                errors=[
                    bad_input(path, "contains a lone UTF-16 surrogate; send valid Unicode text")
                    for path in unreadable[:10]
                ],
            )
        if self.documents is not None:
            unresolved: PreExecutionError | None = await self.documents.resolve(context)
            if unresolved is not None:
                return unresolved
        try:
            failed: PreExecutionError | None = await super()._prepare_operation_async(
                context, extensions_runner
            )
        except InvalidOperationTypeError as error:
            return _refusal(
                f"A {error.operation_type.value} cannot be sent with GET; send it with POST.",
                "METHOD_NOT_ALLOWED",
                allow="POST",
            )
        except CannotGetOperationTypeError:
            return self._unnamed_operation(context)
        except GraphQLSyntaxError as error:
            # ParserCache parses inside its hook, so its syntax error would escape the
            # operation (and the audit) as an exception: answer it here, like strawberry
            # answers the syntax errors of its own parse.
            context.pre_execution_errors = [error]
            return PreExecutionError(data=None, errors=[error])
        if failed is not None:
            return failed
        assert context.graphql_document is not None
        operations = [
            d
            for d in context.graphql_document.definitions
            if isinstance(d, OperationDefinitionNode)
        ]
        if _asked_name(context) is None and len(operations) > 1:
            # The spec requires a name here; left alone, the first operation would run.
            return self._unnamed_operation(context)
        problems = input_problems(self._schema, context.graphql_document, context.variables)
        if problems:
            return PreExecutionError(data=None, errors=problems)
        if self.admission is not None:
            refused: PreExecutionError | None = await self.admission(self._schema, context)
            if refused is not None:
                return refused
        if self.documents is not None:
            # Admitted: now a text sent with its APQ hash may be stored (never before).
            await self.documents.register(context)
        return None

    def _unnamed_operation(self, context: ExecutionContext) -> PreExecutionError:
        document = context.graphql_document
        names = [
            d.name.value if d.name else "(anonymous)"
            for d in (document.definitions if document else ())
            if isinstance(d, OperationDefinitionNode)
        ]
        if _asked_name(context):
            return _refusal(
                f"The document has no operation named {_asked_name(context)!r}; it has: "
                + ", ".join(names),
                "UNKNOWN_OPERATION",
                operations=names,
            )
        return _refusal(
            f"The document holds {len(names)} operations; say which to run in `operationName` "
            "(one of: " + ", ".join(names) + ").",
            "OPERATION_NAME_REQUIRED",
            operations=names,
        )

    async def _execute_operation(self, execution_context: ExecutionContext, *args: Any) -> Any:
        hub_context = execution_context.context
        if (
            isinstance(hub_context, Context)
            and execution_context.operation_type is OperationType.QUERY
        ):
            reads_outside_transaction(hub_context.session)
        budget = asyncio.timeout(self.request_timeout_seconds)
        try:
            async with budget:
                return await super()._execute_operation(execution_context, *args)
        except TimeoutError:
            if not budget.expired():
                raise
        context = execution_context.context
        if isinstance(context, Context):
            # Whatever the cancelled resolvers wrote is undone; the audit event still commits.
            async with context.db_lock:
                await context.session.rollback()
        error = GraphQLError(
            f"The request ran longer than its budget of {self.request_timeout_seconds:g} "
            "seconds and was cancelled; nothing was written. Ask for less (smaller pages, "
            "fewer fields) or retry later.",
            extensions={
                "code": "REQUEST_TIMEOUT",
                "limitSeconds": self.request_timeout_seconds,
                "requestId": getattr(context, "request_id", "-"),
            },
        )
        result = GraphQLExecutionResult(data=None, errors=[error])
        execution_context.result = result
        return result


def code_of(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


def refused_code(error: GraphQLError) -> str:
    """The code of an error that stopped a document before it ran: its own, else
    GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED (what `CodedErrors` gives it)."""
    code = code_of(error)
    if code is not None:
        return code
    if _syntax(error):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


def _syntax(error: GraphQLError) -> bool:
    return GraphQLSyntaxError in (type(error), type(error.original_error))


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class CodedErrors(SchemaExtension):
    """Parse errors get GRAPHQL_PARSE_FAILED, validation errors GRAPHQL_VALIDATION_FAILED
    (Apollo's names), variable coercion errors BAD_USER_INPUT; suggestions optional."""

    def __init__(self, *, suggestions: bool = True) -> None:
        self.suggestions = suggestions
        self.validation_errors: set[int] = set()

    def get_results(self) -> dict[str, Any]:
        warnings = getattr(self.execution_context.context, "warnings", None)
        return {"warnings": list(warnings)} if warnings else {}

    def on_validate(self) -> Any:
        yield
        errors = self.execution_context.pre_execution_errors or []
        self.validation_errors = {id(e) for e in errors}

    def on_operation(self) -> Any:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._coded(e) for e in result.errors]

    def on_stream_result(self, result: Any) -> Any:
        # Over a websocket a document refused before it ran is the stream's one result,
        # sent before `on_operation` would get past its yield: coded here instead. A syntax
        # error stays as it is: the transport recognises it by its class, closes the socket
        # with 4400 and sends no payload.
        if isinstance(result, PreExecutionError) and result.errors:
            result.errors = [
                e if isinstance(e, GraphQLSyntaxError) else self._coded(e) for e in result.errors
            ]
        yield

    def _coded(self, error: GraphQLError) -> GraphQLError:
        code = code_of(error)
        if code is None and _syntax(error):
            code = "GRAPHQL_PARSE_FAILED"
        elif code is None and id(error) in self.validation_errors:
            code = "GRAPHQL_VALIDATION_FAILED"
        elif code is None and error.path is None and not _unexpected(error):
            code = "BAD_USER_INPUT"  # variables that do not fit their types
        message = error.message if self.suggestions else _SUGGESTION.sub("", error.message)
        if code == code_of(error) and message == error.message:
            return error
        # A copy: validation errors are cached and shared by every request.
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions={**(error.extensions or {}), "code": code},
        )
