"""HTTP to one upstream service, and the single place where HTTP failures become gateway errors.

:class:`Transport` lives as long as the app (its own connection pool, breaker and bulkhead per
service); :class:`Upstream` clients are built per request around it (RESTDataSource's shape),
carrying that request's id and deadline so every call knows how long it may take and whom it serves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import orjson
from yarl import URL

from gateway.errors import (
    UpstreamBadData,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.upstream.resilience import BreakerState, Bulkhead, CircuitBreaker, RetryPolicy, parse_retry_after

logger = logging.getLogger("gateway.upstream")


@dataclass(frozen=True)
class RequestScope:
    """What every upstream call of one gateway request shares."""

    request_id: str = ""
    traceparent: str | None = None
    deadline: float | None = None  # time.monotonic() by which everything must be answered

    def headers(self) -> dict[str, str]:
        headers = {"X-Request-Id": self.request_id} if self.request_id else {}
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        return headers

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


@dataclass(frozen=True)
class Response:
    status: int
    body: Any


class UpstreamObserver(Protocol):
    """Where the transport reports what happened (metrics, traces); see ``gateway.observability``."""

    def call(self, service: str, route: str, outcome: str, seconds: float) -> None: ...

    def retry(self, service: str, route: str) -> None: ...

    def breaker(self, service: str, state: BreakerState) -> None: ...

    def cache_lookup(self, cache: str, hit: bool) -> None: ...


class Tracer(Protocol):
    """Spans around upstream calls (``gateway.observability.Tracing``); absent means tracing is off."""

    enabled: bool

    def span(self, name: str, traceparent: str | None = None, **attributes: Any) -> Any: ...

    def current_traceparent(self) -> str | None: ...


class NullObserver:
    def call(self, service: str, route: str, outcome: str, seconds: float) -> None:
        pass

    def retry(self, service: str, route: str) -> None:
        pass

    def breaker(self, service: str, state: BreakerState) -> None:
        pass

    def cache_lookup(self, cache: str, hit: bool) -> None:
        pass


@dataclass
class Transport:
    name: str
    base_url: URL
    session: aiohttp.ClientSession
    timeout: float = 2.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: CircuitBreaker | None = None
    bulkhead: Bulkhead = field(default_factory=lambda: Bulkhead(64))
    observer: UpstreamObserver = field(default_factory=NullObserver)
    tracing: Tracer | None = None

    def __post_init__(self) -> None:
        if self.breaker is None:
            self.breaker = CircuitBreaker(self.name)
        if self.breaker.on_change is None:
            self.breaker.on_change = self.observer.breaker

    def _budget(self, scope: RequestScope) -> float:
        remaining = scope.remaining()
        if remaining is None:
            return self.timeout
        if remaining <= 0:
            raise UpstreamTimeout(self.name, "the request's deadline has passed")
        return min(self.timeout, remaining)

    async def request(
        self, scope: RequestScope, method: str, path: str, *, route: str, idempotent: bool,
        params: Sequence[tuple[str, str]] = (), json: Any = None, headers: Mapping[str, str] | None = None,
    ) -> Response:
        breaker = self.breaker
        assert breaker is not None
        all_headers = {**scope.headers(), **(headers or {})}
        data = orjson.dumps(json) if json is not None else None
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            attempt += 1
            budget = self._budget(scope)
            if not breaker.allow():
                self.observer.call(self.name, route, "breaker_open", 0.0)
                raise UpstreamUnavailable(self.name, breaker.refusal())
            started = time.monotonic()
            try:
                acquired = await self.bulkhead.acquire(budget)
            except BaseException:
                breaker.release()  # cancelled while queueing: a half-open breaker must not wait for us
                raise
            if not acquired:
                breaker.release()
                self.observer.call(self.name, route, "saturated", time.monotonic() - started)
                raise UpstreamUnavailable(self.name, f"{self.bulkhead.limit} calls already in flight; "
                                                     f"this one was not sent")
            retry_after: float | None = None
            try:
                left = budget - (time.monotonic() - started)
                if self.tracing is not None and self.tracing.enabled:
                    with self.tracing.span(f"{self.name} {route}", **{"http.method": method, "upstream": self.name}):
                        traced = {**all_headers, "traceparent": self.tracing.current_traceparent() or ""}
                        status, raw, retry_after = await self._send(method, path, params, data, traced, left)
                else:
                    status, raw, retry_after = await self._send(method, path, params, data, all_headers, left)
            except UpstreamTimeout:
                breaker.failure()
                self.observer.call(self.name, route, "timeout", time.monotonic() - started)
                raise
            except UpstreamUnavailable as error:
                breaker.failure()
                self.observer.call(self.name, route, "connection_error", time.monotonic() - started)
                failure: UpstreamError = error
            except BaseException:
                # Cancelled mid-call (the caller gave up): nothing learned about the upstream, but a
                # half-open breaker must not keep waiting for this probe's verdict forever.
                breaker.release()
                raise
            else:
                if status >= 500 or status == 429:
                    breaker.failure()
                    self.observer.call(self.name, route, f"http_{status}", time.monotonic() - started)
                    failure = UpstreamUnavailable(self.name, f"HTTP {status}")
                else:
                    breaker.success()
                    self.observer.call(self.name, route, "ok" if status < 400 else f"http_{status}",
                                       time.monotonic() - started)
                    return self._interpret(status, raw)
            finally:
                self.bulkhead.release()
            if not idempotent or attempt >= self.retry.attempts:
                raise failure
            delay = self.retry.delay(attempt, retry_after)
            remaining = scope.remaining()
            if remaining is not None and delay >= remaining:
                raise failure
            logger.info("retrying %s %s after %s (attempt %d, in %.3fs)", self.name, route, failure.detail,
                        attempt + 1, delay)
            self.observer.retry(self.name, route)
            await asyncio.sleep(delay)

    async def _send(self, method: str, path: str, params: Sequence[tuple[str, str]], data: bytes | None,
                    headers: dict[str, str], budget: float) -> tuple[int, bytes, float | None]:
        if budget <= 0:
            raise UpstreamTimeout(self.name, "no time left in the request's deadline")
        try:
            # aiohttp's total timeout covers connecting, sending and reading the whole body.
            async with self.session.request(method, self.base_url / path, params=params, data=data,
                                            headers=headers, timeout=aiohttp.ClientTimeout(total=budget)) as response:
                raw = await response.read()
                return response.status, raw, parse_retry_after(response.headers.get("Retry-After"))
        except TimeoutError:
            raise UpstreamTimeout(self.name, f"no answer within {budget:.2f}s") from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
            raise UpstreamUnavailable(self.name, f"connection failed ({type(exc).__name__})") from None

    def _interpret(self, status: int, raw: bytes) -> Response:
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            error = UpstreamBadData(self.name, f"HTTP {status} with a body that is not JSON")
            logger.warning("rejected at the border: %s", error)
            raise error from None
        if status == 404:
            return Response(status, body)
        if status >= 400:
            code = None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                code = body["error"].get("code")
            raise UpstreamRejected(self.name, f"HTTP {status} {code or ''}".strip(), status, code)
        return Response(status, body)


class Upstream:
    """Base of the per-request clients: domain-named methods over ``_get``/``_post``."""

    def __init__(self, transport: Transport, scope: RequestScope) -> None:
        self.transport = transport
        self.scope = scope

    @property
    def name(self) -> str:
        return self.transport.name

    async def _get(self, route: str, path: str, params: Sequence[tuple[str, str]] = ()) -> Response:
        return await self.transport.request(self.scope, "GET", path, route=route, idempotent=True, params=params)

    async def _read(self, route: str, path: str, body: Any) -> Response:
        """A POST that only reads (batch gets, searches): safe to retry."""
        return await self.transport.request(self.scope, "POST", path, route=route, idempotent=True, json=body)

    async def _write(self, route: str, path: str, body: Any, *, idempotency_key: str) -> Response:
        """A POST that changes something: never retried here (the client's retry, with its key, may)."""
        headers = {"Idempotency-Key": idempotency_key}
        return await self.transport.request(self.scope, "POST", path, route=route, idempotent=False, json=body,
                                            headers=headers)
