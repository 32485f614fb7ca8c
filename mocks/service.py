"""What the three mock services have in common: configuration, app assembly, idempotent writes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
from aiohttp import web

from mocks.catalog import World, build_world
from mocks.control import ControlPlane, CorruptionSpec, MockClock, conflict, install, json_response

S = TypeVar("S")


# Generated order ids have six digits (``ord-g-000001``).
MAX_GENERATED = 999_999


class MockConfigError(ValueError):
    """A MOCK_* or *_PORT variable that cannot be used; the message names it and what it must be."""


def env_int(env: Mapping[str, str], name: str, default: int, bounds: tuple[int, int] | None = None) -> int:
    """An integer variable (unset or empty: ``default``), inside ``bounds`` when given."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MockConfigError(f"{name} must be an integer, got {raw!r}") from None
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise MockConfigError(f"{name} must be from {bounds[0]} to {bounds[1]}, got {value}")
    return value


@dataclass(frozen=True)
class MockConfig:
    """How a mock builds its world. ``now=None`` follows the wall clock (anchored at start-up)."""

    now: datetime | None = None
    seed: int = 7
    generated: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MockConfig:
        """MOCK_NOW, MOCK_SEED and MOCK_ORDERS; unset or empty means the default.

        Raises :class:`MockConfigError` (never a bare parsing error) for a value that cannot be used.
        """
        env = os.environ if env is None else env
        raw_now = env.get("MOCK_NOW", "").strip()
        now = None
        if raw_now:
            try:
                now = datetime.fromisoformat(raw_now)
            except ValueError:
                raise MockConfigError(
                    f"MOCK_NOW must be an ISO 8601 date-time with a UTC offset, e.g. {_EXAMPLE_NOW}, "
                    f"got {raw_now!r}") from None
            if now.tzinfo is None:
                raise MockConfigError(f"MOCK_NOW must carry a UTC offset, e.g. {_EXAMPLE_NOW}, got {raw_now!r}")
            now = now.astimezone(UTC)
        return cls(now=now, seed=env_int(env, "MOCK_SEED", 7),
                   generated=env_int(env, "MOCK_ORDERS", 0, (0, MAX_GENERATED)))


_EXAMPLE_NOW = "2026-11-20T12:00:00+00:00"


class StateBox(Generic[S]):
    """Holds a service's current state; the control plane swaps it on reset."""

    def __init__(self) -> None:
        self._state: S | None = None

    @property
    def state(self) -> S:
        assert self._state is not None
        return self._state

    def set(self, state: S) -> None:
        self._state = state


class IdempotencyLedger:
    """``Idempotency-Key`` support for writes: a retry with the same key and body replays the answer.

    A write calls :meth:`begin` before it changes anything: that computes the request's fingerprint
    (so nothing about the body can let the write happen and then fail) and finds any earlier answer to
    replay. After the write, :meth:`IdempotentWrite.remember` records the answer under the key.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, int, bytes]] = {}

    @staticmethod
    def fingerprint(request: web.Request, body: Any) -> str:
        return hashlib.sha256(request.method.encode() + request.path.encode() + orjson.dumps(
            body, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def begin(self, request: web.Request, body: Any) -> IdempotentWrite:
        key = request.headers.get("Idempotency-Key") or None
        if key is None:
            return IdempotentWrite(self, None, "", None)
        fingerprint = self.fingerprint(request, body)
        if key not in self._seen:
            return IdempotentWrite(self, key, fingerprint, None)
        seen, status, payload = self._seen[key]
        if seen != fingerprint:
            raise conflict("Idempotency-Key was already used for a different request",
                           code="IDEMPOTENCY_KEY_REUSED")
        replayed = web.Response(body=payload, status=status, content_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
        return IdempotentWrite(self, key, fingerprint, replayed)

    def record(self, key: str, fingerprint: str, response: web.Response) -> None:
        assert isinstance(response.body, bytes)
        self._seen[key] = (fingerprint, response.status, response.body)


@dataclass
class IdempotentWrite:
    """One write under way: ``replayed`` is the earlier answer when the request is a retry."""

    ledger: IdempotencyLedger
    key: str | None
    fingerprint: str
    replayed: web.Response | None

    def remember(self, response: web.Response) -> web.Response:
        if self.key is not None and response.status < 500:
            self.ledger.record(self.key, self.fingerprint, response)
        return response


def make_app(
    name: str,
    config: MockConfig,
    load: Callable[[World, MockClock], S],
    box: StateBox[S],
    add_routes: Callable[[web.Application], None],
    corruption: CorruptionSpec,
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    clock = MockClock(pinned=config.now)

    def rebuild(now: datetime) -> None:
        box.set(load(build_world(now, seed=config.seed, generated=config.generated), clock))

    install(app, ControlPlane(name, rebuild, corruption, clock))
    add_routes(app)

    async def health(_: web.Request) -> web.Response:
        return json_response({"service": name, "status": "ok"})

    app.router.add_get("/health", health, name=f"{name}.health")
    return app
