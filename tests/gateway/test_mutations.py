"""After-sales mutations over real HTTP: success, every refusal, idempotent retries, the next query.

Every mutation goes through the same checks (``SUCCESSES``, one case each, plus a declined
cancellation): it succeeds, the payload and the next query show the new state, a retry with the same
key replays it, racing retries write once, a slow first attempt makes a racing retry answer
REQUEST_IN_PROGRESS within the request's deadline, and a key reused for another request is refused.
``REFUSALS`` then names, per mutation, an input for every code it can answer with.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from gateway.auth import Role
from gateway.idempotency import Claimed, InProgress, MemoryIdempotencyStore, Replay
from gateway.stores import RedisIdempotencyStore, connect
from mocks import aftersales_service, orders_service
from tests.gateway.test_invariants import assert_alert_suggestions_are_available
from tests.harness import ALICE, BOB, OLIVIA, Gateway, running_gateway
from tests.redis_server import redis_server
from tests.upstreams import TEST_NOW, MockUpstreams

ORDER_FIELDS = """id status displayStatus statusLabel
  lineItems { id name quantity cancelledQuantity }
  shippingAddress { line1 city postalCode }
  packages { id status }
  alerts { kind packageId suggestedAction nextStep }
  returns { id kind status lines { quantity reason lineItem { id } } steps { kind label state }
            instructions { title detail } }
  cancellations { id status }
  afterSalesActions { kind available unavailableReason returnIds packageIds
    items { quantity lineItem { id } reasons { code resolutions } } }"""
ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
RESULT = f"replayed userErrors {{ field code message }} order {{ {ORDER_FIELDS} }}"
RETURN = f"""return {{ id kind status lines {{ quantity reason lineItem {{ id name }} }} steps {{ kind label state }} }}
  nextSteps {{ step title detail }} {RESULT}"""
CANCELLATION = f"cancellation {{ id status initiator items {{ quantity }} }} {RESULT}"


@dataclass(frozen=True)
class Mutation:
    field: str
    input_type: str
    selection: str

    @property
    def document(self) -> str:
        return f"mutation($input: {self.input_type}!) {{ {self.field}(input: $input) {{ {self.selection} }} }}"


# Every mutation of src/gateway/schema/mutation.py.
MUTATIONS = {m.field: m for m in (
    Mutation("requestReturn", "RequestReturnInput", RETURN),
    Mutation("addItemsToReturn", "AddItemsToReturnInput", RETURN),
    Mutation("cancelReturn", "ReturnChangeInput", RETURN),
    Mutation("reportNotReceived", "ReportPackageInput", RETURN),
    Mutation("reportLate", "ReportPackageInput", RETURN),
    Mutation("cancelOrder", "CancelOrderInput", CANCELLATION),
    Mutation("cancelItems", "CancelItemsInput", CANCELLATION),
    Mutation("changeShippingAddress", "ChangeShippingAddressInput", RESULT),
    Mutation("approveReturn", "ReturnChangeInput", RETURN),
    Mutation("rejectReturn", "RejectReturnInput", RETURN),
    Mutation("respondToCancellation", "RespondToCancellationInput", CANCELLATION),
    Mutation("updateShippingAddress", "ChangeShippingAddressInput", RESULT),
)}
US_ADDRESS = {"name": "Alice Johnson", "line1": "9 Elm Street", "city": "Springfield", "region": "IL",
              "postalCode": "62701", "country": "US"}


@dataclass(frozen=True)
class Who:
    subject: str = ALICE
    role: Role = Role.BUYER
    shop_id: str | None = None

    @property
    def kw(self) -> dict[str, Any]:
        return {"as_": self.subject, "role": self.role, "shop_id": self.shop_id}


THREADLINE = Who("seller-threadline", Role.SELLER, "shop-us-threadline")
HEARTH = Who("seller-hearth", Role.SELLER, "shop-us-hearth-home")
PRINTWORKS = Who("seller-printworks", Role.SELLER, "shop-us-printworks")
AS_OLIVIA = Who(OLIVIA)

Order = dict[str, Any]
Input = Callable[[Order], dict[str, Any]]


def _action(order: Order, kind: str) -> dict[str, Any]:
    return next(a for a in order["afterSalesActions"] if a["kind"] == kind)


def _return(order: Order, return_id: str) -> dict[str, Any]:
    return next(r for r in order["returns"] if r["id"] == return_id)


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def _payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][field]
    return payload


def _created(payload: dict[str, Any]) -> Any:
    """What the mutation made or changed: a return, a cancellation, or the order's address."""
    for key in ("return", "cancellation"):
        if key in payload:
            return payload[key]["id"] if payload[key] else None
    return payload["order"]["shippingAddress"]


async def _order(gw: Gateway, order_id: str, who: Who = Who()) -> Order:
    body = await gw.query(ORDER, {"id": order_id}, **who.kw)
    assert "errors" not in body, body
    order: Order = body["data"]["order"]
    return order


async def _mutate(gw: Gateway, field: str, request: dict[str, Any], who: Who = Who()) -> dict[str, Any]:
    return _payload(await gw.query(MUTATIONS[field].document, {"input": request}, **who.kw), field)


async def _writes(mocks: MockUpstreams) -> dict[str, int]:
    counts = {**await mocks.counters("aftersales"), **await mocks.counters("orders")}
    reads = ("aftersales.batch", "aftersales.order", "orders.batch", "orders.search", "orders.get")
    return {k: v for k, v in counts.items() if k not in reads}


def _service(route: str) -> str:
    return "orders" if route.startswith("orders.") else "aftersales"


# -- what each mutation changes ----------------------------------------------------------------------

def _returned_first_item(payload: dict[str, Any], order: Order) -> None:
    ret = _return(order, payload["return"]["id"])
    assert [(line["reason"], line["quantity"], line["lineItem"]["id"]) for line in ret["lines"]] == \
        [("DAMAGED", 1, "ord-us-delivered-l1")]
    offered = {i["lineItem"]["id"] for i in _action(order, "REQUEST_RETURN")["items"]}
    assert "ord-us-delivered-l1" not in offered, "an item in a return is not offered again"
    assert order["displayStatus"] == "RETURN_IN_PROGRESS"


