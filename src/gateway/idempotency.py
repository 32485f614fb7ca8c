"""Client idempotency keys for mutations: a retry with the same key returns the first result.

The first request with a key *claims* it; a concurrent retry waits for that claim to finish and then
replays its result, so two racing retries create nothing twice. It waits no longer than it is told
(the caller passes what is left of its request's deadline) and then answers :class:`InProgress`,
never an exception. A key reused for a different request is refused. Results are kept for ``ttl``
seconds, at most ``capacity`` of them (oldest evicted).
The in-memory store serves one process; ``gateway.stores.redis`` shares keys between replicas.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import orjson


@dataclass(frozen=True)
class Claimed:
    """This caller owns the key and must ``finish`` (or ``release``) it."""


@dataclass(frozen=True)
class Replay:
    result: dict[str, Any]


@dataclass(frozen=True)
class Mismatch:
    """The key was first used for a different request."""


@dataclass(frozen=True)
class InProgress:
    """An earlier request with this key was still running when the time to wait for it ran out."""


Outcome = Claimed | Replay | Mismatch | InProgress


class IdempotencyStore(Protocol):
    async def claim(self, key: str, fingerprint: str, wait: float | None = None) -> Outcome:
        """Claim ``key``, or replay its result; wait at most ``wait`` seconds (and never longer than the
        store's own limit) for an earlier claim of the same request to finish."""
        ...

    async def finish(self, key: str, fingerprint: str, result: dict[str, Any]) -> None: ...

    async def release(self, key: str) -> None: ...


def fingerprint(payload: Any) -> str:
    import hashlib

    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


class MemoryIdempotencyStore:
    def __init__(self, ttl: float = 24 * 3600, capacity: int = 10_000, wait: float = 10.0) -> None:
        self.ttl, self.capacity, self.wait = ttl, capacity, wait
        self._done: OrderedDict[str, tuple[float, str, dict[str, Any]]] = OrderedDict()
        self._pending: dict[str, tuple[str, asyncio.Event]] = {}

    def _expire(self) -> None:
        now = time.monotonic()
        while self._done:
            _, (stored, _, _) = next(iter(self._done.items()))
            if now - stored < self.ttl and len(self._done) <= self.capacity:
                break
            self._done.popitem(last=False)

    async def claim(self, key: str, fingerprint: str, wait: float | None = None) -> Outcome:
        deadline = time.monotonic() + (self.wait if wait is None else min(self.wait, wait))
        while True:
            self._expire()
            done = self._done.get(key)
            if done is not None:
                return Replay(done[2]) if done[1] == fingerprint else Mismatch()
            pending = self._pending.get(key)
            if pending is None:
                self._pending[key] = (fingerprint, asyncio.Event())
                return Claimed()
            if pending[0] != fingerprint:
                return Mismatch()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return InProgress()
            try:
                await asyncio.wait_for(pending[1].wait(), remaining)
            except TimeoutError:
                continue

    async def finish(self, key: str, fingerprint: str, result: dict[str, Any]) -> None:
        self._done[key] = (time.monotonic(), fingerprint, result)
        pending = self._pending.pop(key, None)
        if pending is not None:
            pending[1].set()
        self._expire()

    async def release(self, key: str) -> None:
        pending = self._pending.pop(key, None)
        if pending is not None:
            pending[1].set()
