"""Shared state for many workers or replicas: idempotency keys, persisted queries, rate-limit buckets and
the tracking cache, in Redis when ``REDIS_URL`` is set (in memory otherwise, for one process).

Every operation that must be atomic across processes is one Redis command or one Lua script: a key is
claimed with ``SET NX``, a bucket is refilled and spent in one script, so two gateways sharing a Redis
behave like one.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson
import redis.asyncio as aioredis

from gateway.idempotency import Claimed, InProgress, Mismatch, Outcome, Replay
from gateway.ratelimit import Decision

PREFIX = "otg:"
logger = logging.getLogger("gateway.stores")


class TrackingCache(Protocol):
    """Raw carrier trackings by key, for a few seconds (the carrier client re-parses what it reads)."""

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]: ...

    async def put_many(self, items: dict[str, bytes]) -> None: ...


class MemoryTrackingCache:
    def __init__(self, ttl: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.capacity, self.clock = ttl, capacity, clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        now, found = self.clock(), {}
        for key in keys:
            entry = self._items.get(key)
            if entry is not None and now - entry[0] <= self.ttl:
                found[key] = entry[1]
        return found

    async def put_many(self, items: dict[str, bytes]) -> None:
        now = self.clock()
        for key, raw in items.items():
            self._items[key] = (now, raw)
            self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def connect(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=False)


class RedisTrackingCache:
    def __init__(self, client: aioredis.Redis, ttl: float) -> None:
        self.client, self.ttl = client, ttl

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        if not keys:
            return {}
        try:
            values = await self.client.mget([f"{PREFIX}trk:{k}" for k in keys])
        except aioredis.RedisError:
            return {}  # a cache that is down is a cache miss
        return {k: _bytes(v) for k, v in zip(keys, values, strict=True) if v is not None}

    async def put_many(self, items: dict[str, bytes]) -> None:
        if not items:
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, raw in items.items():
                    pipe.set(f"{PREFIX}trk:{key}", raw, px=int(self.ttl * 1000))
                await pipe.execute()
        except aioredis.RedisError:
            return


_REMEMBER = """
-- KEYS[1]: the document, KEYS[2]: this hour's count of new documents. ARGV: query, ttl, new per hour.
if redis.call('EXPIRE', KEYS[1], ARGV[2]) == 1 then return 1 end
local stored = redis.call('INCR', KEYS[2])
if stored == 1 then redis.call('EXPIRE', KEYS[2], 3600) end
if stored > tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


class RedisQueryStore:
    """Persisted queries shared by every replica. A document is kept for ``ttl`` seconds after its last
    use, and at most ``new_per_hour`` new documents are stored per hour across replicas: each is a valid
    document (the endpoint stores nothing else) of at most MAX_DOCUMENT_LENGTH characters, but a client
    can write endless valid variants, and this bounds what they take in Redis. Past the budget a document
    still runs; it is just not remembered, so its clients keep sending its text.

    The store only saves a round trip, so an outage degrades to the protocol's own fallback: a lookup
    that fails is a miss (the client re-sends the full query) and a write that fails is skipped."""

    def __init__(self, client: aioredis.Redis, ttl: int = 24 * 3600, new_per_hour: int = 500,
                 clock: Callable[[], float] = time.time) -> None:
        self.client, self.ttl, self.new_per_hour, self.clock = client, ttl, new_per_hour, clock
        self._remember = client.register_script(_REMEMBER)

    async def get(self, digest: str) -> str | None:
        key = f"{PREFIX}apq:{digest}"
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(key)
                pipe.expire(key, self.ttl)  # in use: keep it another ttl
                value, _ = await pipe.execute()
        except (aioredis.RedisError, OSError) as error:
            logger.warning("persisted query lookup failed, answered as not found (%s)", type(error).__name__)
            return None
        return _bytes(value).decode() if value is not None else None

    async def put(self, digest: str, query: str) -> None:
        hour = f"{PREFIX}apq-new:{int(self.clock() // 3600)}"
        try:
            stored = await self._remember(keys=[f"{PREFIX}apq:{digest}", hour],
                                          args=[query.encode(), self.ttl, self.new_per_hour])
        except (aioredis.RedisError, OSError) as error:
            logger.warning("persisted query not stored (%s)", type(error).__name__)
            return
        if not int(stored):
            logger.warning("persisted query not stored: %d new documents this hour already", self.new_per_hour)


_BUCKET = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens, stamp = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - stamp) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter:
    """The same token bucket as the in-memory one, refilled and spent atomically in Redis."""

    def __init__(self, client: aioredis.Redis, per_minute: int, burst: int) -> None:
        self.client = client
        self.rate, self.burst = per_minute / 60.0, burst
        self._script = client.register_script(_BUCKET)

    async def take(self, identity: str) -> Decision:
        try:
            allowed, tokens = await self._script(keys=[f"{PREFIX}rl:{identity}"],
                                                 args=[self.rate, self.burst, time.time()])
        except aioredis.RedisError:
            return Decision(True)  # fail open: an outage of the limiter must not become an outage of the API
        left = float(tokens)
        if int(allowed):
            return Decision(True, remaining=int(left))
        return Decision(False, retry_after=max(1.0, (1.0 - left) / self.rate))


_RELEASE = """
local value = redis.call('GET', KEYS[1])
if value and string.find(value, ARGV[1], 1, true) then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisIdempotencyStore:
    """Idempotency keys shared by every replica. The first request claims the key with ``SET NX``;
    a racing retry (on any replica) polls until the first finishes, then replays its result, or
    answers :class:`InProgress` once the time it may wait has run out."""

    def __init__(self, client: aioredis.Redis, ttl: int = 24 * 3600, claim_ttl: float = 30.0,
                 wait: float = 10.0, poll: float = 0.05) -> None:
        self.client, self.ttl, self.claim_ttl, self.wait, self.poll = client, ttl, claim_ttl, wait, poll
        self._owner = uuid.uuid4().hex
        self._release = client.register_script(_RELEASE)

    def _key(self, key: str) -> str:
        return f"{PREFIX}idem:{key}"

    async def claim(self, key: str, fingerprint: str, wait: float | None = None) -> Outcome:
        deadline = time.monotonic() + (self.wait if wait is None else min(self.wait, wait))
        pending = orjson.dumps({"state": "pending", "fingerprint": fingerprint, "owner": self._owner})
        while True:
            if await self.client.set(self._key(key), pending, nx=True, px=int(self.claim_ttl * 1000)):
                return Claimed()
            raw = await self.client.get(self._key(key))
            if raw is None:
                continue  # released or expired between our two commands: try to claim again
            stored: dict[str, Any] = orjson.loads(raw)
            if stored["fingerprint"] != fingerprint:
                return Mismatch()
            if stored["state"] == "done":
                return Replay(stored["result"])
            left = deadline - time.monotonic()
            if left <= 0:
                return InProgress()
            await asyncio.sleep(min(self.poll, left))

    async def finish(self, key: str, fingerprint: str, result: dict[str, Any]) -> None:
        done = orjson.dumps({"state": "done", "fingerprint": fingerprint, "result": result})
        await self.client.set(self._key(key), done, ex=self.ttl)

    async def release(self, key: str) -> None:
        await self._release(keys=[self._key(key)], args=[self._owner])


async def reachable(client: aioredis.Redis) -> bool:
    try:
        return bool(await asyncio.wait_for(client.ping(), 1.0))
    except (aioredis.RedisError, TimeoutError, OSError):
        return False