def _added_item(payload: dict[str, Any], order: Order) -> None:
    ret = _return(order, payload["return"]["id"])
    assert "ord-us-return-in-progress-l3" in {line["lineItem"]["id"] for line in ret["lines"]}
    assert _action(order, "ADD_ITEMS_TO_RETURN")["unavailableReason"] == "NOTHING_TO_ADD"


def _withdrawn(payload: dict[str, Any], order: Order) -> None:
    assert _return(order, payload["return"]["id"])["status"] == "CANCELLED"
    assert _action(order, "CANCEL_RETURN")["unavailableReason"] == "RETURN_ALREADY_SHIPPED"


def _reported_not_received(payload: dict[str, Any], order: Order) -> None:
    ret = _return(order, payload["return"]["id"])
    assert (ret["kind"], {line["reason"] for line in ret["lines"]}) == ("REFUND_ONLY", {"NOT_RECEIVED"})
    assert _action(order, "REPORT_NOT_RECEIVED")["unavailableReason"] == "ALREADY_REPORTED"
    assert [(a["kind"], a["suggestedAction"]) for a in order["alerts"]] == [("DELIVERED_NOT_RECEIVED", "VIEW_RETURN")]
    assert order["statusLabel"] == "Reported not received"


def _reported_late(payload: dict[str, Any], order: Order) -> None:
    ret = _return(order, payload["return"]["id"])
    assert {line["reason"] for line in ret["lines"]} == {"LATE"}
    assert _action(order, "REPORT_LATE")["unavailableReason"] == "ALREADY_REPORTED"
    (alert,) = order["alerts"]
    # The alert no longer offers the report it just received: it points at the request.
    assert (alert["kind"], alert["suggestedAction"]) == ("LATE_DELIVERY", "VIEW_RETURN")
    assert "You reported it late" in alert["nextStep"] and "You can report it late" not in alert["nextStep"]


def _cancelled_now(payload: dict[str, Any], order: Order) -> None:
    assert payload["cancellation"]["status"] == "CANCELLED"
    assert (order["status"], order["statusLabel"]) == ("CANCELLED", "Canceled by you")
    assert not _action(order, "CANCEL_ORDER")["available"]


def _cancelled_one_item(payload: dict[str, Any], order: Order) -> None:
    assert payload["cancellation"]["items"] == [{"quantity": 1}]
    assert [(c["id"], c["status"]) for c in order["cancellations"]] == [(payload["cancellation"]["id"], "CANCELLED")]
    assert [i["cancelledQuantity"] for i in order["lineItems"]] == [1, 0]
    assert order["status"] != "CANCELLED"
    assert _action(order, "CANCEL_ITEMS")["unavailableReason"] == "SINGLE_ITEM"


def _address_changed(payload: dict[str, Any], order: Order) -> None:
    assert order["shippingAddress"] == {"line1": "9 Elm Street", "city": "Springfield", "postalCode": "62701"}


def _approved(payload: dict[str, Any], order: Order) -> None:
    assert _return(order, payload["return"]["id"])["status"] == "REFUND_PENDING"
    assert _action(order, "APPROVE_RETURN")["unavailableReason"] == "NOTHING_PENDING"


def _rejected(payload: dict[str, Any], order: Order) -> None:
    ret = _return(order, payload["return"]["id"])
    assert ret["status"] == "REJECTED" and ret["instructions"] == []
    assert _action(order, "REJECT_RETURN")["unavailableReason"] == "NOTHING_PENDING"


def _accepted(payload: dict[str, Any], order: Order) -> None:
    assert payload["cancellation"]["status"] == "CANCELLED"
    assert order["status"] == "CANCELLED"
    assert _action(order, "RESPOND_TO_CANCELLATION")["unavailableReason"] == "NOTHING_PENDING"


def _declined(payload: dict[str, Any], order: Order) -> None:
    assert payload["cancellation"]["status"] == "DECLINED"
    assert order["status"] != "CANCELLED" and order["displayStatus"] != "CANCELLATION_REQUESTED"
    assert _action(order, "RESPOND_TO_CANCELLATION")["unavailableReason"] == "NOTHING_PENDING"


@dataclass(frozen=True)
class Success:
    name: str
    mutation: str
    order_id: str
    input: Input
    changed: Callable[[dict[str, Any]], dict[str, Any]]  # another request, to reuse the key with
    route: str  # the one upstream write it makes
    check: Callable[[dict[str, Any], Order], None]
    who: Who = Who()
    buyer: str = ALICE


def _first_offered(kind: str) -> Input:
    def build(order: Order) -> dict[str, Any]:
        action = _action(order, kind)
        item = action["items"][0]
        return {"returnId": action["returnIds"][0],
                "items": [{"lineItemId": item["lineItem"]["id"], "reason": item["reasons"][0]["code"]}]}
    return build


def _first_return(kind: str) -> Input:
    return lambda order: {"returnId": _action(order, kind)["returnIds"][0]}


def _pending_cancellation(accept: bool, reason: str | None = None) -> Input:
    def build(order: Order) -> dict[str, Any]:
        pending = next(c["id"] for c in order["cancellations"] if c["status"] == "REQUESTED")
        return {"cancellationId": pending, "accept": accept, **({"reason": reason} if reason else {})}
    return build


