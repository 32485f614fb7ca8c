"""The control plane every mock shares: error shape, fault injection, counters, request log, clock.

Everything under ``/_control`` is for tests and demos; it is never counted and never faulted.
Faults are matched per route name (``orders.batch``) or ``*``, and optionally per id (any path
parameter, query value or JSON string in the request body equal to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MALFORMED_KINDS = ("truncated", "not_json", "missing_field", "unknown_enum", "bad_date", "wrong_type")
LOGGED_HEADERS = ("x-request-id", "traceparent", "idempotency-key", "user-agent")
# How deep a request body may nest (objects and arrays). Deeper bodies are a 400: nothing legitimate
# nests like that, and orjson refuses to serialise beyond 255 levels (the idempotency fingerprint).
MAX_BODY_DEPTH = 64


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def error_response(status: int, code: str, message: str, *, field: str | None = None) -> web.Response:
    """The one error shape of all three mocks: ``{"error": {"code", "message", "field"?}}``."""
    error: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return json_response({"error": error}, status=status)


class ApiError(Exception):
    """Raised by handlers; rendered in the shared error shape by the middleware."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message, field=self.field)


def bad_request(message: str, *, field: str | None = None) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message, field=field)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def conflict(message: str, *, code: str = "CONFLICT", field: str | None = None) -> ApiError:
    return ApiError(409, code, message, field=field)


def too_deep(value: Any, limit: int = MAX_BODY_DEPTH) -> bool:
    """Whether a parsed JSON value nests objects and arrays more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 in the shared shape."""
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object")
    if too_deep(body):
        raise bad_request(f"body nests more than {MAX_BODY_DEPTH} levels deep")
    return body


@dataclass
class Fault:
    """One injected misbehaviour. ``times`` counts down; ``None`` means until cleared."""

    route: str = "*"
    key: str | None = None
    latency_ms: int = 0
    jitter_ms: int = 0
    status: int | None = None
    retry_after: int | None = None
    hang: bool = False
    hang_ms: int = 30_000
    trickle_ms: int = 0
    close: bool = False
    malformed: str | None = None
    times: int | None = None
    id: str = ""
    hits: int = 0

    @classmethod
    def from_json(cls, body: dict[str, Any], fault_id: str) -> Fault:
        allowed = {f for f in cls.__dataclass_fields__ if f not in ("id", "hits")}
        unknown = set(body) - allowed
        if unknown:
            raise bad_request(f"unknown fault fields: {sorted(unknown)}")
        fault = cls(**body, id=fault_id)
        checks: list[tuple[bool, str]] = [
            (isinstance(fault.route, str) and bool(fault.route), "route"),
            (fault.key is None or isinstance(fault.key, str), "key"),
            (_is_int(fault.latency_ms) and fault.latency_ms >= 0, "latency_ms"),
            (_is_int(fault.jitter_ms) and fault.jitter_ms >= 0, "jitter_ms"),
            (fault.status is None or (_is_int(fault.status) and 400 <= fault.status <= 599), "status"),
            (fault.retry_after is None or (_is_int(fault.retry_after) and fault.retry_after >= 0), "retry_after"),
            (isinstance(fault.hang, bool), "hang"),
            (_is_int(fault.hang_ms) and fault.hang_ms > 0, "hang_ms"),
            (_is_int(fault.trickle_ms) and fault.trickle_ms >= 0, "trickle_ms"),
            (isinstance(fault.close, bool), "close"),
            (fault.malformed is None or fault.malformed in MALFORMED_KINDS, "malformed"),
            (fault.times is None or (_is_int(fault.times) and fault.times > 0), "times"),
        ]
        for ok, name in checks:
            if not ok:
                raise bad_request(f"invalid fault field {name!r}", field=name)
        return fault

    def matches(self, route: str, keys: set[str]) -> bool:
        if self.route not in ("*", route):
            return False
        return self.key is None or self.key in keys


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class CorruptionSpec:
    """Which fields of this service's payloads a ``malformed`` fault may damage (first one present)."""

    required_fields: tuple[str, ...]
    enum_fields: tuple[str, ...]
    date_fields: tuple[str, ...]
    bad_date: Any


@dataclass
class MockClock:
    """The mock's idea of "now"; scenario times are offsets from it, so pin it to pin the world."""

    pinned: datetime | None = None
    anchor: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.pinned if self.pinned is not None else datetime.now(UTC)


