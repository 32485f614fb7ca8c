"""Per-request batching, de-duplication and snapshot assembly.

Each upstream entity is fetched at most once per request (the loaders cache by key), so two fields
can never see two versions of it; loads issued in the same tick are batched, so a page of N orders
costs one call per service, not N. An :class:`OrderView` is assembled once per order per request:
the order and its after-sales records are fetched in parallel, then the carrier's trackings for the
order's packages, so one order costs the slowest chain (orders -> carrier), not the sum of calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from aiodataloader import DataLoader, Loader, dispatch_queue_batch

from gateway.auth import Viewer
from gateway.domain.model import (
    AfterSalesRecord,
    OrderRecord,
    OrderSnapshot,
    SourceFailure,
    Tracking,
    TrackingKey,
)
from gateway.domain.view import OrderView
from gateway.errors import MalformedOrder, UpstreamError
from gateway.upstream import Upstreams
from gateway.upstream.aftersales import MAX_BATCH as AFTERSALES_BATCH
from gateway.upstream.carrier import MAX_BATCH as CARRIER_BATCH
from gateway.upstream.orders import MAX_BATCH as ORDERS_BATCH
from gateway.upstream.shared import SharedReads

T = TypeVar("T")


def _failure(error: UpstreamError) -> SourceFailure:
    return SourceFailure(error.service, error.code, error.detail)


async def _captured(awaitable: Awaitable[T]) -> tuple[T | None, SourceFailure | None]:
    try:
        return await awaitable, None
    except UpstreamError as error:
        return None, _failure(error)


async def _captured_each(futures: list[asyncio.Future[T]]) -> tuple[list[T] | None, SourceFailure | None]:
    """``_captured(gather(*futures))`` without gather's extra loop turn: one batch resolves them all at
    once, so only the first await waits."""
    try:
        return [await future for future in futures], None
    except UpstreamError as error:
        return None, _failure(error)
    finally:
        for future in futures:  # a batch's failure is shared: retrieved, it is not also logged as lost
            if future.done() and not future.cancelled():
                future.exception()


def _outcome(value: object) -> tuple[object, SourceFailure | None]:
    """One result of a ``gather(..., return_exceptions=True)``, as ``_captured`` would have returned it."""
    if isinstance(value, UpstreamError):
        return None, _failure(value)
    if isinstance(value, BaseException):
        raise value
    return value, None


@dataclass
class Sharing:
    """App-wide single-flight; see ``gateway.upstream.shared``."""

    orders: SharedReads[str, OrderRecord] = field(default_factory=SharedReads)
    trackings: SharedReads[TrackingKey, Tracking] = field(default_factory=SharedReads)
    after_sales: SharedReads[str, AfterSalesRecord] = field(default_factory=SharedReads)


K = TypeVar("K")
V = TypeVar("V")


class PromptLoader(DataLoader[K, V]):
    """aiodataloader's batching, dispatched one loop turn after the first load instead of three.

    Every load made in the same turn still joins the batch (the page's loads are made together), but
    each turn a request waits to reach an upstream is a turn spent behind every other request's ready
    work: under concurrent load the two extra turns per loader cost a few milliseconds of latency.
    """

    def do_resolve_reject(self, key: K, future: asyncio.Future[V]) -> None:
        self._queue.append(Loader(key=key, future=future))
        if len(self._queue) == 1:
            self.loop.create_task(self._dispatch())

    async def _dispatch(self) -> None:
        # A task's first step runs on the next turn: by then this turn's loads have queued.
        queue, self._queue = self._queue, []
        size = self.max_batch_size or len(queue)
        if len(queue) <= size:
            await dispatch_queue_batch(self, queue)
            return
        await asyncio.gather(*(dispatch_queue_batch(self, queue[i:i + size]) for i in range(0, len(queue), size)))


class BatchObserver(Protocol):
    def batch(self, loader: str, size: int) -> None: ...


class Loaders:
    def __init__(self, upstreams: Upstreams, now: datetime, viewer: Viewer | None,
                 sharing: Sharing | None = None, observer: BatchObserver | None = None, *,
                 order_record_suffices: bool = False) -> None:
        self.upstreams = upstreams
        # When the operation asks only for orders' own facts (gateway.needs), views are built from the
        # order record alone: no carrier or after-sales call to wait on or fail with.
        self.order_record_suffices = order_record_suffices
        self.now = now
        self.viewer = viewer
        self.sharing = sharing or Sharing()
        self.observer = observer
        # aiodataloader fails just the keys whose value is an Exception; its types don't say so.
        self.orders: DataLoader[str, OrderRecord | None] = PromptLoader(
            self._orders, max_batch_size=ORDERS_BATCH)  # type: ignore[arg-type]
        self.trackings: DataLoader[TrackingKey, Tracking | None] = PromptLoader(
            self._trackings, max_batch_size=CARRIER_BATCH)  # type: ignore[arg-type]
        self.after_sales: DataLoader[str, AfterSalesRecord | None] = PromptLoader(
            self._after_sales, max_batch_size=AFTERSALES_BATCH)  # type: ignore[arg-type]
        self._views: dict[str, asyncio.Future[OrderView | None]] = {}
        self._bare_views: dict[str, asyncio.Future[OrderView | None]] = {}

    # Batch functions: a value per key, in order; an Exception value fails that key alone.
    async def _orders(self, ids: list[str]) -> list[OrderRecord | Exception | None]:
        if self.observer is not None:
            self.observer.batch("orders", len(ids))
        found = await self.sharing.orders.fetch(ids, self.upstreams.orders.orders)
        return [found.get(i) for i in ids]

    async def _trackings(self, keys: list[TrackingKey]) -> list[Tracking | Exception | None]:
        if self.observer is not None:
            self.observer.batch("trackings", len(keys))
        found = await self.sharing.trackings.fetch(keys, self.upstreams.carrier.trackings)
        return [found.get(k) for k in keys]

    async def _after_sales(self, ids: list[str]) -> list[AfterSalesRecord | Exception]:
        if self.observer is not None:
            self.observer.batch("aftersales", len(ids))
        found = await self.sharing.after_sales.fetch(ids, self.upstreams.aftersales.for_orders)
        return [found.get(i) or AfterSalesRecord(i) for i in ids]

    def prime(self, records: Sequence[OrderRecord]) -> None:
        for record in records:
            self.orders.prime(record.id, record)

    def forget(self, order_id: str) -> None:
        """Drop what this request knows about an order, so a write is followed by a fresh read: not
        from this request's caches, and not by joining another request's read begun before the write."""
        self.orders.clear(order_id)
        self.after_sales.clear(order_id)
        self._views.pop(order_id, None)
        self._bare_views.pop(order_id, None)
        self.sharing.orders.invalidate([order_id])
        self.sharing.after_sales.invalidate([order_id])

    def view(self, order_id: str) -> asyncio.Future[OrderView | None]:
        """The order as this viewer may see it; ``None`` when unknown or someone else's."""
        bare = self.order_record_suffices
        cache = self._bare_views if bare else self._views
        future = cache.get(order_id)
        if future is None:
            # Asked now, not when the task first runs: the batches leave a loop turn sooner.
            order = self.orders.load(order_id)
            after_sales = None if bare else asyncio.ensure_future(_captured(self.after_sales.load(order_id)))
            future = asyncio.ensure_future(self._assemble(order, after_sales))
            cache[order_id] = future
        return future

    async def views(self, records: Sequence[OrderRecord], *, complete: bool = False) -> list[OrderView]:
        """Views of orders already read (a history page); ``complete`` when something other than the
        query's fields reads them (a filter on a derived status). With the orders in hand, every order's
        after-sales record and trackings are asked for in one tick: one call per service for the page,
        and one wait for all of it rather than a task per order."""
        self.prime(records)
        bare = self.order_record_suffices and not complete
        cache = self._bare_views if bare else self._views
        fresh = [r for r in {r.id: r for r in records}.values() if r.id not in cache]
        if fresh:
            futures = {r.id: asyncio.get_running_loop().create_future() for r in fresh}
            cache.update(futures)
            try:
                for record, view in zip(fresh, await self._compose(fresh, bare=bare), strict=True):
                    futures[record.id].set_result(view)
            except BaseException:
                for order_id in futures:
                    cache.pop(order_id, None)
                raise
        views = [await cache[r.id] for r in records]
        return [v for v in views if v is not None]

    async def _compose(self, orders: Sequence[OrderRecord], *, bare: bool) -> list[OrderView | None]:
        visible = [o for o in orders if self._visible(o)]
        if bare:
            return [self._view(o, {}, None, None, None) if self._visible(o) else None for o in orders]
        keys = [[(p.id, p.tracking_key) for p in o.packages if p.tracking_key is not None] for o in visible]
        waits: list[Awaitable[object]] = [self.after_sales.load(o.id) for o in visible]
        waits += [self.trackings.load(k) for order_keys in keys for _, k in order_keys]
        outcomes = iter(await asyncio.gather(*waits, return_exceptions=True))
        sales = [_outcome(next(outcomes)) for _ in visible]
        composed: dict[str, OrderView] = {}
        for order, order_keys, (record, after_sales_failure) in zip(visible, keys, sales, strict=True):
            found = [_outcome(next(outcomes)) for _ in order_keys]
            # As load_many would have it: one failed tracking and the order has none, with the failure said.
            tracking_failure = next((failure for _, failure in found if failure is not None), None)
            trackings = {} if tracking_failure else {pid: t for (pid, _), (t, _) in zip(order_keys, found, strict=True)
                                                      if isinstance(t, Tracking)}
            composed[order.id] = self._view(order, trackings, record, tracking_failure, after_sales_failure)
        return [composed.get(o.id) for o in orders]

    def _view(self, order: OrderRecord, trackings: dict[str, Tracking], record: object,
              tracking_failure: SourceFailure | None, after_sales_failure: SourceFailure | None) -> OrderView:
        assert record is None or isinstance(record, AfterSalesRecord)
        return OrderView(OrderSnapshot(order, self.now, trackings, record, tracking_failure, after_sales_failure))

    def _visible(self, order: OrderRecord) -> bool:
        return self.viewer is not None and self.viewer.can_see(order)

    async def _assemble(self, order_load: Awaitable[OrderRecord | None],
                        after_sales: asyncio.Future[tuple[AfterSalesRecord | None, SourceFailure | None]] | None,
                        ) -> OrderView | None:
        try:
            order = await order_load
        except MalformedOrder as error:
            if after_sales is not None:
                after_sales.cancel()
            if self.viewer is not None and self.viewer.owns(error.buyer_id, error.shop_id):
                raise
            return None  # someone else's order, broken or not, answers as unknown
        except BaseException:
            if after_sales is not None:
                after_sales.cancel()
            raise
        if order is None or not self._visible(order):
            if after_sales is not None:
                after_sales.cancel()
            return None
        if after_sales is None:
            return self._view(order, {}, None, None, None)
        keys = [(p.id, p.tracking_key) for p in order.packages if p.tracking_key is not None]
        trackings: dict[str, Tracking] = {}
        tracking_failure = None
        if keys:
            results, tracking_failure = await _captured_each([self.trackings.load(k) for _, k in keys])
            if results is not None:
                trackings = {pid: t for (pid, _), t in zip(keys, results, strict=True) if t is not None}
        record, after_sales_failure = await after_sales
        return self._view(order, trackings, record, tracking_failure, after_sales_failure)
