"""Only the upstreams a query needs: an order's own facts come from the order service alone, so a
query asking only for them neither waits for the carrier or the after-sales service nor fails with
them, and gives exactly the answer the whole order would."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from gateway.needs import order_record_suffices
from gateway.schema import schema
from mocks.catalog import SCENARIOS
from tests.harness import ALICE, Gateway, running_gateway
from tests.upstreams import MockUpstreams

OWN_FACTS = """id market timeZone locale currency placedAt paidAt seller { id name }
  lineItems { id productId skuId name variant imageUrl customization quantity tags
              unitPrice { amount currency formatted minorUnits } total { formatted } }
  totals { subtotal { formatted } shipping { formatted } tax { formatted } total { formatted minorUnits } }
  shippingAddress { name line1 line2 city region postalCode country } deliveryMethod __typename"""
RECEIPT = f"query($id: ID!) {{ order(id: $id) {{ {OWN_FACTS} }} }}"
WHOLE = f"""query($id: ID!) {{ order(id: $id) {{ {OWN_FACTS} status statusLabel
  packages {{ status tracker {{ state }} }} afterSalesActions {{ kind available }} }} }}"""
ROWS = """query($filter: OrderHistoryFilter) { orders(first: 10, filter: $filter) {
  edges { cursor node { id placedAt seller { name } totals { total { formatted } } lineItems { name quantity } } }
  pageInfo { hasNextPage endCursor } totalCount } }"""
ORDER_ID = "ord-us-split-size"  # shipped packages: a whole order reads all three services


def _suffices(document: str) -> bool:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    return order_record_suffices(schema._schema, parsed, operation)


@pytest.mark.parametrize(("document", "expected"), [
    (RECEIPT, True),
    (ROWS, True),
    ("{ viewer { id role } cancelReasons { code label } order(id: \"x\") { id } }", True),
    ("{ order(id: \"x\") { ...own } } fragment own on Order { placedAt lineItems { name } }", True),
    ("{ order(id: \"x\") { ... on Order { totals { total { formatted } } } } }", True),
    (WHOLE, False),
    ("{ order(id: \"x\") { statusLabel } }", False),
    ("{ order(id: \"x\") { lineItems { cancelledQuantity } } }", False),
    ("{ order(id: \"x\") { ...more } } fragment more on Order { id alerts { kind } }", False),
    ("{ order(id: \"x\") { id ... on Order { packages { id } } } }", False),
    ("{ order(id: \"x\") { id afterSalesActions @skip(if: true) { kind } } }", False),
    ("mutation { cancelOrder(input: {orderId: \"x\", idempotencyKey: \"k\", reason: MISTAKE}) { order { id } } }",
     False),
])
def test_which_documents_the_order_record_alone_answers(document: str, expected: bool) -> None:
    assert _suffices(document) is expected


async def test_a_receipt_asks_the_order_service_only(mocks: MockUpstreams, gateway: Gateway) -> None:
    body = await gateway.query(RECEIPT, {"id": ORDER_ID})
    assert "errors" not in body and body["data"]["order"]["lineItems"]
    assert await mocks.all_counters() == {"orders.batch": 1}
    await mocks.reset_counters()
    assert "errors" not in await gateway.query(WHOLE, {"id": ORDER_ID})
    assert await mocks.all_counters() == {"orders.batch": 1, "trackings.batch": 1, "aftersales.batch": 1}


async def test_history_rows_ask_for_the_search_only_unless_a_derived_status_filters_them(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    body = await gateway.query(ROWS, as_=ALICE)
    assert "errors" not in body and body["data"]["orders"]["edges"]
    assert await mocks.all_counters() == {"orders.search": 1}
    await mocks.reset_counters()
    filtered = await gateway.query(ROWS, {"filter": {"displayStatus": ["DELIVERED"]}}, as_=ALICE)
    assert "errors" not in filtered and filtered["data"]["orders"]["edges"]
    counts = await mocks.all_counters()
    assert counts["aftersales.batch"] >= 1 and counts["trackings.batch"] >= 1, counts


@pytest.mark.parametrize("scenario", [s.id for s in SCENARIOS])
async def test_the_order_record_alone_answers_exactly_as_the_whole_order_does(
        gateway: Gateway, scenario: str) -> None:
    buyer = next(s.buyer.id for s in SCENARIOS if s.id == scenario)
    alone = await gateway.query(RECEIPT, {"id": scenario}, as_=buyer)
    whole = await gateway.query(WHOLE, {"id": scenario}, as_=buyer)
    assert "errors" not in alone and "errors" not in whole
    facts: dict[str, Any] = whole["data"]["order"]
    for derived in ("status", "statusLabel", "packages", "afterSalesActions"):
        del facts[derived]
    assert alone["data"]["order"] == facts


@pytest.mark.parametrize("service", ["carrier", "aftersales"])
async def test_with_an_upstream_hanging_the_order_s_own_facts_stay_fast_under_load(
        mocks: MockUpstreams, service: str) -> None:
    """A bounded load: 60 receipts, 6 at a time, with one upstream hanging: none waits for it and it
    is never called. (The whole order still waits for it until its breaker opens: see test_resilience.)"""
    await mocks.fault(service, hang=True, hang_ms=5000)
    async with running_gateway(mocks, upstream_timeout=1.0, request_deadline=3.0) as gw:
        durations: list[float] = []

        async def one() -> None:
            started = time.monotonic()
            body = await gw.query(RECEIPT, {"id": ORDER_ID})
            durations.append(time.monotonic() - started)
            assert "errors" not in body and body["data"]["order"]["totals"]

        for _ in range(10):
            await asyncio.gather(*(one() for _ in range(6)))
    assert len(durations) == 60
    assert max(durations) < 0.5, f"a receipt waited {max(durations):.2f}s for the hanging {service}"
    assert not await mocks.counters(service)
