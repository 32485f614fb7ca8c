"""GraphQL over HTTP, as the spec says (graphql.github.io/graphql-over-http), with cheap refusals first.

Order of work for one request, cheapest first: method -> media types (406/415) -> rate limit (429) ->
body size (413) -> parameters (400) -> persisted query lookup -> document (parse, shape limits,
validation; cached per text) -> operation (405 for a mutation over GET) -> cost limit -> execute.
Nothing reaches an upstream before every check has passed.

Status codes: with ``application/graphql-response+json`` a request that cannot be executed (bad
parameters, unparsable document, validation failure, variable coercion failure, a limit) answers 400
(we chose 400 over 422 for validation); an executed request answers 200, partial data and field
errors included. With legacy ``application/json`` every well-formed request answers 200. Malformed
HTTP (bad JSON body, wrong parameter types) is 400 either way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

import orjson
from graphql import ExecutionResult, GraphQLError
from graphql.execution.values import VariableValues, get_variable_values
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html

from gateway.auth import Viewer
from gateway.errors import Unauthenticated
from gateway.execution import (
    Documents,
    format_error,
    formatted,
    is_mutation,
    is_request_error,
    request_error,
    run,
)
from gateway.fastpath import Compiler, Result
from gateway.fastpath import execute as execute_plan
from gateway.limits import LimitExceeded, Limits, check_estimate
from gateway.persisted import PersistedMode, QueryStore, sha256
from gateway.ratelimit import RateLimiter

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class HttpProblem(Exception):
    """A request refused at the HTTP level, before any GraphQL work."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


@dataclass(frozen=True)
class Params:
    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


@dataclass(frozen=True)
class Policy:
    """The settings the endpoint enforces (built from ``Settings`` by the app)."""

    development: bool
    max_body_bytes: int
    max_batch: int
    limits: Limits
    persisted: PersistedMode
    compiled: bool = True  # run queries on compiled plans (gateway.fastpath) when they compile


@dataclass(frozen=True)
class Handled:
    """One operation's answer, and what the request log and metrics say about it."""

    status: int
    body: dict[str, Any]
    operation: str = "-"
    kind: str = "-"  # query, mutation, or "-" when refused before an operation was known
    outcome: str = "ok"  # ok, partial (data and errors), error (no data), rejected (never ran)


class Instrumentation(Protocol):
    def done(self, request: Request, request_id: str, handled: Handled, seconds: float,
             viewer: Viewer | None) -> None: ...

    def operation_span(self, name: str, traceparent: str | None) -> AbstractContextManager[Any]: ...


class Silent:
    def done(self, request: Request, request_id: str, handled: Handled, seconds: float,
             viewer: Viewer | None) -> None:
        pass

    def operation_span(self, name: str, traceparent: str | None) -> AbstractContextManager[Any]:
        return nullcontext()


