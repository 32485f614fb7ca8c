"""Consistency after writes: a mutation's answer never shows the order as it was before the write,
even when another request's read of that order, begun before the write, is still in flight."""

from __future__ import annotations

import asyncio

from gateway.upstream.shared import SharedReads
from tests.harness import ALICE, Gateway
from tests.upstreams import MockUpstreams

REQUEST_RETURN = """mutation($input: RequestReturnInput!) { requestReturn(input: $input) {
  return { id } userErrors { code }
  order { returns { id } afterSalesActions { kind available } } } }"""
ORDER = "query($id: ID!) { order(id: $id) { returns { id } lineItems { id } } }"


async def test_a_write_is_read_back_fresh_not_from_a_read_in_flight_since_before_it(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    order_id = "ord-us-delivered"
    line = (await gateway.query(ORDER, {"id": order_id}, as_=ALICE))["data"]["order"]["lineItems"][0]["id"]
    # The write takes a while; meanwhile another shopper tab reads the order, and that read's answer,
    # taken before the write landed, trickles back until well after it.
    await mocks.fault("aftersales", route="returns.batch_create", latency_ms=600, times=1)
    request = {"input": {"orderId": order_id, "idempotencyKey": "fresh-after-write-01",
                         "items": [{"lineItemId": line, "reason": "DAMAGED"}]}}
    write = asyncio.create_task(gateway.query(REQUEST_RETURN, request, as_=ALICE))
    await asyncio.sleep(0.3)
    await mocks.fault("aftersales", route="aftersales.batch", trickle_ms=250, times=1)
    stale_reader = asyncio.create_task(gateway.query(ORDER, {"id": order_id}, as_=ALICE))
    body = await write
    assert "errors" not in body, body
    payload = body["data"]["requestReturn"]
    assert payload["userErrors"] == [] and payload["return"] is not None, "the answer shows the order before the write"
    assert [r["id"] for r in payload["order"]["returns"]] == [payload["return"]["id"]]
    cancel = next(a for a in payload["order"]["afterSalesActions"] if a["kind"] == "CANCEL_RETURN")
    assert cancel["available"] is True
    stale = await stale_reader
    assert stale["data"]["order"]["returns"] == [], "the other tab asked before the write: it may see it before"


async def test_invalidated_keys_are_fetched_again_while_earlier_joiners_keep_their_read() -> None:
    shared: SharedReads[str, str] = SharedReads()
    release = asyncio.Event()
    calls: list[list[str]] = []

    async def fetch(keys: list[str]) -> dict[str, str | Exception]:
        calls.append(keys)
        if len(calls) == 1:
            await release.wait()
            return {k: "before" for k in keys}
        return {k: "after" for k in keys}

    first = asyncio.create_task(shared.fetch(["o1"], fetch))
    await asyncio.sleep(0)
    joiner = asyncio.create_task(shared.fetch(["o1"], fetch))
    await asyncio.sleep(0)
    shared.invalidate(["o1"])
    assert await shared.fetch(["o1"], fetch) == {"o1": "after"}
    release.set()
    assert await first == {"o1": "before"} and await joiner == {"o1": "before"}
    assert calls == [["o1"], ["o1"]]
