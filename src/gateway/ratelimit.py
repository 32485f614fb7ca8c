"""Rate limiting per client identity: a token bucket per token subject (or per address, anonymously).

Each identity may spend ``per_minute`` requests a minute with bursts up to ``burst``; past that the
gateway answers 429 with ``Retry-After``, before doing any work. In memory per process, or in Redis
(``gateway.stores``) so N replicas enforce one budget.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    remaining: int = 0


class RateLimiter(Protocol):
    async def take(self, identity: str) -> Decision: ...


class MemoryRateLimiter:
    def __init__(self, per_minute: int, burst: int, capacity: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.capacity = capacity
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, identity: str) -> Decision:
        now = self.clock()
        tokens, stamp = self._buckets.get(identity, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        if tokens < 1.0:
            self._buckets[identity] = (tokens, now)
            return Decision(False, retry_after=math.ceil((1.0 - tokens) / self.rate) if self.rate else 60.0)
        self._buckets[identity] = (tokens - 1.0, now)
        self._buckets.move_to_end(identity)
        while len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return Decision(True, remaining=int(tokens - 1.0))


class Unlimited:
    async def take(self, identity: str) -> Decision:
        return Decision(True, remaining=1 << 30)
