"""The only wiring: settings in, a Starlette app out (lifespan-owned upstream sessions, routes, GraphQL)."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from yarl import URL

from gateway.auth import TokenSettings, Viewer, bearer, verify
from gateway.context import Context
from gateway.errors import Unauthenticated
from gateway.idempotency import IdempotencyStore, MemoryIdempotencyStore
from gateway.loaders import Loaders
from gateway.schema import schema
from gateway.settings import Settings
from gateway.upstream import RequestScope, Transport, Transports

Clock = Callable[[], datetime]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class Runtime:
    """What lives as long as the app: settings, clock, token rules, upstream transports."""

    settings: Settings
    clock: Clock
    tokens: TokenSettings
    idempotency: IdempotencyStore
    transports: Transports | None = None


def token_settings(settings: Settings) -> TokenSettings:
    return TokenSettings(secret=settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                         algorithms=settings.jwt_algorithms, leeway=settings.jwt_leeway,
                         public_key=settings.jwt_public_key or None)


def authenticate(header: str | None, tokens: TokenSettings) -> tuple[Viewer | None, Unauthenticated | None]:
    try:
        token = bearer(header)
        return (verify(token, tokens) if token else None), None
    except Unauthenticated as error:
        return None, error


class GatewayGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(schema, graphql_ide="graphiql" if runtime.settings.development else None,
                         allow_queries_via_get=True)
        self.runtime = runtime

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        runtime = self.runtime
        assert runtime.transports is not None, "the app's lifespan has not started"
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope = RequestScope(request_id=request_id, traceparent=request.headers.get("traceparent"),
                             deadline=time.monotonic() + runtime.settings.request_deadline)
        upstreams = runtime.transports.for_request(scope)
        viewer, auth_error = authenticate(request.headers.get("authorization"), runtime.tokens)
        now = runtime.clock()
        return Context(viewer=viewer, auth_error=auth_error, loaders=Loaders(upstreams, now, viewer),
                       upstreams=upstreams, now=now, request_id=request_id,
                       max_page_size=runtime.settings.max_page_size, idempotency=runtime.idempotency)


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    pinned = settings.clock
    runtime = Runtime(settings, clock or ((lambda: pinned) if pinned else (lambda: datetime.now(UTC))),
                      token_settings(settings), MemoryIdempotencyStore())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=200, limit_per_host=100, keepalive_timeout=30)
        async with aiohttp.ClientSession(connector=connector) as session:
            runtime.transports = Transports(
                orders=Transport("orders", URL(settings.orders_url), session, settings.upstream_timeout),
                carrier=Transport("carrier", URL(settings.carrier_url), session, settings.upstream_timeout),
                aftersales=Transport("aftersales", URL(settings.aftersales_url), session, settings.upstream_timeout),
            )
            try:
                yield
            finally:
                runtime.transports = None

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = GatewayGraphQL(runtime)
    app = Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"]), Route("/healthz", healthz)],
                    lifespan=lifespan)
    app.state.runtime = runtime
    return app
