"""After-sales mutations over real HTTP: success, every refusal, idempotent retries, the next query."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.auth import Role
from tests.harness import ALICE, BOB, OLIVIA, Gateway, running_gateway
from tests.upstreams import MockUpstreams

RESULT = "replayed userErrors { field code message }"
RETURN = f"""return {{ id kind status lines {{ quantity reason lineItem {{ id name }} }} steps {{ kind state }} }}
  nextSteps {{ step title detail }} {RESULT}
  order {{ displayStatus statusLabel alerts {{ kind }} afterSalesActions {{ kind available unavailableReason }} }}"""
REQUEST_RETURN = f"mutation($input: RequestReturnInput!) {{ requestReturn(input: $input) {{ {RETURN} }} }}"
ADD_ITEMS = f"mutation($input: AddItemsToReturnInput!) {{ addItemsToReturn(input: $input) {{ {RETURN} }} }}"
CANCEL_RETURN = f"mutation($input: ReturnChangeInput!) {{ cancelReturn(input: $input) {{ {RETURN} }} }}"
REPORT_NOT_RECEIVED = f"mutation($input: ReportPackageInput!) {{ reportNotReceived(input: $input) {{ {RETURN} }} }}"
REPORT_LATE = f"mutation($input: ReportPackageInput!) {{ reportLate(input: $input) {{ {RETURN} }} }}"
APPROVE = f"mutation($input: ReturnChangeInput!) {{ approveReturn(input: $input) {{ {RETURN} }} }}"
REJECT = f"mutation($input: RejectReturnInput!) {{ rejectReturn(input: $input) {{ {RETURN} }} }}"
CANCELLATION = f"""cancellation {{ id status initiator items {{ quantity }} }} {RESULT}
  order {{ status displayStatus statusLabel afterSalesActions {{ kind available }} }}"""
CANCEL_ORDER = f"mutation($input: CancelOrderInput!) {{ cancelOrder(input: $input) {{ {CANCELLATION} }} }}"
CANCEL_ITEMS = f"mutation($input: CancelItemsInput!) {{ cancelItems(input: $input) {{ {CANCELLATION} }} }}"
RESPOND = f"""mutation($input: RespondToCancellationInput!) {{
  respondToCancellation(input: $input) {{ {CANCELLATION} }} }}"""
ADDRESS = f"""mutation($input: ChangeShippingAddressInput!) {{ changeShippingAddress(input: $input) {{
  order {{ shippingAddress {{ line1 city postalCode }} }} {RESULT} }} }}"""
ORDER = """query($id: ID!) { order(id: $id) { displayStatus statusLabel lineItems { id name quantity }
  packages { id status } alerts { kind }
  returns { id status lines { quantity reason lineItem { id } } steps { kind state } instructions { title } }
  cancellations { id status } afterSalesActions { kind available unavailableReason returnIds packageIds } } }"""
US_ADDRESS = {"name": "Alice Johnson", "line1": "9 Elm Street", "city": "Springfield", "region": "IL",
              "postalCode": "62701", "country": "US"}


def _payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][field]
    return payload


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def _items(gw: Gateway, order_id: str, as_: str = ALICE) -> list[dict[str, Any]]:
    body = await gw.query(ORDER, {"id": order_id}, as_=as_)
    items: list[dict[str, Any]] = body["data"]["order"]["lineItems"]
    return items


def _action(order: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(a for a in order["afterSalesActions"] if a["kind"] == kind)


async def _writes(mocks: MockUpstreams) -> dict[str, int]:
    counts = {**await mocks.counters("aftersales"), **await mocks.counters("orders")}
    return {k: v for k, v in counts.items() if k not in ("aftersales.batch", "orders.batch", "orders.search")}


async def test_a_complete_return_flow_two_reasons_then_an_added_item(mocks: MockUpstreams, gateway: Gateway) -> None:
    items = await _items(gateway, "ord-us-delivered")
    first = _payload(await gateway.query(REQUEST_RETURN, {"input": {
        "orderId": "ord-us-delivered", "idempotencyKey": "flow-request-1",
        "items": [{"lineItemId": items[0]["id"], "reason": "DOES_NOT_FIT"},
                  {"lineItemId": items[1]["id"], "quantity": 2, "reason": "DAMAGED", "note": "torn seam"}]}}),
        "requestReturn")
    assert first["userErrors"] == [] and first["replayed"] is False
    ret = first["return"]
    assert [(line["reason"], line["quantity"]) for line in ret["lines"]] == [("DOES_NOT_FIT", 1), ("DAMAGED", 2)]
    assert ret["status"] == "APPROVED_AWAITING_SHIPMENT"  # this shop approves automatically
    assert [s["title"] for s in first["nextSteps"]] == ["Pack the items", "Show the QR code", "Drop it off",
                                                         "Get your refund"]
    assert first["order"]["displayStatus"] == "RETURN_IN_PROGRESS"
    assert _action(first["order"], "ADD_ITEMS_TO_RETURN")["available"] is True

    added = _payload(await gateway.query(ADD_ITEMS, {"input": {
        "orderId": "ord-us-delivered", "returnId": ret["id"], "idempotencyKey": "flow-add-1",
        "items": [{"lineItemId": items[2]["id"], "reason": "NO_LONGER_NEEDED"}]}}), "addItemsToReturn")
    assert added["userErrors"] == []
    assert added["return"]["id"] == ret["id"], "added to the same parcel"
    assert {line["reason"] for line in added["return"]["lines"]} == {"DOES_NOT_FIT", "DAMAGED", "NO_LONGER_NEEDED"}

    # The next request sees the same state: nothing is served stale.
    order = (await gateway.query(ORDER, {"id": "ord-us-delivered"}))["data"]["order"]
    assert [g["id"] for g in order["returns"]] == [ret["id"]]
    assert sum(line["quantity"] for line in order["returns"][0]["lines"]) == 4
    assert _action(order, "REQUEST_RETURN")["unavailableReason"] == "ALREADY_IN_RETURN"
    assert [s["state"] for s in order["returns"][0]["steps"]] == ["DONE", "CURRENT", "UPCOMING", "UPCOMING",
                                                                  "UPCOMING"]
    assert await _writes(mocks) == {"returns.batch_create": 2}


@pytest.mark.parametrize(("order_id", "buyer", "items", "extra", "code"), [
    ("ord-us-in-transit", ALICE, [{"index": 0, "reason": "NO_LONGER_NEEDED"}], {}, "NOT_AVAILABLE"),
    ("ord-us-delivered", ALICE, [{"lineItemId": "ord-us-in-transit-l1", "reason": "DAMAGED"}], {},
     "ITEM_NOT_IN_ORDER"),
    ("ord-us-return-in-progress", ALICE, [{"index": 0, "reason": "DAMAGED"}], {}, "ITEM_NOT_ELIGIBLE"),
    ("ord-us-delivered", ALICE, [{"index": 0, "reason": "DAMAGED"}, {"index": 0, "reason": "DEFECTIVE"}], {},
     "DUPLICATE_ITEM"),
    ("ord-us-delivered", ALICE, [{"index": 1, "quantity": 3, "reason": "DAMAGED"}], {}, "INVALID_QUANTITY"),
    ("ord-us-delivered", ALICE, [{"index": 0, "quantity": 0, "reason": "DAMAGED"}], {}, "INVALID_QUANTITY"),
    ("ord-us-delivered", ALICE, [{"index": 0, "reason": "TOO_SMALL"}], {}, "REASON_NOT_OFFERED"),
    ("ord-us-delivered", ALICE, [{"index": 0, "reason": "NOT_RECEIVED"}], {}, "REASON_NOT_OFFERED"),
    ("ord-us-delivered-final-sale", ALICE, [{"index": 1, "reason": "NO_LONGER_NEEDED"}], {}, "REASON_NOT_ALLOWED"),
    ("ord-us-delivered-guarantee-only", ALICE, [{"index": 0, "reason": "NO_LONGER_NEEDED"}], {},
     "REASON_NOT_ALLOWED"),
    ("ord-uk-delivered-personalised", OLIVIA, [{"index": 1, "reason": "DOES_NOT_SUIT"}], {}, "REASON_NOT_ALLOWED"),
    ("ord-us-delivered", ALICE, [{"index": 0, "reason": "NO_LONGER_NEEDED"}], {"resolution": "REPLACEMENT"},
     "RESOLUTION_NOT_ALLOWED"),
    ("ord-us-delivered", ALICE, [], {}, "EMPTY_REQUEST"),
    ("ord-us-delivered", ALICE, [{"index": 0, "reason": "DAMAGED", "note": "x" * 501}], {}, "NOTE_TOO_LONG"),
    ("ord-us-delivered", ALICE, [{"index": 0, "reason": "DAMAGED"}], {"idempotencyKey": "short"},
     "INVALID_IDEMPOTENCY_KEY"),
    ("ord-us-delivered-window-closed", ALICE, [{"index": 0, "reason": "DAMAGED"}], {}, "NOT_AVAILABLE"),
])
async def test_a_refused_return_says_why_and_writes_nothing(
        mocks: MockUpstreams, gateway: Gateway, order_id: str, buyer: str, items: list[dict[str, Any]],
        extra: dict[str, Any], code: str) -> None:
    line_items = await _items(gateway, order_id, buyer)
    wanted = []
    for entry in items:
        entry = dict(entry)
        if "index" in entry:
            entry["lineItemId"] = line_items[entry.pop("index")]["id"]
        wanted.append(entry)
    payload = _payload(await gateway.query(REQUEST_RETURN, {"input": {
        "orderId": order_id, "idempotencyKey": "refusal-1234", "items": wanted, **extra}}, as_=buyer),
        "requestReturn")
    assert code in _codes(payload)
    assert payload["return"] is None
    assert all(e["message"] for e in payload["userErrors"])
    assert await _writes(mocks) == {}


async def test_a_retry_with_the_same_key_replays_and_creates_nothing_twice(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    items = await _items(gateway, "ord-us-delivered")
    request = {"input": {"orderId": "ord-us-delivered", "idempotencyKey": "retry-key-0001",
                         "items": [{"lineItemId": items[0]["id"], "reason": "DAMAGED"}]}}
    first = _payload(await gateway.query(REQUEST_RETURN, request), "requestReturn")
    second = _payload(await gateway.query(REQUEST_RETURN, request), "requestReturn")
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert first["return"]["id"] == second["return"]["id"]
    assert await _writes(mocks) == {"returns.batch_create": 1}
    changed = {"input": {**request["input"], "items": [{"lineItemId": items[1]["id"], "reason": "DAMAGED"}]}}
    reused = _payload(await gateway.query(REQUEST_RETURN, changed), "requestReturn")
    assert _codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert await _writes(mocks) == {"returns.batch_create": 1}


async def test_racing_retries_with_one_key_create_one_return(mocks: MockUpstreams, gateway: Gateway) -> None:
    items = await _items(gateway, "ord-uk-delivered", OLIVIA)
    request = {"input": {"orderId": "ord-uk-delivered", "idempotencyKey": "race-key-0001",
                         "items": [{"lineItemId": items[0]["id"], "reason": "TOO_LARGE"}]}}
    await mocks.fault("aftersales", route="returns.batch_create", latency_ms=200)
    results = await asyncio.gather(*(gateway.query(REQUEST_RETURN, request, as_=OLIVIA) for _ in range(3)))
    payloads = [_payload(r, "requestReturn") for r in results]
    assert len({p["return"]["id"] for p in payloads}) == 1
    assert sorted(p["replayed"] for p in payloads) == [False, True, True]
    assert await _writes(mocks) == {"returns.batch_create": 1}


async def test_two_different_requests_racing_for_one_item_leave_one_return(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    items = await _items(gateway, "ord-us-delivered")
    await mocks.fault("aftersales", route="returns.batch_create", latency_ms=150)
    results = await asyncio.gather(*(gateway.query(REQUEST_RETURN, {"input": {
        "orderId": "ord-us-delivered", "idempotencyKey": f"two-keys-000{n}",
        "items": [{"lineItemId": items[0]["id"], "reason": "DAMAGED"}]}}) for n in range(2)))
    payloads = [_payload(r, "requestReturn") for r in results]
    assert sorted(bool(p["userErrors"]) for p in payloads) == [False, True]
    refused = next(p for p in payloads if p["userErrors"])
    assert _codes(refused) == ["DUPLICATE_REQUEST"]
    order = (await gateway.query(ORDER, {"id": "ord-us-delivered"}))["data"]["order"]
    assert len(order["returns"]) == 1


async def test_an_upstream_failure_is_an_error_and_a_retry_with_the_key_completes(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    items = await _items(gateway, "ord-us-delivered")
    request = {"input": {"orderId": "ord-us-delivered", "idempotencyKey": "fail-then-ok-1",
                         "items": [{"lineItemId": items[0]["id"], "reason": "DAMAGED"}]}}
    await mocks.fault("aftersales", route="returns.batch_create", status=503, times=1)
    failed = await gateway.query(REQUEST_RETURN, request)
    assert failed["errors"][0]["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": "aftersales"}
    assert await _writes(mocks) == {"returns.batch_create": 1}, "a failed write is not retried by the gateway"
    retried = _payload(await gateway.query(REQUEST_RETURN, request), "requestReturn")
    assert retried["userErrors"] == [] and retried["return"] is not None
    order = (await gateway.query(ORDER, {"id": "ord-us-delivered"}))["data"]["order"]
    assert len(order["returns"]) == 1


async def test_a_lost_response_then_a_retry_does_not_duplicate_upstream(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, upstream_timeout=0.3) as gw:
        items = await _items(gw, "ord-us-delivered")
        request = {"input": {"orderId": "ord-us-delivered", "idempotencyKey": "lost-response-1",
                             "items": [{"lineItemId": items[0]["id"], "reason": "DAMAGED"}]}}
        await mocks.fault("aftersales", route="returns.batch_create", latency_ms=600, times=1)
        timed_out = await gw.query(REQUEST_RETURN, request)
        assert timed_out["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
        await asyncio.sleep(0.5)  # the after-sales service finishes the write the gateway stopped waiting for
        retried = _payload(await gw.query(REQUEST_RETURN, request), "requestReturn")
        assert retried["userErrors"] == []
        order = (await gw.query(ORDER, {"id": "ord-us-delivered"}))["data"]["order"]
        assert len(order["returns"]) == 1, "the upstream idempotency key made the retry a replay"


async def test_cancel_during_the_free_hour_is_immediate(gateway: Gateway) -> None:
    payload = _payload(await gateway.query(CANCEL_ORDER, {"input": {
        "orderId": "ord-us-on-hold", "reason": "ORDERED_BY_MISTAKE", "idempotencyKey": "cancel-hold-1"}}),
        "cancelOrder")
    assert payload["userErrors"] == []
    assert payload["cancellation"]["status"] == "CANCELLED"
    assert (payload["order"]["status"], payload["order"]["statusLabel"]) == ("CANCELLED", "Canceled by you")
    assert not _action(payload["order"], "CANCEL_ORDER")["available"]


async def test_cancel_after_the_free_hour_asks_the_seller_who_can_accept(gateway: Gateway) -> None:
    payload = _payload(await gateway.query(CANCEL_ORDER, {"input": {
        "orderId": "ord-us-awaiting-shipment", "reason": "DONT_WANT_TO_WAIT", "idempotencyKey": "cancel-ask-1"}}),
        "cancelOrder")
    assert payload["cancellation"]["status"] == "REQUESTED"
    assert payload["order"]["displayStatus"] == "CANCELLATION_REQUESTED"
    accepted = _payload(await gateway.query(RESPOND, {"input": {
        "orderId": "ord-us-awaiting-shipment", "cancellationId": payload["cancellation"]["id"], "accept": True,
        "idempotencyKey": "seller-accept-1"}}, as_="seller-hearth", role=Role.SELLER,
        shop_id="shop-us-hearth-home"), "respondToCancellation")
    assert accepted["userErrors"] == []
    assert accepted["order"]["status"] == "CANCELLED"


async def test_cancel_once_shipped_is_refused_with_the_alternative(gateway: Gateway) -> None:
    payload = _payload(await gateway.query(CANCEL_ORDER, {"input": {
        "orderId": "ord-us-in-transit", "reason": "NO_LONGER_NEEDED", "idempotencyKey": "cancel-late-1"}}),
        "cancelOrder")
    assert _codes(payload) == ["NOT_AVAILABLE"]
    assert "return it once it's delivered" in payload["userErrors"][0]["message"]


async def test_cancelling_some_items_keeps_the_rest(gateway: Gateway) -> None:
    items = await _items(gateway, "ord-uk-on-hold", OLIVIA)
    payload = _payload(await gateway.query(CANCEL_ITEMS, {"input": {
        "orderId": "ord-uk-on-hold", "reason": "NO_LONGER_NEEDED", "idempotencyKey": "cancel-items-1",
        "items": [{"lineItemId": items[0]["id"], "quantity": 1}]}}, as_=OLIVIA), "cancelItems")
    assert payload["userErrors"] == []
    assert payload["cancellation"]["items"] == [{"quantity": 1}]
    assert payload["order"]["status"] != "CANCELLED"


async def test_address_changes_before_shipping_and_not_after(gateway: Gateway) -> None:
    ok = _payload(await gateway.query(ADDRESS, {"input": {
        "orderId": "ord-us-awaiting-shipment", "address": US_ADDRESS, "idempotencyKey": "address-ok-1"}}),
        "changeShippingAddress")
    assert ok["userErrors"] == []
    assert ok["order"]["shippingAddress"] == {"line1": "9 Elm Street", "city": "Springfield", "postalCode": "62701"}
    bad = _payload(await gateway.query(ADDRESS, {"input": {
        "orderId": "ord-us-on-hold", "address": {**US_ADDRESS, "postalCode": "ABC", "country": "GB"},
        "idempotencyKey": "address-bad-1"}}), "changeShippingAddress")
    assert sorted(e["field"][-1] for e in bad["userErrors"]) == ["country", "postalCode"]
    assert set(_codes(bad)) == {"INVALID_ADDRESS"}
    late = _payload(await gateway.query(ADDRESS, {"input": {
        "orderId": "ord-us-label-created", "address": US_ADDRESS, "idempotencyKey": "address-late-1"}}),
        "changeShippingAddress")
    assert _codes(late) == ["NOT_AVAILABLE"]


async def test_reporting_a_delivered_package_not_received(gateway: Gateway) -> None:
    order = (await gateway.query(ORDER, {"id": "ord-us-delivered"}))["data"]["order"]
    package = order["packages"][0]["id"]
    payload = _payload(await gateway.query(REPORT_NOT_RECEIVED, {"input": {
        "orderId": "ord-us-delivered", "packageId": package, "note": "Not with neighbours",
        "idempotencyKey": "dnr-report-1"}}), "reportNotReceived")
    assert payload["userErrors"] == []
    assert payload["return"]["kind"] == "REFUND_ONLY"
    assert {line["reason"] for line in payload["return"]["lines"]} == {"NOT_RECEIVED"}
    assert "DELIVERED_NOT_RECEIVED" in [a["kind"] for a in payload["order"]["alerts"]]
    assert payload["order"]["statusLabel"] == "Reported not received"
    assert _action(payload["order"], "REPORT_NOT_RECEIVED")["unavailableReason"] == "ALREADY_REPORTED"
    again = _payload(await gateway.query(REPORT_NOT_RECEIVED, {"input": {
        "orderId": "ord-us-delivered", "packageId": package, "idempotencyKey": "dnr-report-2"}}),
        "reportNotReceived")
    assert _codes(again) == ["NOT_AVAILABLE"]


async def test_package_reports_are_checked_per_package(gateway: Gateway) -> None:
    missing = _payload(await gateway.query(REPORT_NOT_RECEIVED, {"input": {
        "orderId": "ord-us-split-size", "packageId": "pkg-nope", "idempotencyKey": "pkg-missing-1"}}),
        "reportNotReceived")
    assert _codes(missing) == ["PACKAGE_NOT_FOUND"]
    order = (await gateway.query(ORDER, {"id": "ord-us-split-size"}))["data"]["order"]
    in_transit = next(p["id"] for p in order["packages"] if p["status"] != "DELIVERED")
    wrong = _payload(await gateway.query(REPORT_NOT_RECEIVED, {"input": {
        "orderId": "ord-us-split-size", "packageId": in_transit, "idempotencyKey": "pkg-wrong-1"}}),
        "reportNotReceived")
    assert _codes(wrong) == ["PACKAGE_NOT_ELIGIBLE"]


async def test_reporting_a_late_package(gateway: Gateway) -> None:
    payload = _payload(await gateway.query(REPORT_LATE, {"input": {
        "orderId": "ord-us-late", "idempotencyKey": "late-report-1"}}), "reportLate")
    assert payload["userErrors"] == []
    assert {line["reason"] for line in payload["return"]["lines"]} == {"LATE"}
    not_late = _payload(await gateway.query(REPORT_LATE, {"input": {
        "orderId": "ord-us-in-transit", "idempotencyKey": "late-report-2"}}), "reportLate")
    assert _codes(not_late) == ["NOT_AVAILABLE"]


async def test_withdrawing_a_return_before_it_ships_back(gateway: Gateway) -> None:
    order = (await gateway.query(ORDER, {"id": "ord-us-return-in-progress"}))["data"]["order"]
    return_id = order["returns"][0]["id"]
    payload = _payload(await gateway.query(CANCEL_RETURN, {"input": {
        "orderId": "ord-us-return-in-progress", "returnId": return_id, "idempotencyKey": "withdraw-1"}}),
        "cancelReturn")
    assert payload["userErrors"] == []
    assert payload["return"]["status"] == "CANCELLED"
    assert not _action(payload["order"], "CANCEL_RETURN")["available"]
    shipped_back = (await gateway.query(ORDER, {"id": "ord-uk-batch-return"}, as_=OLIVIA))["data"]["order"]
    refused = _payload(await gateway.query(CANCEL_RETURN, {"input": {
        "orderId": "ord-uk-batch-return", "returnId": shipped_back["returns"][0]["id"],
        "idempotencyKey": "withdraw-2"}}, as_=OLIVIA), "cancelReturn")
    assert _codes(refused) == ["NOT_AVAILABLE"]
    unknown = _payload(await gateway.query(CANCEL_RETURN, {"input": {
        "orderId": "ord-us-return-in-progress", "returnId": "cmb-nope", "idempotencyKey": "withdraw-3"}}),
        "cancelReturn")
    assert _codes(unknown) == ["RETURN_NOT_FOUND"]


async def test_the_seller_answers_a_pending_request(gateway: Gateway) -> None:
    seller = {"as_": "seller-threadline", "role": Role.SELLER, "shop_id": "shop-us-threadline"}
    order = (await gateway.query(ORDER, {"id": "ord-us-not-received"}, **seller))["data"]["order"]
    return_id = order["returns"][0]["id"]
    assert _action(order, "APPROVE_RETURN")["returnIds"] == [return_id]
    no_reason = _payload(await gateway.query(REJECT, {"input": {
        "orderId": "ord-us-not-received", "returnId": return_id, "reason": " ", "idempotencyKey": "reject-1234"}},
        **seller), "rejectReturn")
    assert _codes(no_reason) == ["REJECTION_REASON_REQUIRED"]
    approved = _payload(await gateway.query(APPROVE, {"input": {
        "orderId": "ord-us-not-received", "returnId": return_id, "idempotencyKey": "approve-1234"}}, **seller),
        "approveReturn")
    assert approved["userErrors"] == []
    assert approved["return"]["status"] == "REFUND_PENDING"
    twice = _payload(await gateway.query(APPROVE, {"input": {
        "orderId": "ord-us-not-received", "returnId": return_id, "idempotencyKey": "approve-5678"}}, **seller),
        "approveReturn")
    assert _codes(twice) == ["NOT_AVAILABLE"]


async def test_nobody_acts_on_an_order_that_is_not_theirs(mocks: MockUpstreams, gateway: Gateway) -> None:
    items = await _items(gateway, "ord-us-delivered")
    request = {"input": {"orderId": "ord-us-delivered", "idempotencyKey": "not-mine-0001",
                         "items": [{"lineItemId": items[0]["id"], "reason": "DAMAGED"}]}}
    as_bob = await gateway.query(REQUEST_RETURN, request, as_=BOB)
    unknown = await gateway.query(REQUEST_RETURN, {"input": {**request["input"], "orderId": "ord-nope"}}, as_=BOB)
    assert as_bob["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert as_bob["errors"][0]["message"].replace("ord-us-delivered", "X") == \
        unknown["errors"][0]["message"].replace("ord-nope", "X")
    other_shop = await gateway.query(APPROVE, {"input": {"orderId": "ord-us-not-received", "returnId": "x",
                                                         "idempotencyKey": "other-shop-1"}},
                                     as_="seller-hearth", role=Role.SELLER, shop_id="shop-us-hearth-home")
    assert other_shop["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    buyer_as_seller = await gateway.query(APPROVE, {"input": {"orderId": "ord-us-not-received", "returnId": "x",
                                                              "idempotencyKey": "buyer-approve"}})
    assert buyer_as_seller["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    seller_as_buyer = await gateway.query(REQUEST_RETURN, request, as_="seller-threadline", role=Role.SELLER,
                                          shop_id="shop-us-threadline")
    assert seller_as_buyer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _writes(mocks) == {}
