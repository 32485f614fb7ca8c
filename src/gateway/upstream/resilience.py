"""How the gateway protects itself and its upstreams: retries, a circuit breaker, a cap on in-flight calls.

- Retries are for idempotent reads only, on refused/reset connections, 429 and 5xx, with exponential
  backoff and full jitter, honouring ``Retry-After``, and never past the request's deadline. A timed-out
  call is not retried: an upstream that hangs would only be asked to hang again.
- The breaker opens after ``threshold`` consecutive failures (outages and timeouts, not bad data),
  fails fast for ``cool_off`` seconds, then lets one probe through (half-open): a success closes it,
  a failure opens it again.
- The bulkhead caps calls in flight per upstream, so one slow service cannot take every connection. A
  call that finds every slot taken waits briefly (``queue_wait``) and then fails fast: a service slow
  enough to fill every slot would only make a queue of callers wait out their whole budget.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import Enum

logger = logging.getLogger("gateway.upstream")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # the first call included
    base: float = 0.05
    cap: float = 1.0

    def delay(self, attempt: int, retry_after: float | None, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): full jitter, or what the server asked."""
        if retry_after is not None:
            return retry_after
        return float(rng() * min(self.cap, self.base * (2 ** (attempt - 1))))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    service: str
    threshold: int = 5
    cool_off: float = 10.0
    clock: Callable[[], float] = time.monotonic
    on_change: Callable[[str, BreakerState], None] | None = None
    state: BreakerState = field(default=BreakerState.CLOSED, init=False)
    failures: int = field(default=0, init=False)
    opened_at: float = field(default=0.0, init=False)
    _probing: bool = field(default=False, init=False)

    def _set(self, state: BreakerState) -> None:
        if state is not self.state:
            level = logging.WARNING if state is BreakerState.OPEN else logging.INFO
            logger.log(level, "circuit breaker for %s: %s -> %s", self.service, self.state.value, state.value)
            self.state = state
            if self.on_change is not None:
                self.on_change(self.service, state)

    def allow(self) -> bool:
        """May a call go out now? In half-open state, only one probe at a time."""
        if self.state is BreakerState.OPEN:
            if self.clock() - self.opened_at < self.cool_off:
                return False
            self._set(BreakerState.HALF_OPEN)
        if self.state is BreakerState.HALF_OPEN:
            if self._probing:
                return False
            self._probing = True
        return True

    def success(self) -> None:
        self._probing = False
        self.failures = 0
        self._set(BreakerState.CLOSED)

    def failure(self) -> None:
        self._probing = False
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.threshold:
            self.opened_at = self.clock()
            self._set(BreakerState.OPEN)

    def release(self) -> None:
        """The call neither succeeded nor failed in a way that says anything about the upstream."""
        self._probing = False

    def refusal(self) -> str:
        """Why ``allow`` said no, for the error the caller sees."""
        if self.state is BreakerState.HALF_OPEN:
            return "circuit half-open after repeated failures; one probe is in flight"
        return f"circuit open after repeated failures; next probe in {self.seconds_until_probe():.1f}s"

    def seconds_until_probe(self) -> float:
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.cool_off - (self.clock() - self.opened_at))


class Bulkhead:
    """A cap on calls in flight to one upstream; a caller waits at most ``queue_wait`` for a free slot."""

    def __init__(self, limit: int, queue_wait: float = 0.1) -> None:
        self.limit, self.queue_wait = limit, queue_wait
        self._slots = asyncio.Semaphore(limit)

    @property
    def in_flight(self) -> int:
        return self.limit - self._slots._value

    async def acquire(self, budget: float) -> bool:
        """Take a slot, waiting no longer than ``queue_wait`` or the caller's own budget."""
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: no timer, no task (wait_for makes one per call)
            return True
        wait = min(budget, self.queue_wait)
        if wait <= 0:
            return False
        try:
            await asyncio.wait_for(self._slots.acquire(), wait)
        except TimeoutError:
            return False
        return True

    def release(self) -> None:
        self._slots.release()