def _with(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda request: {**request, **changes}


SUCCESSES = [
    Success("requestReturn", "requestReturn", "ord-us-delivered",
            lambda o: {"items": [{"lineItemId": "ord-us-delivered-l1", "reason": "DAMAGED"}]},
            _with(note="changed my mind about the note"), "returns.batch_create", _returned_first_item),
    Success("addItemsToReturn", "addItemsToReturn", "ord-us-return-in-progress",
            _first_offered("ADD_ITEMS_TO_RETURN"),
            lambda r: {**r, "items": [{**r["items"][0], "note": "another note"}]}, "returns.batch_create",
            _added_item),
    Success("cancelReturn", "cancelReturn", "ord-us-return-in-progress", _first_return("CANCEL_RETURN"),
            _with(returnId="cmb-another"), "returns.combined_action", _withdrawn),
    Success("reportNotReceived", "reportNotReceived", "ord-us-delivered",
            lambda o: {"packageId": _action(o, "REPORT_NOT_RECEIVED")["packageIds"][0], "note": "Not at the door"},
            _with(note="Not with the neighbours"), "returns.batch_create", _reported_not_received),
    Success("reportLate", "reportLate", "ord-us-late", lambda o: {}, _with(note="Still waiting"),
            "returns.batch_create", _reported_late),
    Success("cancelOrder", "cancelOrder", "ord-us-on-hold", lambda o: {"reason": "ORDERED_BY_MISTAKE"},
            _with(reason="FOUND_BETTER_PRICE"), "cancellations.create", _cancelled_now),
    Success("cancelItems", "cancelItems", "ord-uk-on-hold",
            lambda o: {"reason": "NO_LONGER_NEEDED", "items": [{"lineItemId": "ord-uk-on-hold-l1", "quantity": 1}]},
            _with(reason="FOUND_BETTER_PRICE"), "cancellations.create", _cancelled_one_item, AS_OLIVIA, OLIVIA),
    Success("changeShippingAddress", "changeShippingAddress", "ord-us-awaiting-shipment",
            lambda o: {"address": US_ADDRESS}, _with(address={**US_ADDRESS, "line1": "10 Elm Street"}),
            "orders.update_address", _address_changed),
    Success("approveReturn", "approveReturn", "ord-us-not-received", _first_return("APPROVE_RETURN"),
            _with(returnId="cmb-another"), "returns.combined_action", _approved, THREADLINE),
    Success("rejectReturn", "rejectReturn", "ord-us-not-received",
            lambda o: {**_first_return("REJECT_RETURN")(o), "reason": "The carrier's photo shows it at your door"},
            _with(reason="Another reason"), "returns.combined_action", _rejected, THREADLINE),
    Success("respondToCancellation-accept", "respondToCancellation", "ord-us-cancel-requested",
            _pending_cancellation(True), _with(accept=False, reason="Already packed"), "cancellations.approve",
            _accepted, HEARTH),
    Success("respondToCancellation-decline", "respondToCancellation", "ord-us-cancel-requested",
            _pending_cancellation(False, "Already packed and collected today"), _with(accept=True, reason=None),
            "cancellations.reject", _declined, HEARTH),
    Success("updateShippingAddress", "updateShippingAddress", "ord-us-awaiting-shipment",
            lambda o: {"address": US_ADDRESS}, _with(address={**US_ADDRESS, "line1": "10 Elm Street"}),
            "orders.update_address", _address_changed, HEARTH),
]


def test_every_mutation_has_a_success_case() -> None:
    assert {case.mutation for case in SUCCESSES} == set(MUTATIONS)


async def _request(gw: Gateway, case: Success, key: str) -> dict[str, Any]:
    order = await _order(gw, case.order_id, case.who)
    return {**case.input(order), "orderId": case.order_id, "idempotencyKey": key}


@pytest.mark.parametrize("case", SUCCESSES, ids=lambda c: c.name)
async def test_each_mutation_succeeds_replays_and_the_next_query_shows_it(
        mocks: MockUpstreams, gateway: Gateway, case: Success) -> None:
    request = await _request(gateway, case, f"ok-{case.name}")
    first = await _mutate(gateway, case.mutation, request, case.who)
    assert (first["userErrors"], first["replayed"]) == ([], False)
    assert await _writes(mocks) == {case.route: 1}
    case.check(first, first["order"])  # the payload shows the new state...
    case.check(first, await _order(gateway, case.order_id, case.who))  # ...and so does the next query
    assert_alert_suggestions_are_available(await _order(gateway, case.order_id, Who(case.buyer)))

    again = await _mutate(gateway, case.mutation, request, case.who)
    assert (again["userErrors"], again["replayed"]) == ([], True)
    assert _created(again) == _created(first)
    case.check(again, again["order"])

    reused = await _mutate(gateway, case.mutation, case.changed(request), case.who)
    assert _codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert reused["userErrors"][0]["field"] == ["idempotencyKey"]
    malformed = await _mutate(gateway, case.mutation, {**request, "idempotencyKey": "short"}, case.who)
    assert _codes(malformed) == ["INVALID_IDEMPOTENCY_KEY"]
    assert await _writes(mocks) == {case.route: 1}, "retries and refusals write nothing"


@pytest.mark.parametrize("case", SUCCESSES, ids=lambda c: c.name)
async def test_racing_retries_of_each_mutation_write_once(
        mocks: MockUpstreams, gateway: Gateway, case: Success) -> None:
    request = await _request(gateway, case, f"race-{case.name}")
    await mocks.fault(_service(case.route), route=case.route, latency_ms=200)
    payloads = await asyncio.gather(*(_mutate(gateway, case.mutation, request, case.who) for _ in range(3)))
    assert [p["userErrors"] for p in payloads] == [[], [], []]
    assert sorted(p["replayed"] for p in payloads) == [False, True, True]
    assert len({repr(_created(p)) for p in payloads}) == 1
    assert await _writes(mocks) == {case.route: 1}
    case.check(payloads[0], await _order(gateway, case.order_id, case.who))


@pytest.mark.parametrize("case", SUCCESSES, ids=lambda c: c.name)
async def test_a_retry_racing_a_slow_first_attempt_is_told_it_is_in_progress_within_the_deadline(
        mocks: MockUpstreams, case: Success) -> None:
    deadline = 0.8
    async with running_gateway(mocks, request_deadline=deadline) as gw:
        request = await _request(gw, case, f"slow-{case.name}")
        await mocks.fault(_service(case.route), route=case.route, latency_ms=2000, times=1)
        first = asyncio.create_task(gw.query(MUTATIONS[case.mutation].document, {"input": request}, **case.who.kw))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        waiting = await _mutate(gw, case.mutation, request, case.who)
        assert time.monotonic() - started < deadline, "the wait is bounded by the request's deadline"
        assert _codes(waiting) == ["REQUEST_IN_PROGRESS"]
        assert waiting["userErrors"][0]["field"] == ["idempotencyKey"]
        assert (await first)["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"


# -- every refusal -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    mutation: str
    order_id: str
    input: Input
    code: str
    who: Who = Who()
    # Mutations that must succeed first, as (mutation, input without orderId and key).
    setup: tuple[tuple[str, dict[str, Any]], ...] = ()
    message: str | None = None  # a part of the message the shopper sees, where it matters


def _items(*entries: dict[str, Any], to_return: str | None = None, **extra: Any) -> Input:
    """Items by id or by their index in the order (``index``); ``to_return="first"`` adds the order's first
    return's id."""
    def build(order: Order) -> dict[str, Any]:
        items = []
        for entry in entries:
            entry = dict(entry)
            if "index" in entry:
                entry["lineItemId"] = order["lineItems"][entry.pop("index")]["id"]
            items.append(entry)
        found = {"items": items, **extra}
        if to_return is not None:
            found["returnId"] = order["returns"][0]["id"] if to_return == "first" else to_return
        return found
    return build


def _first_cancellation(**extra: Any) -> Input:
    return lambda order: {"cancellationId": order["cancellations"][0]["id"], **extra}


def _fixed(**values: Any) -> Input:
    return lambda order: dict(values)


def _first_return_id(**extra: Any) -> Input:
    return lambda order: {"returnId": order["returns"][0]["id"], **extra}


LONG = "x" * 501
L1 = {"lineItemId": "ord-us-return-in-progress-l1"}
L3 = {"lineItemId": "ord-us-return-in-progress-l3"}
IN_PROGRESS = "ord-us-return-in-progress"
REFUSALS = [
    # requestReturn
    Refusal("requestReturn", "ord-us-in-transit", _items({"index": 0, "reason": "NO_LONGER_NEEDED"}), "NOT_AVAILABLE"),
    Refusal("requestReturn", "ord-us-delivered-window-closed", _items({"index": 0, "reason": "DAMAGED"}),
            "NOT_AVAILABLE", message="The return window closed on"),
    Refusal("requestReturn", "ord-us-delivered", _items(), "EMPTY_REQUEST"),
    Refusal("requestReturn", "ord-us-delivered", _items({"lineItemId": "ord-us-in-transit-l1", "reason": "DAMAGED"}),
            "ITEM_NOT_IN_ORDER"),
    Refusal("requestReturn", IN_PROGRESS, _items({**L1, "reason": "DAMAGED"}), "ITEM_NOT_ELIGIBLE",
            message="already in a return"),
    Refusal("requestReturn", "ord-us-delivered",
            _items({"index": 0, "reason": "DAMAGED"}, {"index": 0, "reason": "DEFECTIVE"}), "DUPLICATE_ITEM"),
    Refusal("requestReturn", "ord-us-delivered", _items({"index": 1, "quantity": 3, "reason": "DAMAGED"}),
            "INVALID_QUANTITY"),
    Refusal("requestReturn", "ord-us-delivered", _items({"index": 0, "quantity": 0, "reason": "DAMAGED"}),
            "INVALID_QUANTITY"),
    Refusal("requestReturn", "ord-us-delivered", _items({"index": 0, "reason": "TOO_SMALL"}), "REASON_NOT_OFFERED"),
    Refusal("requestReturn", "ord-us-delivered", _items({"index": 0, "reason": "NOT_RECEIVED"}),
            "REASON_NOT_OFFERED"),
    Refusal("requestReturn", "ord-us-delivered-final-sale", _items({"index": 1, "reason": "NO_LONGER_NEEDED"}),
            "REASON_NOT_ALLOWED", message="Final-sale item"),
    Refusal("requestReturn", "ord-us-delivered-guarantee-only", _items({"index": 0, "reason": "NO_LONGER_NEEDED"}),
            "REASON_NOT_ALLOWED"),
    Refusal("requestReturn", "ord-uk-delivered-personalised", _items({"index": 1, "reason": "DOES_NOT_SUIT"}),
            "REASON_NOT_ALLOWED", AS_OLIVIA),
    Refusal("requestReturn", "ord-us-delivered",
            _items({"index": 0, "reason": "NO_LONGER_NEEDED"}, resolution="REPLACEMENT"), "RESOLUTION_NOT_ALLOWED"),
    Refusal("requestReturn", "ord-us-delivered", _items({"index": 0, "reason": "DAMAGED", "note": LONG}),
            "NOTE_TOO_LONG"),
    Refusal("requestReturn", "ord-us-delivered", _items({"index": 0, "reason": "DAMAGED"}, note=LONG),
            "NOTE_TOO_LONG"),
    # addItemsToReturn
    Refusal("addItemsToReturn", IN_PROGRESS, _items({**L3, "reason": "DAMAGED"}, to_return="cmb-nope"),
            "RETURN_NOT_FOUND"),
    Refusal("addItemsToReturn", "ord-uk-batch-return", _items({"index": 0, "reason": "DOES_NOT_SUIT"},
                                                              to_return="first"), "NOT_AVAILABLE", AS_OLIVIA),
    Refusal("addItemsToReturn", IN_PROGRESS, _items(to_return="first"), "EMPTY_REQUEST"),
    Refusal("addItemsToReturn", IN_PROGRESS,
            _items({"lineItemId": "ord-us-delivered-l1", "reason": "DAMAGED"}, to_return="first"), "ITEM_NOT_IN_ORDER"),
    Refusal("addItemsToReturn", IN_PROGRESS, _items({**L1, "reason": "DAMAGED"}, to_return="first"),
            "ITEM_NOT_ELIGIBLE"),
    Refusal("addItemsToReturn", IN_PROGRESS,
            _items({**L3, "reason": "DAMAGED"}, {**L3, "reason": "DEFECTIVE"}, to_return="first"), "DUPLICATE_ITEM"),
    Refusal("addItemsToReturn", IN_PROGRESS, _items({**L3, "quantity": 2, "reason": "DAMAGED"}, to_return="first"),
            "INVALID_QUANTITY"),
    Refusal("addItemsToReturn", IN_PROGRESS, _items({**L3, "reason": "TOO_SMALL"}, to_return="first"),
            "REASON_NOT_OFFERED"),
    Refusal("addItemsToReturn", "ord-us-delivered-final-sale",
            _items({"index": 1, "reason": "NO_LONGER_NEEDED"}, to_return="first"), "REASON_NOT_ALLOWED",
            setup=(("requestReturn", {"items": [{"lineItemId": "ord-us-delivered-final-sale-l1",
                                                 "reason": "DAMAGED"}]}),)),
    # An item missing from the parcel has nothing to send back: it cannot join a return-and-refund.
    Refusal("addItemsToReturn", IN_PROGRESS, _items({**L3, "reason": "MISSING_ITEM"}, to_return="first"),
            "REASON_NOT_ALLOWED", message="can't join this return"),
    Refusal("addItemsToReturn", IN_PROGRESS, _items({**L3, "reason": "DAMAGED", "note": LONG}, to_return="first"),
            "NOTE_TOO_LONG"),
    # cancelReturn
    Refusal("cancelReturn", IN_PROGRESS, _fixed(returnId="cmb-nope"), "RETURN_NOT_FOUND"),
    Refusal("cancelReturn", "ord-uk-batch-return", _first_return_id(), "NOT_AVAILABLE", AS_OLIVIA),
    # reportNotReceived
    Refusal("reportNotReceived", "ord-us-in-transit", _fixed(), "NOT_AVAILABLE"),
    Refusal("reportNotReceived", "ord-us-split-size", _fixed(packageId="pkg-nope"), "PACKAGE_NOT_FOUND"),
    Refusal("reportNotReceived", "ord-us-split-size", _fixed(packageId="pkg-us-split-size-2"),
            "PACKAGE_NOT_ELIGIBLE", message="hasn't been marked delivered"),
    Refusal("reportNotReceived", "ord-us-delivered", _fixed(note=LONG), "NOTE_TOO_LONG"),
    # reportLate (PACKAGE_NOT_ELIGIBLE: see test_reporting_a_parcel_late_that_is_not_late_is_refused)
    Refusal("reportLate", "ord-us-in-transit", _fixed(), "NOT_AVAILABLE", message="It isn't late."),
    Refusal("reportLate", "ord-us-late", _fixed(packageId="pkg-nope"), "PACKAGE_NOT_FOUND"),
    Refusal("reportLate", "ord-us-late", _fixed(note=LONG), "NOTE_TOO_LONG"),
    # The late reason needs a parcel that has shipped (the after-sales service refuses it before).
    Refusal("reportLate", "ord-us-awaiting-shipment", _fixed(), "NOT_AVAILABLE", message="hasn't shipped yet"),
    # cancelOrder
    Refusal("cancelOrder", "ord-us-in-transit", _fixed(reason="NO_LONGER_NEEDED"), "NOT_AVAILABLE",
            message="return it once it's delivered"),
    # The platform cancels an item that failed authentication itself: there is nothing to ask the seller.
    Refusal("cancelOrder", "ord-us-luxury-authentication-failed", _fixed(reason="NO_LONGER_NEEDED"), "NOT_AVAILABLE",
            message="failed authentication"),
    # cancelItems (ITEM_NOT_ELIGIBLE: no catalogue order can reach it; see test_domain_rules)
    Refusal("cancelItems", "ord-us-in-transit", _items({"index": 0, "quantity": 1}, reason="NO_LONGER_NEEDED"),
            "NOT_AVAILABLE"),
    Refusal("cancelItems", "ord-uk-on-hold", _items(reason="NO_LONGER_NEEDED"), "EMPTY_REQUEST", AS_OLIVIA),
    Refusal("cancelItems", "ord-uk-on-hold",
            _items({"index": 0, "quantity": 1}, {"index": 0, "quantity": 1}, reason="NO_LONGER_NEEDED"),
            "DUPLICATE_ITEM", AS_OLIVIA),
    Refusal("cancelItems", "ord-uk-on-hold",
            _items({"lineItemId": "ord-us-on-hold-l1", "quantity": 1}, reason="NO_LONGER_NEEDED"),
            "ITEM_NOT_IN_ORDER", AS_OLIVIA),
    Refusal("cancelItems", "ord-uk-on-hold", _items({"index": 0, "quantity": 2}, reason="NO_LONGER_NEEDED"),
            "INVALID_QUANTITY", AS_OLIVIA),
    # changeShippingAddress / updateShippingAddress
    Refusal("changeShippingAddress", "ord-us-label-created", _fixed(address=US_ADDRESS), "NOT_AVAILABLE"),
    Refusal("changeShippingAddress", "ord-us-cancel-requested", _fixed(address=US_ADDRESS), "NOT_AVAILABLE",
            message="cancellation request is with the seller"),
    Refusal("changeShippingAddress", "ord-us-luxury-authentication-failed", _fixed(address=US_ADDRESS),
            "NOT_AVAILABLE", message="failed authentication"),
    Refusal("updateShippingAddress", "ord-us-cancel-requested", _fixed(address=US_ADDRESS), "NOT_AVAILABLE",
            HEARTH, message="answer that request first"),
    Refusal("changeShippingAddress", "ord-us-on-hold", _fixed(address={**US_ADDRESS, "postalCode": "ABC"}),
            "INVALID_ADDRESS", message="5-digit ZIP code"),
    Refusal("updateShippingAddress", "ord-us-label-created", _fixed(address=US_ADDRESS), "NOT_AVAILABLE",
            PRINTWORKS),
    Refusal("updateShippingAddress", "ord-us-awaiting-shipment", _fixed(address={**US_ADDRESS, "country": "GB"}),
            "INVALID_ADDRESS", HEARTH),
    # approveReturn / rejectReturn
    Refusal("approveReturn", "ord-us-not-received", _fixed(returnId="cmb-nope"), "RETURN_NOT_FOUND", THREADLINE),
    Refusal("approveReturn", IN_PROGRESS, _first_return_id(), "NOT_AVAILABLE", THREADLINE),
    Refusal("rejectReturn", "ord-us-not-received", _fixed(returnId="cmb-nope", reason="No"), "RETURN_NOT_FOUND",
            THREADLINE),
    Refusal("rejectReturn", IN_PROGRESS, _first_return_id(reason="Worn"), "NOT_AVAILABLE", THREADLINE),
    Refusal("rejectReturn", "ord-us-not-received", _first_return_id(reason=" "), "REJECTION_REASON_REQUIRED",
            THREADLINE),
    # respondToCancellation
    Refusal("respondToCancellation", "ord-us-cancel-requested", _fixed(cancellationId="cxl-nope", accept=True),
            "CANCELLATION_NOT_FOUND", HEARTH),
    Refusal("respondToCancellation", "ord-us-cancelled-by-buyer", _first_cancellation(accept=True), "NOT_AVAILABLE",
            THREADLINE),
    Refusal("respondToCancellation", "ord-us-cancel-requested", _first_cancellation(accept=False),
            "REJECTION_REASON_REQUIRED", HEARTH),
]
# Codes every mutation answers with the same way, tested for each above: key reuse, a malformed key,
# a retry racing a slow first attempt; and the race between two different requests, tested below.
COMMON_CODES = {"IDEMPOTENCY_KEY_REUSED", "INVALID_IDEMPOTENCY_KEY", "REQUEST_IN_PROGRESS"}


def test_every_user_error_code_is_exercised() -> None:
    from gateway.domain.decisions import UserErrorCode

    tested = {r.code for r in REFUSALS} | COMMON_CODES | {r.code for r in RACES} | {"PACKAGE_NOT_ELIGIBLE"}
    assert tested == {c.value for c in UserErrorCode}
    assert {r.mutation for r in REFUSALS} == set(MUTATIONS)


@pytest.mark.parametrize("case", REFUSALS, ids=lambda r: f"{r.mutation}-{r.code}-{r.order_id}")
async def test_each_refusal_says_why_and_writes_nothing(mocks: MockUpstreams, gateway: Gateway,
                                                        case: Refusal) -> None:
    for n, (field, setup) in enumerate(case.setup):
        done = await _mutate(gateway, field, {**setup, "orderId": case.order_id, "idempotencyKey": f"setup-{n:04d}"},
                             case.who)
        assert done["userErrors"] == [], done
    writes = await _writes(mocks)
    before = await _order(gateway, case.order_id, case.who)
    payload = await _mutate(gateway, case.mutation, {**case.input(before), "orderId": case.order_id,
                                                     "idempotencyKey": "refusal-1234"}, case.who)
    assert case.code in _codes(payload), payload["userErrors"]
    assert all(e["message"] and e["field"] is not None for e in payload["userErrors"])
    if case.message is not None:
        assert any(case.message in e["message"] for e in payload["userErrors"]), payload["userErrors"]
    assert payload.get("return", payload.get("cancellation")) is None
    assert await _writes(mocks) == writes, "a refusal writes nothing"
    assert payload["order"] == before == await _order(gateway, case.order_id, case.who), "and changes nothing"


async def test_reporting_a_parcel_late_that_is_not_late_is_refused(mocks: MockUpstreams) -> None:
    # Ten days on, the freight parcel of the split order is late while the other was delivered.
    async with running_gateway(mocks, clock=TEST_NOW + timedelta(days=10)) as gw:
        late = _action(await _order(gw, "ord-us-split-size"), "REPORT_LATE")
        assert late["available"] and late["packageIds"] == ["pkg-us-split-size-2"]
        payload = await _mutate(gw, "reportLate", {"orderId": "ord-us-split-size", "packageId": "pkg-us-split-size-1",
                                                   "idempotencyKey": "late-delivered-1"})
        assert _codes(payload) == ["PACKAGE_NOT_ELIGIBLE"]
        assert "it has been delivered" in payload["userErrors"][0]["message"]
        assert await _writes(mocks) == {}


# -- two different requests racing for the same thing --------------------------------------------------

@dataclass(frozen=True)
class Race:
    mutation: str
    order_id: str
    input: Input
    route: str
    code: str
    who: Who = Who()


RACES = [
    Race("requestReturn", "ord-us-delivered", _items({"index": 0, "reason": "DAMAGED"}), "returns.batch_create",
         "DUPLICATE_REQUEST"),
    Race("cancelOrder", "ord-us-awaiting-shipment", _fixed(reason="NO_LONGER_NEEDED"), "cancellations.create",
         "DUPLICATE_REQUEST"),
    Race("cancelReturn", IN_PROGRESS, _first_return_id(), "returns.combined_action", "NOT_AVAILABLE"),
    Race("approveReturn", "ord-us-not-received", _first_return_id(), "returns.combined_action", "NOT_AVAILABLE",
         THREADLINE),
]


@pytest.mark.parametrize("case", RACES, ids=lambda r: r.mutation)
async def test_two_different_requests_racing_leave_one_write_and_a_typed_refusal(
        mocks: MockUpstreams, gateway: Gateway, case: Race) -> None:
    request = {**case.input(await _order(gateway, case.order_id, case.who)), "orderId": case.order_id}
    await mocks.fault(_service(case.route), route=case.route, latency_ms=150)
    payloads = await asyncio.gather(*(_mutate(gateway, case.mutation, {**request, "idempotencyKey": f"two-keys-{n}"},
                                              case.who) for n in range(2)))
    assert sorted(_codes(p) for p in payloads) == [[], [case.code]]
    refused = next(p for p in payloads if p["userErrors"])
    assert "refresh it" in refused["userErrors"][0]["message"] or "already in another request" in \
        refused["userErrors"][0]["message"]
    assert (await _writes(mocks))[case.route] == 2, "both reached the upstream, which refused the second"


def _ship_in_the_mocks(mocks: MockUpstreams, order_id: str) -> None:
    """The seller creates the order's labels: the order service and the after-sales service now both have it
    shipped (AWAITING_COLLECTION), as the real ones would a moment after the seller acts."""
    orders = mocks.servers["orders"].app[orders_service.STATE].state
    order = orders.orders[order_id]
    order["status"] = "AWAITING_COLLECTION"
    for line in order["line_items"]:
        line.update(display_status="AWAITING_COLLECTION", package_status="PROCESSING")
    for package in order["packages"]:
        package.update(status="PROCESSING", create_time=int(TEST_NOW.timestamp()))
    aftersales = mocks.servers["aftersales"].app[aftersales_service.STATE].state
    facts = copy.deepcopy(aftersales.facts[order_id])  # the world's own copy stays as built
    for line in facts["lines"].values():
        line["stage"] = "AWAITING_COLLECTION"
    aftersales.facts = {**aftersales.facts, order_id: facts}


async def test_an_order_that_ships_between_the_check_and_the_write_is_a_typed_refusal(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    order_id = "ord-us-awaiting-shipment"
    assert _action(await _order(gateway, order_id), "CANCEL_ORDER")["available"] is True
    request = {"orderId": order_id, "idempotencyKey": "ships-meanwhile-1", "reason": "NO_LONGER_NEEDED"}
    await mocks.fault("aftersales", route="cancellations.create", latency_ms=500, times=1)
    attempt = asyncio.create_task(_mutate(gateway, "cancelOrder", request))

    async def write_arrived() -> None:
        # The mock counts a request before it applies the injected latency: the gateway has checked the
        # order and its write is on the wire, not yet handled.
        while not (await mocks.counters("aftersales")).get("cancellations.create"):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(write_arrived(), timeout=5)
    _ship_in_the_mocks(mocks, order_id)
    payload = await attempt
    # The after-sales service answered 409 NOT_ELIGIBLE (a labelled line cannot be cancelled): a refusal
    # as data, with the order read again, not an upstream error.
    assert _codes(payload) == ["NOT_AVAILABLE"]
    assert "refresh it" in payload["userErrors"][0]["message"]
    assert payload["cancellation"] is None
    after = payload["order"]
    assert [p["status"] for p in after["packages"]] == ["LABEL_CREATED"]
    assert (after["cancellations"], _action(after, "CANCEL_ORDER")["unavailableReason"]) == ([], "ALREADY_SHIPPED")
    assert await _writes(mocks) == {"cancellations.create": 1}
    again = await _mutate(gateway, "cancelOrder", request)
    assert (_codes(again), again["replayed"]) == (["NOT_AVAILABLE"], True)
    assert await _writes(mocks) == {"cancellations.create": 1}, "the refusal is replayed, not retried upstream"


# -- what the shopper is told next ---------------------------------------------------------------------

async def test_a_complete_return_flow_two_reasons_then_an_added_item(mocks: MockUpstreams, gateway: Gateway) -> None:
    items = (await _order(gateway, "ord-us-delivered"))["lineItems"]
    first = await _mutate(gateway, "requestReturn", {
        "orderId": "ord-us-delivered", "idempotencyKey": "flow-request-1",
        "items": [{"lineItemId": items[0]["id"], "reason": "DOES_NOT_FIT"},
                  {"lineItemId": items[1]["id"], "quantity": 2, "reason": "DAMAGED", "note": "torn seam"}]})
    assert first["userErrors"] == [] and first["replayed"] is False
    ret = first["return"]
    assert [(line["reason"], line["quantity"]) for line in ret["lines"]] == [("DOES_NOT_FIT", 1), ("DAMAGED", 2)]
    assert ret["status"] == "APPROVED_AWAITING_SHIPMENT"  # this shop approves automatically
    assert [s["title"] for s in first["nextSteps"]] == ["Pack the items", "Show the QR code", "Drop it off",
                                                         "Get your refund"]
    assert first["order"]["displayStatus"] == "RETURN_IN_PROGRESS"
    assert _action(first["order"], "ADD_ITEMS_TO_RETURN")["available"] is True

    added = await _mutate(gateway, "addItemsToReturn", {
        "orderId": "ord-us-delivered", "returnId": ret["id"], "idempotencyKey": "flow-add-1",
        "items": [{"lineItemId": items[2]["id"], "reason": "NO_LONGER_NEEDED"}]})
    assert added["userErrors"] == []
    assert added["return"]["id"] == ret["id"], "added to the same parcel"
    assert {line["reason"] for line in added["return"]["lines"]} == {"DOES_NOT_FIT", "DAMAGED", "NO_LONGER_NEEDED"}

    # The next request sees the same state: nothing is served stale.
    order = await _order(gateway, "ord-us-delivered")
    assert [g["id"] for g in order["returns"]] == [ret["id"]]
    assert sum(line["quantity"] for line in order["returns"][0]["lines"]) == 4
    assert _action(order, "REQUEST_RETURN")["unavailableReason"] == "ALREADY_IN_RETURN"
    assert [s["state"] for s in order["returns"][0]["steps"]] == ["DONE", "CURRENT", "UPCOMING", "UPCOMING",
                                                                  "UPCOMING"]
    assert await _writes(mocks) == {"returns.batch_create": 2}


async def test_a_replacement_ships_a_new_item_instead_of_a_refund(gateway: Gateway) -> None:
    payload = await _mutate(gateway, "requestReturn", {
        "orderId": "ord-us-delivered", "idempotencyKey": "replace-1", "resolution": "REPLACEMENT",
        "items": [{"lineItemId": "ord-us-delivered-l1", "reason": "DEFECTIVE"}]})
    assert payload["userErrors"] == []
    ret = payload["return"]
    assert (ret["kind"], ret["status"]) == ("REPLACEMENT", "REQUESTED")
    assert [s["title"] for s in payload["nextSteps"]] == [
        "Wait for the seller to review", "Pack the items", "Get your return label", "Get your replacement"]
    assert payload["nextSteps"][-1]["detail"] == "The seller ships a replacement once they receive the return."
    assert not any("refund" in s["title"].lower() or "Refunds" in s["detail"] for s in payload["nextSteps"])
    assert ret["steps"][-1]["label"] == "Replaced"
    order = await _order(gateway, "ord-us-delivered")
    assert _return(order, ret["id"])["instructions"][-1]["title"] == "Get your replacement"


async def test_a_pickup_is_booked_not_a_drop_off_and_added_items_go_the_same_way(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    first = await _mutate(gateway, "requestReturn", {
        "orderId": "ord-us-delivered", "idempotencyKey": "pickup-1", "pickup": True,
        "items": [{"lineItemId": "ord-us-delivered-l1", "reason": "DAMAGED"}]})
    assert first["userErrors"] == []
    titles = [s["title"] for s in first["nextSteps"]]
    assert titles == ["Pack the items", "Show the QR code", "Hand it to the driver", "Get your refund"]
    assert "collects the package from your address" in first["nextSteps"][2]["detail"]
    added = await _mutate(gateway, "addItemsToReturn", {
        "orderId": "ord-us-delivered", "returnId": first["return"]["id"], "idempotencyKey": "pickup-add-1",
        "items": [{"lineItemId": "ord-us-delivered-l4", "reason": "NO_LONGER_NEEDED"}]})
    assert added["userErrors"] == []
    assert "Drop it off" not in [s["title"] for s in added["nextSteps"]]
    status, body = await mocks.call("aftersales", "GET", "/orders/ord-us-delivered/aftersales")
    assert status == 200
    assert [r["handover_method"] for r in body["returns"]] == ["PICKUP", "PICKUP"], "one parcel, one handover"


# -- failures and authorization ------------------------------------------------------------------------

async def test_an_upstream_failure_is_an_error_and_a_retry_with_the_key_completes(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    request = {"orderId": "ord-us-delivered", "idempotencyKey": "fail-then-ok-1",
               "items": [{"lineItemId": "ord-us-delivered-l1", "reason": "DAMAGED"}]}
    await mocks.fault("aftersales", route="returns.batch_create", status=503, times=1)
    failed = await gateway.query(MUTATIONS["requestReturn"].document, {"input": request})
    assert failed["errors"][0]["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": "aftersales"}
    assert await _writes(mocks) == {"returns.batch_create": 1}, "a failed write is not retried by the gateway"
    retried = await _mutate(gateway, "requestReturn", request)
    assert retried["userErrors"] == [] and retried["return"] is not None
    assert len((await _order(gateway, "ord-us-delivered"))["returns"]) == 1


async def test_a_lost_response_then_a_retry_does_not_duplicate_upstream(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, upstream_timeout=0.3) as gw:
        request = {"orderId": "ord-us-delivered", "idempotencyKey": "lost-response-1",
                   "items": [{"lineItemId": "ord-us-delivered-l1", "reason": "DAMAGED"}]}
        await mocks.fault("aftersales", route="returns.batch_create", latency_ms=600, times=1)
        timed_out = await gw.query(MUTATIONS["requestReturn"].document, {"input": request})
        assert timed_out["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
        await asyncio.sleep(0.5)  # the after-sales service finishes the write the gateway stopped waiting for
        retried = await _mutate(gw, "requestReturn", request)
        assert retried["userErrors"] == []
        assert len((await _order(gw, "ord-us-delivered"))["returns"]) == 1, \
            "the upstream idempotency key made the retry a replay"


async def test_nobody_acts_on_an_order_that_is_not_theirs(mocks: MockUpstreams, gateway: Gateway) -> None:
    document = MUTATIONS["requestReturn"].document
    request = {"input": {"orderId": "ord-us-delivered", "idempotencyKey": "not-mine-0001",
                         "items": [{"lineItemId": "ord-us-delivered-l1", "reason": "DAMAGED"}]}}
    as_bob = await gateway.query(document, request, as_=BOB)
    unknown = await gateway.query(document, {"input": {**request["input"], "orderId": "ord-nope"}}, as_=BOB)
    assert as_bob["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert as_bob["errors"][0]["message"].replace("ord-us-delivered", "X") == \
        unknown["errors"][0]["message"].replace("ord-nope", "X")
    approve = MUTATIONS["approveReturn"].document
    other_shop = await gateway.query(approve, {"input": {"orderId": "ord-us-not-received", "returnId": "x",
                                                         "idempotencyKey": "other-shop-1"}}, **HEARTH.kw)
    assert other_shop["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    buyer_as_seller = await gateway.query(approve, {"input": {"orderId": "ord-us-not-received", "returnId": "x",
                                                              "idempotencyKey": "buyer-approve"}})
    assert buyer_as_seller["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    seller_as_buyer = await gateway.query(document, request, **THREADLINE.kw)
    assert seller_as_buyer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _writes(mocks) == {}


# -- the idempotency stores on their own -----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_store_waits_no_longer_than_it_is_told_then_says_in_progress(kind: str) -> None:
    async def check(store: Any) -> None:
        assert isinstance(await store.claim("k-1", "fp"), Claimed)
        started = time.monotonic()
        assert isinstance(await store.claim("k-1", "fp", 0.2), InProgress)
        assert 0.15 < time.monotonic() - started < 1.0
        waiter = asyncio.create_task(store.claim("k-1", "fp", 5.0))
        await asyncio.sleep(0.1)
        await store.finish("k-1", "fp", {"return_id": "r-1"})
        assert await waiter == Replay({"return_id": "r-1"}), "a waiter still gets the result when it comes in time"

    if kind == "memory":
        await check(MemoryIdempotencyStore())
        return
    with redis_server() as url:
        client = connect(url)
        try:
            await check(RedisIdempotencyStore(client))
        finally:
            await client.aclose()
