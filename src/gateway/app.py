"""The only wiring: settings in, a Starlette app out (lifespan-owned upstream sessions, routes, GraphQL)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from yarl import URL

from gateway.auth import (
    JwksKeys,
    Role,
    TokenSettings,
    VerifiedTokens,
    Viewer,
    accepted_algorithm,
    bearer,
    is_hmac,
    mint,
    verify,
)
from gateway.context import Context
from gateway.errors import Unauthenticated
from gateway.execution import Documents
from gateway.graphql_http import GraphQLEndpoint, Policy
from gateway.idempotency import IdempotencyStore, MemoryIdempotencyStore
from gateway.limits import Limits
from gateway.loaders import Loaders, Sharing
from gateway.observability import Metrics, RequestInstruments, Tracing
from gateway.persisted import MemoryQueryStore, PersistedMode, QueryStore, load_safelist
from gateway.ratelimit import MemoryRateLimiter, RateLimiter, Unlimited
from gateway.schema import schema
from gateway.settings import Settings
from gateway.stores import (
    MemoryTrackingCache,
    RedisIdempotencyStore,
    RedisQueryStore,
    RedisRateLimiter,
    RedisTrackingCache,
    TrackingCache,
    connect,
    reachable,
)
from gateway.upstream import RequestScope, Transport, Transports
from gateway.upstream.reader import PARSED
from gateway.upstream.resilience import BreakerState, Bulkhead, CircuitBreaker, RetryPolicy

Clock = Callable[[], datetime]


@dataclass
class Runtime:
    """What lives as long as the app: settings, clock, token rules, stores, upstream transports."""

    settings: Settings
    clock: Clock
    tokens: TokenSettings
    idempotency: IdempotencyStore = field(default_factory=MemoryIdempotencyStore)
    sharing: Sharing = field(default_factory=Sharing)
    queries: QueryStore = field(default_factory=MemoryQueryStore)
    limiter: RateLimiter = field(default_factory=Unlimited)
    tracking_cache: TrackingCache | None = None
    metrics: Metrics = field(default_factory=Metrics)
    tracing: Tracing = field(default_factory=lambda: Tracing("none"))
    redis: aioredis.Redis | None = None
    transports: Transports | None = None
    documents: Documents | None = None


def _stores(settings: Settings) -> dict[str, Any]:
    """Shared state in Redis when REDIS_URL is set, else in this process's memory."""
    redis = connect(settings.redis_url) if settings.redis_url else None
    per_minute, burst, ttl = settings.rate_limit_per_minute, settings.rate_limit_burst, settings.tracking_cache_ttl
    limiter: RateLimiter = Unlimited()
    if per_minute:
        limiter = RedisRateLimiter(redis, per_minute, burst) if redis else MemoryRateLimiter(per_minute, burst)
    tracking: TrackingCache | None = None
    if ttl > 0:
        tracking = RedisTrackingCache(redis, ttl) if redis else MemoryTrackingCache(ttl)
    return {
        "redis": redis, "limiter": limiter, "tracking_cache": tracking,
        # A claim outlives any request that could hold it (twice the deadline, 30 s at least), so it never
        # expires under a write still running and is never released by a request that no longer owns it.
        "idempotency": RedisIdempotencyStore(redis, claim_ttl=max(30.0, 2 * settings.request_deadline))
        if redis else MemoryIdempotencyStore(),
        "queries": RedisQueryStore(redis) if redis else MemoryQueryStore(),
    }


def token_settings(settings: Settings) -> TokenSettings:
    return TokenSettings(secret=settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                         algorithms=settings.jwt_algorithms, leeway=settings.jwt_leeway,
                         public_key=settings.jwt_public_key or None)


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


