"""The only wiring: settings in, a Starlette app out (lifespan-owned upstream sessions, routes, GraphQL)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from yarl import URL

from gateway.auth import Role, TokenSettings, Viewer, bearer, mint, verify
from gateway.context import Context
from gateway.errors import Unauthenticated
from gateway.idempotency import IdempotencyStore, MemoryIdempotencyStore
from gateway.loaders import Loaders, Sharing
from gateway.schema import schema
from gateway.settings import Settings
from gateway.upstream import RequestScope, Transport, Transports
from gateway.upstream.base import NullObserver, UpstreamObserver
from gateway.upstream.resilience import BreakerState, Bulkhead, CircuitBreaker, RetryPolicy

Clock = Callable[[], datetime]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class Runtime:
    """What lives as long as the app: settings, clock, token rules, upstream transports."""

    settings: Settings
    clock: Clock
    tokens: TokenSettings
    idempotency: IdempotencyStore
    sharing: Sharing
    observer: UpstreamObserver = field(default_factory=NullObserver)
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
        return Context(viewer=viewer, auth_error=auth_error, loaders=Loaders(upstreams, now, viewer, runtime.sharing),
                       upstreams=upstreams, now=now, request_id=request_id,
                       max_page_size=runtime.settings.max_page_size, idempotency=runtime.idempotency)


DEMO_SHOPPERS = {
    "buyer-us-alice": ("Alice Johnson", "US", Role.BUYER, None),
    "buyer-us-bob": ("Bob Martinez", "US", Role.BUYER, None),
    "buyer-uk-olivia": ("Olivia Smith", "UK", Role.BUYER, None),
    "buyer-uk-harry": ("Harry Patel", "UK", Role.BUYER, None),
    "seller-threadline": ("Threadline Apparel (seller)", "US", Role.SELLER, "shop-us-threadline"),
    "seller-northern": ("Northern Threads (seller)", "UK", Role.SELLER, "shop-uk-northern-threads"),
}


def development_routes(tokens: TokenSettings) -> list[BaseRoute]:
    """Development mode only: the reference page, and the development token flow it uses (the same
    tokens `make token` mints, for the demo shoppers only). Neither exists in production."""

    async def demo_shoppers(request: Request) -> Response:
        return JSONResponse([{"id": k, "name": v[0], "market": v[1], "role": v[2].value}
                             for k, v in DEMO_SHOPPERS.items()])

    async def dev_token(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be JSON: {\"shopper\": id}"}, status_code=400)
        subject = body.get("shopper") if isinstance(body, dict) else None
        shopper = DEMO_SHOPPERS.get(subject) if isinstance(subject, str) else None
        if shopper is None or not isinstance(subject, str):
            return JSONResponse({"error": "unknown demo shopper", "shoppers": list(DEMO_SHOPPERS)},
                                status_code=400)
        token = mint(tokens, subject, shopper[2], shop_id=shopper[3], ttl=8 * 3600)
        return JSONResponse({"token": token, "subject": subject, "role": shopper[2].value})

    web = Path(__file__).parent / "web"
    routes: list[BaseRoute] = [Route("/dev/shoppers", demo_shoppers), Route("/dev/token", dev_token, methods=["POST"])]
    if web.is_dir():
        routes.append(Mount("/demo", app=StaticFiles(directory=web, html=True), name="demo"))
    return routes


async def _probe(transport: Transport) -> dict[str, Any]:
    breaker = transport.breaker
    assert breaker is not None
    state = breaker.state.value
    try:
        async with asyncio.timeout(1.0):
            async with transport.session.get(transport.base_url / "health") as response:
                reachable = response.status == 200
    except (TimeoutError, aiohttp.ClientError, OSError):
        reachable = False
    return {"service": transport.name, "ok": reachable and breaker.state is BreakerState.CLOSED,
            "reachable": reachable, "breaker": state, "in_flight": transport.bulkhead.in_flight}


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    pinned = settings.clock
    runtime = Runtime(settings, clock or ((lambda: pinned) if pinned else (lambda: datetime.now(UTC))),
                      token_settings(settings), MemoryIdempotencyStore(), Sharing.create(settings.tracking_cache_ttl))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            def transport(name: str, url: str) -> Transport:
                # One pool per upstream, so a slow service cannot take the others' connections.
                connector = aiohttp.TCPConnector(limit=settings.upstream_pool_size, keepalive_timeout=30,
                                                 enable_cleanup_closed=True)
                session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
                # aiohttp silently resends an idempotent request once when a kept-alive connection
                # drops; our retry policy already decides, and counts, every attempt.
                session._retry_connection = False
                stack.push_async_callback(session.close)
                return Transport(
                    name, URL(url), session, settings.upstream_timeout,
                    retry=RetryPolicy(settings.upstream_retries + 1, settings.retry_base_delay,
                                      settings.retry_max_delay),
                    breaker=CircuitBreaker(name, settings.breaker_threshold, settings.breaker_cool_off),
                    bulkhead=Bulkhead(settings.upstream_max_in_flight), observer=runtime.observer)

            runtime.transports = Transports(orders=transport("orders", settings.orders_url),
                                            carrier=transport("carrier", settings.carrier_url),
                                            aftersales=transport("aftersales", settings.aftersales_url))
            try:
                yield
            finally:
                runtime.transports = None

    async def healthz(request: Request) -> Response:
        """Liveness: the process answers. No upstream is called."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Readiness: every upstream answers its health check and no circuit is open."""
        transports = runtime.transports
        if transports is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        checks = await asyncio.gather(*(_probe(t) for t in (transports.orders, transports.carrier,
                                                             transports.aftersales)))
        ready = all(c["ok"] for c in checks)
        return JSONResponse({"status": "ready" if ready else "not ready",
                             "upstreams": {c.pop("service"): c for c in checks}},
                            status_code=200 if ready else 503)

    graphql = GatewayGraphQL(runtime)
    routes: list[BaseRoute] = [Route("/graphql", graphql, methods=["GET", "POST"]), Route("/healthz", healthz),
                               Route("/readyz", readyz)]
    if settings.development:
        routes += development_routes(runtime.tokens)
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    return app
