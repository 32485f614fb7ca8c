"""HTTP to one upstream service, and the single place where HTTP failures become gateway errors.

:class:`Transport` lives as long as the app (one connection pool per service); :class:`Upstream`
clients are built per request around it (RESTDataSource's shape), carrying that request's id and
deadline so every call knows how long it may take and whom it serves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Transport:
    name: str
    base_url: URL
    session: aiohttp.ClientSession
    timeout: float = 2.0
    calls: int = field(default=0, init=False)

    async def request(
        self, scope: RequestScope, method: str, path: str, *, params: Sequence[tuple[str, str]] = (),
        json: Any = None, headers: Mapping[str, str] | None = None,
    ) -> Response:
        budget = self.timeout
        remaining = scope.remaining()
        if remaining is not None:
            if remaining <= 0:
                raise UpstreamTimeout(self.name, "request deadline already passed")
            budget = min(budget, remaining)
        all_headers = {**scope.headers(), **(headers or {})}
        data = orjson.dumps(json) if json is not None else None
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        self.calls += 1
        try:
            async with asyncio.timeout(budget):
                async with self.session.request(method, self.base_url / path, params=params, data=data,
                                                headers=all_headers) as response:
                    raw = await response.read()
                    status = response.status
        except TimeoutError:
            raise UpstreamTimeout(self.name, f"no answer within {budget:.2f}s") from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
            raise UpstreamUnavailable(self.name, f"connection failed ({type(exc).__name__})") from None
        return self._interpret(status, raw)

    def _interpret(self, status: int, raw: bytes) -> Response:
        if status >= 500 or status == 429:
            raise UpstreamUnavailable(self.name, f"HTTP {status}")
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            raise UpstreamBadData(self.name, f"HTTP {status} with a body that is not JSON") from None
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

    async def _get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Response:
        return await self.transport.request(self.scope, "GET", path, params=params)

    async def _post(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self.transport.request(self.scope, "POST", path, json=body, headers=headers)

    def bad(self, reason: str) -> UpstreamError:
        return UpstreamBadData(self.name, reason)
