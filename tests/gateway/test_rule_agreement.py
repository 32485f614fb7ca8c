"""One rule source, property-style: every scenario and a sample of generated orders, every mutation tried
with every item x reason x resolution (and every package, return and cancellation of the order), over
real HTTP. Each attempt must be accepted exactly when the order's AfterSalesAction says so: the action is
available, and the item, quantity, reason, resolution, package, return or cancellation asked for is in
its lists. Each attempt sees the order as listed: after an accepted write the mocks are reset (an
accepted return request is withdrawn instead, which is much cheaper, once the order's REQUEST_RETURN
action is seen to be exactly as before).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway.auth import Role
from gateway.domain.model import ReturnKind
from gateway.domain.policy import ReturnReason
from mocks.catalog import SCENARIOS, build_world
from mocks.service import MockConfig
from tests.harness import Gateway, running_gateway
from tests.upstreams import SERVICES, TEST_NOW, MockUpstreams, running_mocks

ORDER = """query($id: ID!) { order(id: $id) {
  id market lineItems { id quantity }
  packages { id }
  returns { id kind }
  cancellations { id }
  afterSalesActions { kind available packageIds returnIds cancellationIds
    items { quantity lineItem { id } reasons { code resolutions } } }
} }"""

RESULT = "userErrors { code message } replayed"
MUTATIONS = {
    "CANCEL_ORDER": ("cancelOrder", "CancelOrderInput", f"cancellation {{ id }} {RESULT}"),
    "CANCEL_ITEMS": ("cancelItems", "CancelItemsInput", f"cancellation {{ id }} {RESULT}"),
    "CHANGE_ADDRESS": ("changeShippingAddress", "ChangeShippingAddressInput", f"order {{ id }} {RESULT}"),
    "REQUEST_RETURN": ("requestReturn", "RequestReturnInput", f"return {{ id }} {RESULT}"),
    "ADD_ITEMS_TO_RETURN": ("addItemsToReturn", "AddItemsToReturnInput", f"return {{ id }} {RESULT}"),
    "CANCEL_RETURN": ("cancelReturn", "ReturnChangeInput", f"return {{ id }} {RESULT}"),
    "REPORT_NOT_RECEIVED": ("reportNotReceived", "ReportPackageInput", f"return {{ id }} {RESULT}"),
    "REPORT_LATE": ("reportLate", "ReportPackageInput", f"return {{ id }} {RESULT}"),
    "APPROVE_RETURN": ("approveReturn", "ReturnChangeInput", f"return {{ id }} {RESULT}"),
    "REJECT_RETURN": ("rejectReturn", "RejectReturnInput", f"return {{ id }} {RESULT}"),
    "RESPOND_TO_CANCELLATION": ("respondToCancellation", "RespondToCancellationInput",
                                f"cancellation {{ id }} {RESULT}"),
    "UPDATE_ADDRESS": ("updateShippingAddress", "ChangeShippingAddressInput", f"order {{ id }} {RESULT}"),
}
SELLER_KINDS = {"APPROVE_RETURN", "REJECT_RETURN", "RESPOND_TO_CANCELLATION", "UPDATE_ADDRESS"}
ADDRESSES = {
    "US": {"name": "Alice Johnson", "line1": "9 Elm Street", "city": "Springfield", "region": "IL",
           "postalCode": "62701", "country": "US"},
    "UK": {"name": "Olivia Smith", "line1": "22 Canal Street", "city": "Manchester", "region": "",
           "postalCode": "M1 3HE", "country": "GB"},
}
# Every code of the schema's enums, not only the market's: a reason of the other market, or one the
# picker never offers (NOT_RECEIVED, LATE), must be refused like any other unlisted one.
REASONS = [r.value for r in ReturnReason]
RESOLUTIONS = [k.value for k in ReturnKind]
# Every scenario, and every GENERATED_EVERY-th generated order (the invariants' seed, in a smaller world: a
# reset rebuilds the whole world, so its size sets the pace).
GENERATED, SEED, GENERATED_EVERY = 40, 11, 2


@dataclass(frozen=True)
class Attempt:
    input: dict[str, Any]
    expected: bool  # what the action says: accepted?


def _listed(action: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The action's items by line item id (none when it is unavailable)."""
    return {i["lineItem"]["id"]: i for i in action["items"]} if action["available"] else {}