class ControlPlane:
    """Per-service controls. ``rebuild(now)`` restores the service's data from its catalogue."""

    def __init__(
        self, service: str, rebuild: Callable[[datetime], None], corruption: CorruptionSpec,
        clock: MockClock,
    ) -> None:
        self.service = service
        self.clock = clock
        self._rebuild = rebuild
        self.corruption = corruption
        self.faults: list[Fault] = []
        self.counters: Counter[str] = Counter()
        self.requests: deque[dict[str, Any]] = deque(maxlen=2000)
        self._next_fault = 0
        self._release = asyncio.Event()
        self._random = random.Random(0)
        self.rebuild()

    def rebuild(self) -> None:
        self.clock.anchor = self.clock.now()
        self._rebuild(self.clock.anchor)

    def reset(self) -> None:
        self.clear_faults()
        self.counters.clear()
        self.requests.clear()
        self.rebuild()

    def clear_faults(self) -> None:
        self.faults.clear()
        # Wake anything hanging on a fault that no longer exists.
        self._release.set()
        self._release = asyncio.Event()

    def add_fault(self, body: dict[str, Any]) -> Fault:
        self._next_fault += 1
        fault = Fault.from_json(body, f"f{self._next_fault}")
        self.faults.append(fault)
        return fault

    def take_fault(self, route: str, keys: set[str]) -> Fault | None:
        for fault in self.faults:
            if fault.matches(route, keys):
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def hang(self, fault: Fault) -> None:
        release = self._release
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), fault.hang_ms / 1000)

    def jitter(self, fault: Fault) -> float:
        return (fault.latency_ms + self._random.uniform(0, fault.jitter_ms)) / 1000

    def corrupt(self, body: bytes, kind: str) -> bytes:
        if kind == "truncated":
            return body[: max(1, len(body) // 2)]
        if kind == "not_json":
            return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        data = orjson.loads(body)
        spec = self.corruption
        candidates = {
            "missing_field": spec.required_fields,
            "unknown_enum": spec.enum_fields,
            "wrong_type": spec.enum_fields,
            "bad_date": spec.date_fields,
        }[kind]
        for name in candidates:
            target = next(_dicts_with(data, name), None)
            if target is None:
                continue
            if kind == "missing_field":
                del target[name]
            elif kind == "unknown_enum":
                target[name] = "TELEPORTED_BY_WIZARD"
            elif kind == "wrong_type":
                target[name] = 12345
            else:
                target[name] = spec.bad_date
            return orjson.dumps(data)
        # Nothing of the expected shape to damage: answer with a body of the wrong shape altogether.
        return orjson.dumps({"unexpected": kind})


def _dicts_with(data: Any, key: str) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        if key in data:
            yield data
        for value in data.values():
            yield from _dicts_with(value, key)
    elif isinstance(data, list):
        for item in data:
            yield from _dicts_with(item, key)


CONTROL_KEY: web.AppKey[ControlPlane] = web.AppKey("control", ControlPlane)


def _request_keys(request: web.Request, body: Any) -> set[str]:
    keys = {str(v) for v in request.match_info.values()}
    for value in request.query.values():
        keys.update(part for part in value.split(",") if part)

    stack = [body]  # iterative: a deeply nested body must not hit the recursion limit
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            keys.add(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return keys


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error, ours or aiohttp's, leaves in the shared shape; nothing leaks a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_response(404, "NOT_FOUND", f"no route for {request.method} {request.path}")
        if exc.status == 405:
            return error_response(405, "METHOD_NOT_ALLOWED", f"{request.method} not allowed here")
        if exc.status >= 400:
            return error_response(exc.status, "HTTP_ERROR", exc.reason)
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:  # a bug in the mock: say so, in the documented shape
        return error_response(500, "INTERNAL", f"mock bug: {type(exc).__name__}")


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_control"):
        return await handler(request)
    control = request.app[CONTROL_KEY]
    route = request.match_info.route.name or "unknown"
    body: Any = None
    if request.can_read_body:
        raw = await request.read()  # cached by aiohttp; the handler reads it again
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        if too_deep(body):
            body = None  # no keys: the handler answers 400
    control.counters[route] += 1
    control.requests.append(
        {
            "route": route,
            "method": request.method,
            "path": request.path_qs,
            "time": time.time(),
            "headers": {h: request.headers[h] for h in LOGGED_HEADERS if h in request.headers},
        }
    )
    fault = control.take_fault(route, _request_keys(request, body))
    if fault is None:
        return await handler(request)
    if fault.latency_ms or fault.jitter_ms:
        await asyncio.sleep(control.jitter(fault))
    if fault.hang:
        await control.hang(fault)
    if fault.close:
        if request.transport is not None:
            request.transport.close()
        raise ConnectionResetError("fault: connection closed")
    if fault.status is not None:
        injected = error_response(fault.status, "INJECTED_FAULT", f"injected HTTP {fault.status}")
        if fault.retry_after is not None:
            injected.headers["Retry-After"] = str(fault.retry_after)
        return injected
    response = await handler(request)
    if not isinstance(response, web.Response) or response.body is None:
        return response
    payload = bytes(response.body)  # type: ignore[arg-type]
    if fault.malformed is not None and response.status < 400:
        payload = control.corrupt(payload, fault.malformed)
    if fault.trickle_ms:
        return await _trickle(request, response, payload, fault.trickle_ms / 1000)
    if fault.malformed is not None:
        return web.Response(body=payload, status=response.status, content_type="application/json")
    return response


async def _trickle(
    request: web.Request, response: web.Response, payload: bytes, delay: float
) -> web.StreamResponse:
    stream = web.StreamResponse(status=response.status)
    stream.content_type = "application/json"
    stream.content_length = len(payload)
    await stream.prepare(request)
    for i in range(0, len(payload), 16):
        await stream.write(payload[i : i + 16])
        await asyncio.sleep(delay)
    await stream.write_eof()
    return stream


async def _get_counters(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    return json_response({"routes": dict(control.counters), "total": sum(control.counters.values())})


async def _delete_counters(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    control.counters.clear()
    control.requests.clear()
    return json_response({"routes": {}, "total": 0})


async def _get_requests(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError as exc:
        raise bad_request("limit must be an integer", field="limit") from exc
    if limit < 0:
        raise bad_request("limit must not be negative", field="limit")
    items = list(control.requests)[-limit:] if limit else []  # [-0:] would be the whole log
    return json_response({"requests": items})


async def _list_faults(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    return json_response({"faults": [asdict(f) for f in control.faults]})


async def _add_fault(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    fault = control.add_fault(await read_json_object(request))
    return json_response(asdict(fault), status=201)


async def _clear_faults(request: web.Request) -> web.Response:
    request.app[CONTROL_KEY].clear_faults()
    return json_response({"faults": []})


async def _delete_fault(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    fault_id = request.match_info["fault_id"]
    before = len(control.faults)
    control.faults[:] = [f for f in control.faults if f.id != fault_id]
    if len(control.faults) == before:
        raise not_found(f"no fault {fault_id}")
    return json_response({"deleted": fault_id})


async def _reset(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    control.reset()
    return json_response({"reset": control.service, "now": control.clock.anchor.isoformat()})


async def _get_clock(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    return json_response(
        {"now": control.clock.now().isoformat(), "anchor": control.clock.anchor.isoformat(),
         "pinned": control.clock.pinned is not None}
    )


async def _put_clock(request: web.Request) -> web.Response:
    control = request.app[CONTROL_KEY]
    body = await read_json_object(request)
    if "now" not in body:
        raise bad_request("now is required: an ISO 8601 string, or null to follow the wall clock", field="now")
    raw = body["now"]
    if raw is None:
        control.clock.pinned = None
    else:
        if not isinstance(raw, str):
            raise bad_request("now must be an ISO 8601 string or null", field="now")
        try:
            pinned = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise bad_request("now must be an ISO 8601 string", field="now") from exc
        if pinned.tzinfo is None:
            raise bad_request("now must carry a UTC offset", field="now")
        control.clock.pinned = pinned.astimezone(UTC)
    control.rebuild()
    return json_response({"now": control.clock.now().isoformat(), "anchor": control.clock.anchor.isoformat()})


async def _on_shutdown(app: web.Application) -> None:
    app[CONTROL_KEY].clear_faults()


def install(app: web.Application, control: ControlPlane) -> None:
    """Wire the shared middlewares and the ``/_control`` routes into a service's app."""
    app[CONTROL_KEY] = control
    app.middlewares.extend([error_middleware, fault_middleware])
    app.on_shutdown.append(_on_shutdown)
    app.router.add_get("/_control/counters", _get_counters)
    app.router.add_delete("/_control/counters", _delete_counters)
    app.router.add_get("/_control/requests", _get_requests)
    app.router.add_get("/_control/faults", _list_faults)
    app.router.add_post("/_control/faults", _add_fault)
    app.router.add_delete("/_control/faults", _clear_faults)
    app.router.add_delete("/_control/faults/{fault_id}", _delete_fault)
    app.router.add_post("/_control/reset", _reset)
    app.router.add_get("/_control/clock", _get_clock)
    app.router.add_put("/_control/clock", _put_clock)
