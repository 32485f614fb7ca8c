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


async def test_the_full_order_page_costs_one_call_per_service(mocks: MockUpstreams, gateway: Gateway) -> None:
    body = await gateway.query(PAGE, {"id": "ord-uk-split-three"}, as_="buyer-uk-olivia")
    assert "errors" not in body
    assert len(body["data"]["order"]["packages"]) == 3
    assert await mocks.all_counters() == {"orders.batch": 1, "trackings.batch": 1, "aftersales.batch": 1}


async def test_the_same_order_asked_twice_in_one_request_is_fetched_once(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    query = """query($id: ID!) { a: order(id: $id) { status } b: order(id: $id) { packages { status } }
                                 c: order(id: $id) { afterSalesActions { kind } } }"""
    body = await gateway.query(query, {"id": "ord-us-split-size"})
    assert "errors" not in body
    assert await mocks.all_counters() == {"orders.batch": 1, "trackings.batch": 1, "aftersales.batch": 1}


async def test_several_orders_in_one_request_share_one_batch_per_service(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    query = """{ a: order(id: "ord-us-in-transit") { status packages { status } afterSalesActions { kind } }
                 b: order(id: "ord-us-late") { status packages { status } afterSalesActions { kind } }
                 c: order(id: "ord-us-delivered") { status packages { status } afterSalesActions { kind } } }"""
    body = await gateway.query(query)
    assert "errors" not in body
    assert await mocks.all_counters() == {"orders.batch": 1, "trackings.batch": 1, "aftersales.batch": 1}
    request = (await mocks.control("orders", "GET", "requests"))["requests"][0]
    assert set(request["path"].split("ids=")[1].split(",")) == {"ord-us-in-transit", "ord-us-late",
                                                                "ord-us-delivered"}


async def test_an_order_with_nothing_shipped_does_not_call_the_carrier(mocks: MockUpstreams, gateway: Gateway) -> None:
    body = await gateway.query(PAGE, {"id": "ord-us-awaiting-payment"})
    assert "errors" not in body
    assert "trackings.batch" not in await mocks.all_counters()


async def test_a_history_page_costs_a_constant_number_of_calls_whatever_its_size() -> None:
    query = """query($n: Int!) { orders(first: $n) { edges { node {
      id statusLabel packages { status tracker { state } } afterSalesActions { kind available } } } } }"""
    async with running_mocks(MockConfig(now=TEST_NOW, generated=600)) as mocks, running_gateway(mocks) as gw:
        for size in (20, 35, 50):
            await mocks.reset_counters()
            body = await gw.query(query, {"n": size}, as_=ALICE)
            assert "errors" not in body
            assert len(body["data"]["orders"]["edges"]) == size
            assert await mocks.all_counters() == {"orders.search": 1, "trackings.batch": 1, "aftersales.batch": 1}, size


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


HISTORY_PAGE = """query($n: Int!) { orders(first: $n) { edges { node {
  id trackingAvailable afterSalesAvailable packages { trackingEvents { code } } afterSalesActions { kind } } } } }"""


async def test_a_history_page_asks_after_sales_and_the_carrier_together_once_the_orders_are_known(
        mocks: MockUpstreams) -> None:
    for service in ("orders", "carrier", "aftersales"):
        await mocks.fault(service, latency_ms=500)
    async with running_gateway(mocks) as gw:
        started = time.monotonic()
        body = await gw.query(HISTORY_PAGE, {"n": 10}, as_=ALICE)
        elapsed = time.monotonic() - started
    assert "errors" not in body and body["data"]["orders"]["edges"]
    # search, then after-sales beside the carrier: ~1.0 s; one after the other would be ~1.5 s.
    assert 1.0 <= elapsed < 1.4, f"took {elapsed:.3f}s: expected ~1.0s (two hops), not ~1.5s (three)"


async def test_one_bad_tracking_on_a_history_page_spoils_only_its_own_order(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    clean = await gateway.query(HISTORY_PAGE, {"n": 20}, as_=ALICE)
    tracked = {e["node"]["id"] for e in clean["data"]["orders"]["edges"] if e["node"]["trackingAvailable"]}
    assert len(tracked) >= 2, "the page needs several tracked orders to tell one from the rest"
    await mocks.fault("carrier", route="trackings.batch", malformed="unknown_enum", times=1)
    body = await gateway.query(HISTORY_PAGE, {"n": 20}, as_=ALICE)
    nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
    assert [n["id"] for n in nodes] == [e["node"]["id"] for e in clean["data"]["orders"]["edges"]]
    spoiled = {n["id"] for n in nodes if n["id"] in tracked and not n["trackingAvailable"]}
    assert len(spoiled) == 1, spoiled
    assert {n["id"] for n in nodes if n["trackingAvailable"]} == tracked - spoiled
    errors = body["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"UPSTREAM_BAD_DATA"}
    assert {e["path"][2] for e in errors} == {i for i, n in enumerate(nodes) if n["id"] in spoiled}
    assert all(n["afterSalesAvailable"] for n in nodes)


async def test_after_sales_down_keeps_the_history_page_and_says_so_on_every_order(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    await mocks.fault("aftersales", route="aftersales.batch", status=503)
    body = await gateway.query(HISTORY_PAGE, {"n": 5}, as_=ALICE)
    nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
    assert len(nodes) == 5
    assert all(n["afterSalesAvailable"] is False and n["afterSalesActions"] is None for n in nodes)
    assert any(n["trackingAvailable"] for n in nodes), "tracking is still there"
    paths = sorted(tuple(e["path"]) for e in body["errors"])
    assert paths == [("orders", "edges", i, "node", "afterSalesActions") for i in range(5)]
    assert {e["extensions"]["service"] for e in body["errors"]} == {"aftersales"}