def _allows(item: dict[str, Any] | None, reason: str, resolution: str) -> bool:
    option = next((o for o in item["reasons"] if o["code"] == reason), None) if item else None
    return option is not None and resolution in option["resolutions"]


def _return_attempts(order: dict[str, Any], action: dict[str, Any]) -> Iterator[Attempt]:
    listed = _listed(action)
    for line in order["lineItems"]:
        item = listed.get(line["id"])
        # An item the action does not list is refused whatever is asked: one resolution per reason is enough.
        resolutions = RESOLUTIONS if item is not None else RESOLUTIONS[:1]
        for reason, resolution in itertools.product(REASONS, resolutions):
            yield Attempt({"items": [{"lineItemId": line["id"], "reason": reason}], "resolution": resolution},
                          _allows(item, reason, resolution))
        if item is not None:
            reason = item["reasons"][0]
            for quantity in (item["quantity"], item["quantity"] + 1):
                yield Attempt({"items": [{"lineItemId": line["id"], "reason": reason["code"], "quantity": quantity}],
                               "resolution": reason["resolutions"][0]}, quantity <= item["quantity"])


def _add_items_attempts(order: dict[str, Any], action: dict[str, Any]) -> Iterator[Attempt]:
    listed = _listed(action)
    # An added item joins the return's parcel and takes its resolution: the action lists only reasons some
    # open return can take, each with exactly those returns' resolutions (so nothing listed is refused).
    open_kinds = {r["kind"] for r in order["returns"] if r["id"] in action["returnIds"]}
    for item in listed.values():
        assert item["reasons"], (order["id"], item)
        for option in item["reasons"]:
            assert option["resolutions"] and set(option["resolutions"]) <= open_kinds, (order["id"], option)
    for ret in order["returns"] or [{"id": "cmb-none", "kind": "RETURN_AND_REFUND"}]:
        open_ = ret["id"] in action["returnIds"]
        for line in order["lineItems"]:
            item = listed.get(line["id"])
            for reason in REASONS:
                yield Attempt({"returnId": ret["id"], "items": [{"lineItemId": line["id"], "reason": reason}]},
                              open_ and _allows(item, reason, ret["kind"]))
            if item is not None and open_:
                yield Attempt({"returnId": ret["id"], "items": [{"lineItemId": line["id"], "quantity": item["quantity"]
                                                                 + 1, "reason": item["reasons"][0]["code"]}]}, False)


def _cancel_items_attempts(order: dict[str, Any], action: dict[str, Any]) -> Iterator[Attempt]:
    listed = _listed(action)
    for line in order["lineItems"]:
        item = listed.get(line["id"])
        most = item["quantity"] if item else 0
        for quantity in sorted({1, most, most + 1} - {0}):
            yield Attempt({"reason": "NO_LONGER_NEEDED", "items": [{"lineItemId": line["id"], "quantity": quantity}]},
                          quantity <= most)


def attempts(kind: str, order: dict[str, Any], action: dict[str, Any]) -> Iterator[Attempt]:
    available = action["available"]
    if kind == "REQUEST_RETURN":
        yield from _return_attempts(order, action)
    elif kind == "ADD_ITEMS_TO_RETURN":
        yield from _add_items_attempts(order, action)
    elif kind == "CANCEL_ITEMS":
        yield from _cancel_items_attempts(order, action)
    elif kind == "CANCEL_ORDER":
        yield Attempt({"reason": "NO_LONGER_NEEDED"}, available)
    elif kind in ("CHANGE_ADDRESS", "UPDATE_ADDRESS"):
        yield Attempt({"address": ADDRESSES[order["market"]]}, available)
    elif kind in ("CANCEL_RETURN", "APPROVE_RETURN", "REJECT_RETURN"):
        reason = {"reason": "Item shows signs of use"} if kind == "REJECT_RETURN" else {}
        for ret in [r["id"] for r in order["returns"]] or ["cmb-none"]:
            yield Attempt({"returnId": ret, **reason}, available and ret in action["returnIds"])
    elif kind in ("REPORT_NOT_RECEIVED", "REPORT_LATE"):
        for package in [None, *(p["id"] for p in order["packages"])]:
            yield Attempt({"packageId": package}, available and (package is None or package in action["packageIds"]))
    elif kind == "RESPOND_TO_CANCELLATION":
        for cancellation in [c["id"] for c in order["cancellations"]] or ["cxl-none"]:
            for answer in ({"accept": True}, {"accept": False, "reason": "Already packed"}):
                yield Attempt({"cancellationId": cancellation, **answer},
                              available and cancellation in action["cancellationIds"])
    else:
        raise AssertionError(kind)


