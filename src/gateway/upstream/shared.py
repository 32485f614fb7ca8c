"""Sharing upstream reads across concurrent requests: single-flight, and a short tracking cache.

Both are keyed by the upstream entity (an order id, a tracking key), never by viewer, and both sit
*below* authorization: the gateway only asks for entities of orders it is about to check, and
ownership is checked on the record itself, so a shared read cannot show anyone what they could not
see anyway. Single-flight holds only in-flight futures: once a read completes, the next request
fetches again. The tracking cache (off unless ``TRACKING_CACHE_TTL`` > 0) keeps carrier trackings
for a few seconds, bounded in size; the gateway never writes trackings, so nothing can make it stale
except time.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[list[K]], Awaitable[Mapping[K, V | Exception]]]


class _Abandoned(Exception):
    """The request that was fetching this key went away before it finished."""


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.capacity, self.clock = ttl, capacity, clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        entry = self._items.get(key)
        if entry is None or self.clock() - entry[0] > self.ttl:
            self._items.pop(key, None)
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    def put(self, key: K, value: V) -> None:
        self._items[key] = (self.clock(), value)
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class SharedReads(Generic[K, V]):
    """Batch fetches that join identical in-flight fetches from other requests."""

    def __init__(self, cache: TtlCache[K, V] | None = None) -> None:
        self.cache = cache
        self._in_flight: dict[K, asyncio.Future[V | Exception | None]] = {}
        self.joined = 0

    async def fetch(self, keys: Sequence[K], fetch: Fetch[K, V]) -> dict[K, V | Exception]:
        result: dict[K, V | Exception] = {}
        waiting: dict[K, asyncio.Future[V | Exception | None]] = {}
        mine: list[K] = []
        for key in dict.fromkeys(keys):
            cached = self.cache.get(key) if self.cache is not None else None
            if cached is not None:
                result[key] = cached
            elif key in self._in_flight:
                waiting[key] = self._in_flight[key]
                self.joined += 1
            else:
                mine.append(key)
        futures = {k: asyncio.get_running_loop().create_future() for k in mine}
        self._in_flight.update(futures)
        try:
            if mine:
                fetched = await fetch(mine)
                for key in mine:
                    value = fetched.get(key)
                    futures[key].set_result(value)
                    if value is not None:
                        result[key] = value
                        if self.cache is not None and not isinstance(value, Exception):
                            self.cache.put(key, value)
        except BaseException as error:
            for future in futures.values():
                if not future.done():
                    future.set_result(error if isinstance(error, Exception) else _Abandoned())
            raise
        finally:
            for key in mine:
                if self._in_flight.get(key) is futures[key]:
                    del self._in_flight[key]
        orphans = []
        for key, future in waiting.items():
            value = await asyncio.shield(future)
            if isinstance(value, _Abandoned):
                orphans.append(key)
            elif value is not None:
                result[key] = value
        if orphans:
            result.update(await self.fetch(orphans, fetch))
        return result
