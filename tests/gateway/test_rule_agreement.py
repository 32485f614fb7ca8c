"""One rule source: for every scenario and every action with a mutation, the mutation is accepted
exactly when the order's AfterSalesAction says the action is available."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gateway.auth import Role
from mocks.catalog import SCENARIOS
from tests.harness import Gateway
from tests.upstreams import SERVICES, MockUpstreams

ORDER = """query($id: ID!) { order(id: $id) {
  id market seller { id } lineItems { id }
  packages { id status }
  returns { id }
  cancellations { id status }
  afterSalesActions { kind available packageIds returnIds
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
FALLBACK_REASON = {"US": "NO_LONGER_NEEDED", "UK": "NO_LONGER_NEEDED"}


def _input(kind: str, order: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    """The most ordinary request for this action: taken from the action when it's offered, else the
    order's own first item / package / return, so a refusal can only come from availability."""
    base = {"orderId": order["id"], "idempotencyKey": f"agree-{kind}-{order['id']}"}
    first_item = action["items"][0] if action["items"] else None
    item_id = first_item["lineItem"]["id"] if first_item else order["lineItems"][0]["id"]
    reason = first_item["reasons"][0] if first_item and first_item["reasons"] else None
    return_id = (action["returnIds"] or [g["id"] for g in order["returns"]] or ["ret-none"])[0]
    package_id = (action["packageIds"] or [p["id"] for p in order["packages"]] or [None])[0]
    if kind == "CANCEL_ORDER":
        return {**base, "reason": "NO_LONGER_NEEDED"}
    if kind == "CANCEL_ITEMS":
        return {**base, "reason": "NO_LONGER_NEEDED", "items": [{"lineItemId": item_id, "quantity": 1}]}
    if kind in ("CHANGE_ADDRESS", "UPDATE_ADDRESS"):
        return {**base, "address": ADDRESSES[order["market"]]}
    if kind in ("REQUEST_RETURN", "ADD_ITEMS_TO_RETURN"):
        code = reason["code"] if reason else FALLBACK_REASON[order["market"]]
        entry = {"lineItemId": item_id, "quantity": 1, "reason": code}
        if kind == "ADD_ITEMS_TO_RETURN":
            return {**base, "returnId": return_id, "items": [entry]}
        resolution = reason["resolutions"][0] if reason else "RETURN_AND_REFUND"
        return {**base, "items": [entry], "resolution": resolution}
    if kind in ("CANCEL_RETURN", "APPROVE_RETURN"):
        return {**base, "returnId": return_id}
    if kind == "REJECT_RETURN":
        return {**base, "returnId": return_id, "reason": "Item shows signs of use"}
    if kind in ("REPORT_NOT_RECEIVED", "REPORT_LATE"):
        return {**base, "packageId": package_id}
    if kind == "RESPOND_TO_CANCELLATION":
        pending = [c["id"] for c in order["cancellations"] if c["status"] == "REQUESTED"]
        return {**base, "cancellationId": (pending or ["cxl-none"])[0], "accept": True}
    raise AssertionError(kind)


async def _reset(mocks: MockUpstreams) -> None:
    for service in SERVICES:
        await mocks.control(service, "POST", "reset")


async def test_every_mutation_is_accepted_exactly_when_its_action_is_available(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    checked: dict[tuple[str, bool], int] = {}
    for scenario in SCENARIOS:
        buyer = scenario.buyer.id
        for kind, (field, input_type, selection) in MUTATIONS.items():
            seller = kind in SELLER_KINDS
            as_who: Callable[..., Awaitable[dict[str, Any]]]
            if seller:
                async def as_who(q: str, v: dict[str, Any], shop: str = scenario.shop.id) -> dict[str, Any]:
                    return await gateway.query(q, v, as_="seller-user", role=Role.SELLER, shop_id=shop)
            else:
                async def as_who(q: str, v: dict[str, Any], who: str = buyer) -> dict[str, Any]:
                    return await gateway.query(q, v, as_=who)
            body = await as_who(ORDER, {"id": scenario.id})
            assert "errors" not in body, (scenario.id, body)
            order = body["data"]["order"]
            action = next(a for a in order["afterSalesActions"] if a["kind"] == kind)
            mutation = f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {selection} }} }}"
            result = await as_who(mutation, {"input": _input(kind, order, action)})
            assert "errors" not in result, (scenario.id, kind, result)
            payload = result["data"][field]
            accepted = not payload["userErrors"]
            assert accepted == action["available"], (scenario.id, kind, action, payload["userErrors"])
            if accepted:
                created = payload.get("return") or payload.get("cancellation") or payload.get("order")
                assert created is not None, (scenario.id, kind)
                await _reset(mocks)
            checked[(kind, accepted)] = checked.get((kind, accepted), 0) + 1
    # Every action was seen both offered and refused somewhere in the catalogue.
    for kind in MUTATIONS:
        assert checked.get((kind, True)), f"{kind} was never available in any scenario"
        assert checked.get((kind, False)), f"{kind} was never unavailable in any scenario"
