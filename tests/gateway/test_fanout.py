"""Fan-out: each upstream entity once per request, batched per service, independent calls in parallel."""

from __future__ import annotations

import time

from mocks.service import MockConfig
from tests.harness import ALICE, Gateway, running_gateway
from tests.upstreams import TEST_NOW, MockUpstreams, running_mocks

PAGE = """query($id: ID!) { order(id: $id) {
  id status displayStatus statusLabel tracker { headline steps { state } }
  lineItems { name quantity unitPrice { formatted } }
  packages { id status eta { latest } split { reason explanation } items { quantity lineItem { name } }
             trackingEvents { time code } tracker { kind state description } alerts { kind title } }
  alerts { kind } afterSalesActions { kind available } returns { id steps { state } }
} }"""


async def _counts(mocks: MockUpstreams) -> dict[str, int]:
    counts: dict[str, int] = {}
    for service in ("orders", "carrier", "aftersales"):
        counts.update(await mocks.counters(service))
    return counts


async def test_the_full_order_page_costs_one_call_per_service(mocks: MockUpstreams, gateway: Gateway) -> None:
    body = await gateway.query(PAGE, {"id": "ord-uk-split-three"}, as_="buyer-uk-olivia")
    assert "errors" not in body
    assert len(body["data"]["order"]["packages"]) == 3
    assert await _counts(mocks) == {"orders.batch": 1, "trackings.batch": 1, "aftersales.batch": 1}


async def test_the_same_order_asked_twice_in_one_request_is_fetched_once(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    query = """query($id: ID!) { a: order(id: $id) { status } b: order(id: $id) { packages { status } }
                                 c: order(id: $id) { afterSalesActions { kind } } }"""
    body = await gateway.query(query, {"id": "ord-us-split-size"})
    assert "errors" not in body
    assert await _counts(mocks) == {"orders.batch": 1, "trackings.batch": 1, "aftersales.batch": 1}


async def test_several_orders_in_one_request_share_one_batch_per_service(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    query = """{ a: order(id: "ord-us-in-transit") { status packages { status } afterSalesActions { kind } }
                 b: order(id: "ord-us-late") { status packages { status } afterSalesActions { kind } }
                 c: order(id: "ord-us-delivered") { status packages { status } afterSalesActions { kind } } }"""
    body = await gateway.query(query)
    assert "errors" not in body
    assert await _counts(mocks) == {"orders.batch": 1, "trackings.batch": 1, "aftersales.batch": 1}
    request = (await mocks.control("orders", "GET", "requests"))["requests"][0]
    assert set(request["path"].split("ids=")[1].split(",")) == {"ord-us-in-transit", "ord-us-late",
                                                                "ord-us-delivered"}


async def test_an_order_with_nothing_shipped_does_not_call_the_carrier(mocks: MockUpstreams, gateway: Gateway) -> None:
    body = await gateway.query(PAGE, {"id": "ord-us-awaiting-payment"})
    assert "errors" not in body
    assert "trackings.batch" not in await _counts(mocks)


async def test_a_history_page_costs_a_constant_number_of_calls_whatever_its_size() -> None:
    query = """query($n: Int!) { orders(first: $n) { edges { node {
      id statusLabel packages { status tracker { state } } afterSalesActions { kind available } } } } }"""
    async with running_mocks(MockConfig(now=TEST_NOW, generated=600)) as mocks, running_gateway(mocks) as gw:
        for size in (20, 35, 50):
            await mocks.reset_counters()
            body = await gw.query(query, {"n": size}, as_=ALICE)
            assert "errors" not in body
            assert len(body["data"]["orders"]["edges"]) == size
            assert await _counts(mocks) == {"orders.search": 1, "trackings.batch": 1, "aftersales.batch": 1}, size


async def test_one_order_takes_the_slowest_chain_not_the_sum_of_calls(mocks: MockUpstreams) -> None:
    # orders -> carrier is the chain (the carrier needs tracking numbers); after-sales runs beside it.
    for service in ("orders", "carrier", "aftersales"):
        await mocks.fault(service, latency_ms=500)
    async with running_gateway(mocks) as gw:
        started = time.monotonic()
        body = await gw.query(PAGE, {"id": "ord-us-split-availability"})
        elapsed = time.monotonic() - started
    assert "errors" not in body
    # Two hops take ~1.0 s; the sum of three calls would take ~1.5 s. The margin absorbs a busy machine.
    assert 1.0 <= elapsed < 1.4, f"took {elapsed:.3f}s: expected ~1.0s (two hops), not ~1.5s (three)"
