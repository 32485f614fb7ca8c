"""Sharing upstream reads across concurrent requests (single-flight).

Keyed by the upstream entity (an order id, a tracking key), never by viewer, and *below*
authorization: the gateway only asks for entities of orders it is about to check, and ownership is
checked on the record itself, so a shared read cannot show anyone what they could not see anyway.
Only in-flight futures are held: once a read completes, the next request fetches again. A write
invalidates the written keys, so a read that began before it is never joined after it. (The
optional tracking cache, ``TRACKING_CACHE_TTL``, lives in ``gateway.stores``: the gateway never
writes trackings, so nothing but time can make it stale.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[list[K]], Awaitable[Mapping[K, V | Exception]]]


class _Abandoned(Exception):
    """The request that was fetching this key went away before it finished."""


class SharedReads(Generic[K, V]):
    """Batch fetches that join identical in-flight fetches from other requests."""

    def __init__(self) -> None:
        self._in_flight: dict[K, asyncio.Future[V | Exception | None]] = {}
        self.joined = 0

    def invalidate(self, keys: Sequence[K]) -> None:
        """After a write: reads already in flight may predate it, so later fetches start their own.
        (Those who joined them keep them: they asked before the write.)"""
        for key in keys:
            self._in_flight.pop(key, None)

    async def fetch(self, keys: Sequence[K], fetch: Fetch[K, V]) -> dict[K, V | Exception]:
        result: dict[K, V | Exception] = {}
        waiting: dict[K, asyncio.Future[V | Exception | None]] = {}
        mine: list[K] = []
        for key in dict.fromkeys(keys):
            if key in self._in_flight:
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