def create_app(settings: Settings, clock: Clock | None = None, *, span_exporter: Any = None) -> Starlette:
    pinned = settings.clock
    PARSED.resize(settings.parse_cache_entries)
    runtime = Runtime(
        settings, clock or ((lambda: pinned) if pinned else (lambda: datetime.now(UTC))), token_settings(settings),
        tracing=Tracing(settings.otel_traces_exporter, settings.otel_exporter_otlp_endpoint,
                        span_exporter=span_exporter),
        **_stores(settings),
    )

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
                    bulkhead=Bulkhead(settings.upstream_max_in_flight, settings.upstream_queue_wait),
                    observer=runtime.metrics,
                    tracing=runtime.tracing if runtime.tracing.enabled else None)

            runtime.transports = Transports(orders=transport("orders", settings.orders_url),
                                            carrier=transport("carrier", settings.carrier_url),
                                            aftersales=transport("aftersales", settings.aftersales_url),
                                            tracking_cache=runtime.tracking_cache)
            if runtime.redis is not None:
                stack.push_async_callback(runtime.redis.aclose)
            stack.callback(runtime.tracing.shutdown)
            try:
                yield
            finally:
                runtime.transports = None

    async def healthz(request: Request) -> Response:
        """Liveness: the process answers. No upstream is called."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Readiness: every upstream answers its health check and no circuit is open (unless
        READINESS_REQUIRES_UPSTREAMS is off: then they are reported but do not count), and the shared
        store answers when one is configured."""
        transports = runtime.transports
        if transports is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        checks = await asyncio.gather(*(_probe(t) for t in (transports.orders, transports.carrier,
                                                             transports.aftersales)))
        ready = all(c["ok"] for c in checks) or not settings.readiness_requires_upstreams
        body: dict[str, Any] = {"upstreams": {c.pop("service"): c for c in checks}}
        if runtime.redis is not None:
            store = await reachable(runtime.redis)
            body["store"] = {"ok": store, "kind": "redis"}
            ready = ready and store
        return JSONResponse({"status": "ready" if ready else "not ready", **body}, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        data, content_type = runtime.metrics.exposition()
        return Response(data, media_type=content_type)

    endpoint = graphql_endpoint(runtime)
    routes: list[BaseRoute] = [
        # Every method reaches the endpoint, so that it can answer 405 with Allow itself.
        Route("/graphql", endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics),
    ]
    if settings.development:
        routes += development_routes(runtime.tokens)
    middleware = []
    if settings.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                                     allow_methods=["GET", "POST"], max_age=600,
                                     allow_headers=["Authorization", "Content-Type", "X-Request-Id", "traceparent"]))
    app = GatewayApp(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.runtime = runtime
    # Without middleware to apply (CORS), /graphql skips Starlette's routing and middleware stack.
    app.graphql = None if middleware else endpoint
    return app


class GatewayApp(Starlette):
    """Starlette, with a short path to the GraphQL endpoint: it answers every error itself, so the
    general routing and exception middleware add nothing but time on the hot path."""

    graphql: GraphQLEndpoint | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.graphql is not None and scope["type"] == "http" and scope["path"] == "/graphql":
            await self.graphql(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def graphql_endpoint(runtime: Runtime) -> GraphQLEndpoint:
    settings = runtime.settings
    limits = Limits(settings.max_depth, settings.max_aliases, settings.max_directives, settings.max_cost,
                    settings.max_fields)
    documents = Documents(schema._schema, limits, max_tokens=settings.max_tokens,
                          max_length=settings.max_document_length, introspection=settings.development,
                          suggestions=settings.development,
                          on_lookup=lambda hit: runtime.metrics.cache_lookup("documents", hit))
    runtime.documents = documents
    policy = Policy(settings.development, settings.max_body_bytes, settings.max_batch, limits,
                    PersistedMode(settings.persisted_queries), settings.compiled_execution)
    safelist = load_safelist(Path(settings.persisted_queries_file)) if settings.persisted_queries_file else {}
    verified = VerifiedTokens()
    jwks = JwksKeys(settings.jwt_jwks_url, on_change=verified.clear) if settings.jwt_jwks_url else None

    async def authenticate(header: str | None) -> tuple[Viewer | None, Unauthenticated | None]:
        try:
            token = bearer(header)
            if token is None:
                return None, None
            cached = verified.get(token, runtime.tokens.leeway)
            if cached is not None:
                return cached, None
            # Only a public-key token is looked up in the JWKS: an HMAC token is verified with the secret
            # (and never makes us fetch keys, whatever kid it names).
            key = None
            if jwks is not None and not is_hmac(accepted_algorithm(token, runtime.tokens)):
                key = await jwks.key_for(token)
            return verify(token, runtime.tokens, key, verified), None
        except Unauthenticated as error:
            return None, error

    async def context(request: Request, viewer: Viewer | None, auth_error: Unauthenticated | None,
                      request_id: str, order_record_suffices: bool = False) -> Context:
        assert runtime.transports is not None, "the app's lifespan has not started"
        scope = RequestScope(request_id=request_id, traceparent=request.headers.get("traceparent"),
                             deadline=time.monotonic() + settings.request_deadline)
        upstreams = runtime.transports.for_request(scope)
        now = runtime.clock()
        loaders = Loaders(upstreams, now, viewer, runtime.sharing, runtime.metrics,
                          order_record_suffices=order_record_suffices)
        return Context(viewer=viewer, auth_error=auth_error, loaders=loaders,
                       upstreams=upstreams, now=now, request_id=request_id, max_page_size=settings.max_page_size,
                       idempotency=runtime.idempotency)

    return GraphQLEndpoint(schema, documents, policy, authenticate, context, runtime.limiter,
                           runtime.queries, safelist, RequestInstruments(runtime.metrics, runtime.tracing))