# The request, who asks, why not (when authentication failed), its id, and whether orders need only
# their own record for this operation (see gateway.needs).
ContextFactory = Callable[[Request, Viewer | None, Unauthenticated | None, str, bool], Awaitable[Any]]
Authenticator = Callable[[str | None], Awaitable[tuple[Viewer | None, Unauthenticated | None]]]


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when nothing acceptable is offered."""
    if not accept or not accept.strip():
        return JSON  # legacy clients send no Accept header
    candidates: list[tuple[float, bool, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in (GRAPHQL_RESPONSE, JSON):
            chosen = media
        elif media in ("*/*", "application/*"):
            chosen = JSON
        else:
            continue
        # The highest quality wins; then the spec's own media type; then the order given.
        candidates.append((quality, chosen == GRAPHQL_RESPONSE, -position, chosen))
    return max(candidates)[3] if candidates else None


def _json_param(name: str, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise HttpProblem(400, f"{name} must be a JSON object", "BAD_REQUEST") from None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise HttpProblem(400, f"{name} must be a JSON object", "BAD_REQUEST")
    return raw


def read_params(raw: Any) -> Params:
    if not isinstance(raw, dict):
        raise HttpProblem(400, "the request must be a JSON object", "BAD_REQUEST")
    query, name = raw.get("query"), raw.get("operationName")
    if query is not None and not isinstance(query, str):
        raise HttpProblem(400, "query must be a string", "BAD_REQUEST")
    if name is not None and not isinstance(name, str):
        raise HttpProblem(400, "operationName must be a string", "BAD_REQUEST")
    return Params(query, name or None, _json_param("variables", raw.get("variables")),
                  _json_param("extensions", raw.get("extensions")))


class GraphQLEndpoint:
    def __init__(self, strawberry_schema: Any, documents: Documents, policy: Policy, authenticate: Authenticator,
                 context: ContextFactory, limiter: RateLimiter, queries: QueryStore,
                 safelist: dict[str, str], instrumentation: Instrumentation | None = None) -> None:
        self.strawberry = strawberry_schema
        self.schema = strawberry_schema._schema
        self.compiler = Compiler(strawberry_schema)
        self.documents = documents
        self.policy = policy
        self.authenticate = authenticate
        self.context = context
        self.limiter = limiter
        self.queries = queries
        self.safelist = safelist
        self.instrumentation = instrumentation or Silent()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.replace("-", "").isalnum() \
            else uuid.uuid4().hex
        media = JSON
        viewer: Viewer | None = None
        try:
            if request.method not in ("GET", "POST"):
                raise HttpProblem(405, "use GET or POST", "METHOD_NOT_ALLOWED", {"Allow": "GET, POST"})
            accept = request.headers.get("accept")
            if request.method == "GET" and self.policy.development and "text/html" in (accept or "") \
                    and "query" not in request.query_params:
                return HTMLResponse(get_graphql_ide_html("graphiql"))
            negotiated = negotiate(accept)
            if negotiated is None:
                raise HttpProblem(406, f"responses are {GRAPHQL_RESPONSE} or {JSON}", "NOT_ACCEPTABLE")
            media = negotiated
            viewer, auth_error = await self.authenticate(request.headers.get("authorization"))
            identity = f"user:{viewer.subject}" if viewer else f"ip:{request.client.host if request.client else '?'}"
            decision = await self.limiter.take(identity)
            if not decision.allowed:
                retry = str(max(1, int(decision.retry_after)))
                raise HttpProblem(429, f"too many requests; retry in {retry}s", "RATE_LIMITED",
                                  {"Retry-After": retry})
            raw = await self._read(request)
            if isinstance(raw, list):
                return await self._batch(request, raw, media, viewer, auth_error, request_id, started)
            handled = await self._single(request, read_params(raw), media, viewer, auth_error, request_id)
        except HttpProblem as problem:
            body = {"errors": [{"message": problem.message, "extensions": {"code": problem.code}}]}
            handled = Handled(problem.status, body, outcome="rejected")
            self.instrumentation.done(request, request_id, handled, time.perf_counter() - started, viewer)
            return self._respond(problem.status, body, media, request_id, problem.headers)
        self.instrumentation.done(request, request_id, handled, time.perf_counter() - started, viewer)
        return self._respond(handled.status, handled.body, media, request_id)

    async def _read(self, request: Request) -> Any:
        if request.method == "GET":
            return dict(parse_qsl(request.url.query, keep_blank_values=True))
        content_type = request.headers.get("content-type", "")
        media, _, params = content_type.partition(";")
        if media.strip().lower() not in (JSON, "application/graphql+json"):
            # Only a non-simple content type gets here, so a cross-site form cannot post a mutation.
            raise HttpProblem(415, "send the request as application/json", "UNSUPPORTED_MEDIA_TYPE")
        charset = params.strip().lower().removeprefix("charset=").strip('"') if "charset" in params else "utf-8"
        if charset not in ("utf-8", "utf8"):
            raise HttpProblem(415, "the request must be encoded in UTF-8", "UNSUPPORTED_MEDIA_TYPE")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.policy.max_body_bytes:
            raise HttpProblem(413, f"the body is larger than {self.policy.max_body_bytes} bytes", "PAYLOAD_TOO_LARGE")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.policy.max_body_bytes:
                raise HttpProblem(413, f"the body is larger than {self.policy.max_body_bytes} bytes",
                                  "PAYLOAD_TOO_LARGE")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise HttpProblem(400, "the body is not valid JSON", "BAD_REQUEST") from None

    async def _batch(self, request: Request, raw: list[Any], media: str, viewer: Viewer | None,
                     auth_error: Unauthenticated | None, request_id: str, started: float) -> Response:
        if self.policy.max_batch == 0:
            raise HttpProblem(400, "batched requests are not accepted", "BATCHING_DISABLED")
        if not raw or len(raw) > self.policy.max_batch:
            raise HttpProblem(400, f"a batch holds 1 to {self.policy.max_batch} operations", "BATCH_LIMIT_EXCEEDED")
        params = [read_params(item) for item in raw]
        results = []
        for n, p in enumerate(params):
            handled = await self._single(request, p, media, viewer, auth_error, f"{request_id}-{n}")
            self.instrumentation.done(request, f"{request_id}-{n}", handled, time.perf_counter() - started, viewer)
            results.append(handled.body)
        return Response(orjson.dumps(results), media_type=f"{media}; charset=utf-8",
                        headers={"X-Request-Id": request_id})

    def _respond(self, status: int, body: Any, media: str, request_id: str,
                 headers: dict[str, str] | None = None) -> Response:
        return Response(orjson.dumps(body), status_code=status, media_type=f"{media}; charset=utf-8",
                        headers={"X-Request-Id": request_id, **(headers or {})})

    def _request_error(self, media: str, errors: list[dict[str, Any]], operation: str = "-",
                       kind: str = "-") -> Handled:
        return Handled(400 if media == GRAPHQL_RESPONSE else 200, {"errors": errors}, operation, kind, "rejected")

    async def _resolve_query(self, params: Params) -> str | dict[str, Any]:
        """The document to run, or the errors to answer (persisted-query protocol and safelist)."""
        persisted = (params.extensions or {}).get("persistedQuery")
        digest = None
        if persisted is not None:
            if not isinstance(persisted, dict) or persisted.get("version") != 1 \
                    or not isinstance(persisted.get("sha256Hash"), str):
                return {"message": "persistedQuery must be {version: 1, sha256Hash}",
                        "extensions": {"code": "BAD_REQUEST"}}
            digest = persisted["sha256Hash"].lower()
            if self.policy.persisted is PersistedMode.OFF:
                return {"message": "PersistedQueryNotSupported",
                        "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"}}
        if self.policy.persisted is PersistedMode.SAFELIST:
            wanted = digest or (sha256(params.query) if params.query is not None else None)
            if wanted is None or wanted not in self.safelist:
                return {"message": "This operation is not registered.",
                        "extensions": {"code": "PERSISTED_QUERY_NOT_ALLOWED"}}
            if params.query is not None and sha256(params.query) != wanted:
                return {"message": "provided sha does not match query", "extensions": {"code": "BAD_REQUEST"}}
            return self.safelist[wanted]
        if digest is not None:
            if params.query is None:
                known = self.safelist.get(digest) or await self.queries.get(digest)
                if known is None:
                    return {"message": "PersistedQueryNotFound",
                            "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
                return known
            if sha256(params.query) != digest:
                return {"message": "provided sha does not match query", "extensions": {"code": "BAD_REQUEST"}}
            # Remember it only once it is known to be a document we would run.
            if not self.documents.prepare(params.query).errors:
                await self.queries.put(digest, params.query)
        if params.query is None or not params.query.strip():
            return {"message": "a query is required", "extensions": {"code": "BAD_REQUEST"}}
        return params.query

    async def _single(self, request: Request, params: Params, media: str, viewer: Viewer | None,
                      auth_error: Unauthenticated | None, request_id: str) -> Handled:
        query = await self._resolve_query(params)
        if isinstance(query, dict):
            code = query["extensions"]["code"]
            status = 400 if code in ("BAD_REQUEST", "PERSISTED_QUERY_NOT_ALLOWED") or media == GRAPHQL_RESPONSE \
                else 200
            if code == "PERSISTED_QUERY_NOT_FOUND":
                status = 200  # the APQ protocol's normal first round trip
            return Handled(status, {"errors": [query]}, outcome="rejected")
        prepared = self.documents.prepare(query)
        if prepared.errors:
            return self._request_error(media, [formatted(e) for e in prepared.errors])
        operation = prepared.operation(params.operation_name)
        if operation is None:
            message = ("operationName is required when the document holds several operations"
                       if params.operation_name is None else f"no operation named {params.operation_name!r}")
            return self._request_error(media, [{"message": message, "extensions": {"code": "BAD_REQUEST"}}])
        name = operation.name.value if operation.name else "anonymous"
        kind = operation.operation.value
        if request.method == "GET" and is_mutation(operation):
            raise HttpProblem(405, "mutations must be sent with POST", "METHOD_NOT_ALLOWED", {"Allow": "POST"})
        assert prepared.document is not None
        try:
            check_estimate(prepared.cost(operation, params.variables or {}), self.policy.limits)
        except LimitExceeded as error:
            return self._request_error(media, [formatted(error)], name, kind)
        plan = prepared.plan(params.operation_name, self.compiler) if self.policy.compiled else None
        coerced: VariableValues | None = None
        if plan is not None:
            values = get_variable_values(self.schema, operation.variable_definitions or (), params.variables or {},
                                         hide_suggestions=not self.policy.development)
            if isinstance(values, list):
                return self._request_error(media, [request_error(e) for e in values], name, kind)
            coerced = values
        context = await self.context(request, viewer, auth_error, request_id,
                                     prepared.order_record_suffices(params.operation_name, self.schema))
        result: Result | ExecutionResult
        with self.instrumentation.operation_span(f"graphql {kind} {name}", request.headers.get("traceparent")):
            if plan is not None and coerced is not None:
                result = await execute_plan(self.strawberry, plan, coerced, context)
            else:
                result = await run(self.schema, prepared.document, params.operation_name, params.variables, context,
                                   suggestions=self.policy.development)
        if is_request_error(result):
            return self._request_error(media, [request_error(e) for e in result.errors or ()], name, kind)
        notices = [GraphQLError(e.message, path=path, original_error=e) for e, path in context.notices]
        errors = [format_error(e, mask=not self.policy.development, correlation_id=request_id)
                  for e in [*(result.errors or ()), *notices]]
        body: dict[str, Any] = {"data": result.data}
        if errors:
            body["errors"] = errors
        outcome = "ok" if not errors else ("partial" if result.data else "error")
        return Handled(200, body, name, kind, outcome)