async def _reset(mocks: MockUpstreams) -> None:
    for service in SERVICES:
        await mocks.control(service, "POST", "reset")


def _orders() -> list[tuple[str, str, str]]:
    """(order, buyer, shop) for every scenario and the sample of generated orders."""
    world = build_world(TEST_NOW, seed=SEED, generated=GENERATED)
    named = {s.id for s in SCENARIOS}
    generated = sorted(o["id"] for o in world.orders.values() if o["id"] not in named)[::GENERATED_EVERY]
    return [(s.id, s.buyer.id, s.shop.id) for s in SCENARIOS] + [
        (oid, world.orders[oid]["buyer_user_id"], world.orders[oid]["shop_id"]) for oid in generated]


def _action(order: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(a for a in order["afterSalesActions"] if a["kind"] == kind)


async def _undo_return(gateway: Gateway, mocks: MockUpstreams, order_id: str, buyer: str, return_id: str,
                       before: dict[str, Any]) -> bool:
    """Withdraw a return just created; True when the order offers returns exactly as before."""
    status, _ = await mocks.call("aftersales", "POST", f"/combined_returns/{return_id}/cancel",
                                 json={"buyer_user_id": buyer})
    body = await gateway.query(ORDER, {"id": order_id}, as_=buyer)
    return status == 200 and _action(body["data"]["order"], "REQUEST_RETURN") == before


async def _check_order(gateway: Gateway, mocks: MockUpstreams, order_id: str, buyer: str, shop: str,
                       keys: Iterator[int], checked: Counter[tuple[str, bool]]) -> None:
    sides = {
        Role.BUYER: {"as_": buyer},
        Role.SELLER: {"as_": "seller-user", "role": Role.SELLER, "shop_id": shop},
    }
    for role, who in sides.items():
        body = await gateway.query(ORDER, {"id": order_id}, **who)
        assert "errors" not in body, (order_id, body)
        order = body["data"]["order"]
        for kind, (field, input_type, selection) in MUTATIONS.items():
            if (kind in SELLER_KINDS) != (role is Role.SELLER):
                continue
            action = _action(order, kind)
            withdrawn = False  # some returns were withdrawn rather than reset away
            mutation = f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {selection} }} }}"
            for attempt in attempts(kind, order, action):
                request = {**attempt.input, "orderId": order_id, "idempotencyKey": f"agree-{next(keys):06d}"}
                result = await gateway.query(mutation, {"input": request}, **who)
                assert "errors" not in result, (order_id, kind, request, result)
                payload = result["data"][field]
                accepted = not payload["userErrors"]
                assert accepted == attempt.expected, (order_id, kind, request, action, payload["userErrors"])
                if accepted:
                    created = payload.get("return") or payload.get("cancellation") or payload.get("order")
                    assert created is not None, (order_id, kind, request)
                    if kind == "REQUEST_RETURN" and await _undo_return(gateway, mocks, order_id, buyer,
                                                                       created["id"], action):
                        withdrawn = True
                    else:
                        await _reset(mocks)
                checked[(kind, accepted)] += 1
            if withdrawn:
                await _reset(mocks)


async def test_every_mutation_is_accepted_exactly_when_its_action_and_its_lists_say_so() -> None:
    checked: Counter[tuple[str, bool]] = Counter()
    keys = itertools.count()
    config = MockConfig(now=TEST_NOW, generated=GENERATED, seed=SEED)
    async with running_mocks(config) as mocks, running_gateway(mocks) as gateway:
        for order_id, buyer, shop in _orders():
            await _check_order(gateway, mocks, order_id, buyer, shop, keys, checked)
    # Every action was seen both accepted and refused somewhere.
    for kind in MUTATIONS:
        assert checked[(kind, True)], f"{kind} was never accepted"
        assert checked[(kind, False)], f"{kind} was never refused"
