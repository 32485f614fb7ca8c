"""What the write routes do to the mocks' state: the return and cancellation lifecycles, and addresses.

Every exchange is checked against the OpenAPI documents on the way (``Contract.call``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.mocks.contract import Contract, cancel_id, combined_id, return_id, scenario_world
from tests.upstreams import TEST_NOW

NOW = int(TEST_NOW.timestamp())
DAY = 86400
ALICE, OLIVIA = "buyer-us-alice", "buyer-uk-olivia"
THREADLINE = "shop-us-threadline"
RETURN = "ecom_order_delivered_refund_and_return_reason_"


def new_return(order_id: str, lines: list[str], return_type: str = "RETURN_AND_REFUND", reason: str = "damaged",
               **extra: Any) -> dict[str, Any]:
    buyer = scenario_world().orders[order_id]["buyer_user_id"]
    return {"order_id": order_id, "buyer_user_id": buyer, "return_type": return_type,
            "return_reason": RETURN + reason, "order_line_item_ids": lines, **extra}


async def create_return(contract: Contract, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    result: dict[str, Any] = (await contract.call("aftersales", "POST", "/returns", json=body, expect=expect)).body
    return result


async def cancellation(contract: Contract, order_id: str, role: str = "BUYER", expect: int = 201,
                       **extra: Any) -> dict[str, Any]:
    order = scenario_world().orders[order_id]
    who = {"buyer_user_id": order["buyer_user_id"]} if role == "BUYER" else {"shop_id": order["shop_id"]}
    body = {"order_id": order_id, "role": role, "cancel_reason": "cancel_reason_no_longer_needed", **who, **extra}
    result: dict[str, Any] = (await contract.call("aftersales", "POST", "/cancellations", json=body,
                                                  expect=expect)).body
    return result


# ---- returns --------------------------------------------------------------------------------------


async def test_an_auto_approved_return_gets_a_label_at_once(contract: Contract) -> None:
    ret = (await create_return(contract, new_return("ord-uk-delivered", ["ord-uk-delivered-l1"],
                                                    reason="too_small", buyer_note="Runs small")))["return"]
    assert ret["return_status"] == "AWAITING_BUYER_SHIP"
    assert (ret["return_shipping_document_type"], ret["return_provider_name"]) == ("QR_CODE", "Royal Mail")
    assert ret["return_tracking_number"].endswith("GB")
    assert (ret["approve_time"], ret["ship_due_time"]) == (NOW, NOW + 14 * DAY)
    assert ret["seller_next_action_response"] == [] and ret["can_buyer_keep_item"] is False
    assert ret["combined_return_id"] == f"cmb-{ret['return_id']}"
    assert (ret["create_time"], ret["update_time"], ret["buyer_note"]) == (NOW, NOW, "Runs small")
    assert ret["return_reason_text"] == "Too small or too short"


async def test_a_returnless_refund_waits_for_the_seller_and_refunds_price_plus_tax(contract: Contract) -> None:
    lines = ["ord-us-delivered-l2", "ord-us-delivered-l3"]
    ret = (await create_return(contract, new_return("ord-us-delivered", lines, return_type="REFUND")))["return"]
    assert ret["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING" and ret["can_buyer_keep_item"] is True
    assert ret["seller_next_action_response"] == [{"action": "SELLER_RESPOND_RETURN", "deadline": NOW + DAY}]
    assert ret["return_tracking_number"] is None and ret["approve_time"] is None
    prices = {line["id"]: Decimal(line["sale_price"]) for line in scenario_world().orders["ord-us-delivered"][
        "line_items"]}
    subtotal = sum(prices[line] for line in lines)
    assert Decimal(ret["refund_amount"]["refund_subtotal"]) == subtotal
    assert Decimal(ret["refund_amount"]["refund_tax"]) == (subtotal * Decimal("0.08")).quantize(Decimal("0.01"))
    assert ret["refund_amount"]["refund_shipping_fee"] == "0.00"
    for line in ret["return_line_items"]:
        expected = (prices[line["order_line_item_id"]] * Decimal("1.08")).quantize(Decimal("0.01"))
        assert Decimal(line["refund_amount"]["refund_total"]) == expected
    approved = (await contract.call("aftersales", "POST", f"/returns/{ret['return_id']}/approve",
                                    json={"shop_id": THREADLINE}, expect=200)).body["return"]
    assert approved["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS" and approved["approve_time"] == NOW


async def test_adding_to_an_approved_parcel_shares_its_label(contract: Contract) -> None:
    group = combined_id("ord-uk-return-in-progress")
    first = (await contract.call("aftersales", "GET", f"/returns/{return_id('ord-uk-return-in-progress')}",
                                 expect=200)).body["return"]
    added = (await create_return(contract, new_return(
        "ord-uk-return-in-progress", ["ord-uk-return-in-progress-l3"], reason="wrong_item",
        combined_return_id=group)))["return"]
    assert added["combined_return_id"] == group
    assert added["return_status"] == "AWAITING_BUYER_SHIP"
    assert added["return_tracking_number"] == first["return_tracking_number"]


async def test_a_parcel_that_has_shipped_back_cannot_take_more_items(contract: Contract) -> None:
    order = scenario_world().orders["ord-uk-batch-return"]
    free = [line["id"] for line in order["line_items"]
            if line["id"] not in {li["order_line_item_id"] for r in scenario_world().returns.values()
                                  for li in r["return_line_items"]}]
    body = new_return("ord-uk-batch-return", free or ["ord-uk-batch-return-l1"],
                      combined_return_id=combined_id("ord-uk-batch-return"))
    result = await create_return(contract, body, expect=409)
    assert result["error"]["code"] in ("RETURN_NOT_OPEN", "DUPLICATE_REQUEST")
    shipped = await contract.call("aftersales", "POST", f"/returns/{return_id('ord-uk-batch-return')}/cancel",
                                  json={"buyer_user_id": OLIVIA}, expect=409)
    assert shipped.body["error"]["code"] == "RETURN_NOT_OPEN"


async def test_a_line_is_in_one_live_return_at_a_time_until_it_is_withdrawn_or_rejected(
    contract: Contract,
) -> None:
    body = new_return("ord-us-delivered", ["ord-us-delivered-l1"], return_type="REFUND")
    first = (await create_return(contract, body))["return"]
    again = await create_return(contract, body, expect=409)
    assert (again["error"]["code"], again["error"]["field"]) == ("DUPLICATE_REQUEST", "order_line_item_ids")
    await contract.call("aftersales", "POST", f"/returns/{first['return_id']}/cancel",
                        json={"buyer_user_id": ALICE}, expect=200)
    second = (await create_return(contract, body))["return"]
    await contract.call("aftersales", "POST", f"/returns/{second['return_id']}/reject",
                        json={"shop_id": THREADLINE, "reject_reason": "Outside policy"}, expect=200)
    third = (await create_return(contract, body))["return"]
    assert len({first["return_id"], second["return_id"], third["return_id"]}) == 3


async def test_lines_in_a_live_cancellation_cannot_be_returned(contract: Contract) -> None:
    cxl = scenario_world().cancellations[cancel_id("ord-us-cancel-requested")]
    lines = [line["order_line_item_id"] for line in cxl["cancel_line_items"]]
    result = await create_return(contract, new_return("ord-us-cancel-requested", lines), expect=409)
    assert result["error"]["code"] == "DUPLICATE_REQUEST"


async def test_seller_actions_need_a_pending_return(contract: Contract) -> None:
    for action, body in (("approve", {"shop_id": THREADLINE}),
                         ("reject", {"shop_id": THREADLINE, "reject_reason": "x"})):
        exchange = await contract.call("aftersales", "POST",
                                       f"/returns/{return_id('ord-us-return-in-progress')}/{action}",
                                       json=body, expect=409)
        assert exchange.body["error"]["code"] == "NOT_PENDING"


async def test_a_batch_request_makes_one_return_per_reason_in_one_parcel(contract: Contract) -> None:
    body = {"order_id": "ord-uk-delivered", "buyer_user_id": OLIVIA, "return_type": "REFUND", "groups": [
        {"return_reason": RETURN + "too_big", "order_line_item_ids": ["ord-uk-delivered-l1"]},
        {"return_reason": RETURN + "quality", "order_line_item_ids": ["ord-uk-delivered-l2", "ord-uk-delivered-l3"],
         "buyer_note": "Thin"}]}
    created = await contract.call("aftersales", "POST", "/returns/batch_create", json=body, expect=201)
    returns = created.body["returns"]
    assert [r["return_reason"] for r in returns] == [RETURN + "too_big", RETURN + "quality"]
    assert [len(r["return_line_items"]) for r in returns] == [1, 2]
    assert len({r["combined_return_id"] for r in returns}) == 1
    assert [r["buyer_note"] for r in returns] == [None, "Thin"]
    # The seller approves the whole parcel at once.
    group = returns[0]["combined_return_id"]
    shop = scenario_world().orders["ord-uk-delivered"]["shop_id"]
    approved = (await contract.call("aftersales", "POST", f"/combined_returns/{group}/approve", json={"shop_id": shop},
                                    expect=200)).body["returns"]
    assert {r["return_status"] for r in approved} == {"RETURN_OR_REFUND_REQUEST_SUCCESS"}


async def test_a_batch_request_with_one_bad_group_creates_nothing(contract: Contract) -> None:
    body = {"order_id": "ord-uk-delivered", "buyer_user_id": OLIVIA, "return_type": "REFUND", "groups": [
        {"return_reason": RETURN + "too_big", "order_line_item_ids": ["ord-uk-delivered-l1"]},
        {"return_reason": RETURN + "not_fit", "order_line_item_ids": ["ord-uk-delivered-l2"]}]}  # US only
    await contract.call("aftersales", "POST", "/returns/batch_create", json=body, expect=400)
    record = (await contract.call("aftersales", "GET", "/orders/ord-uk-delivered/aftersales", expect=200)).body
    assert record["returns"] == []


async def test_a_parcel_wide_move_is_all_or_nothing(contract: Contract) -> None:
    body = {"order_id": "ord-us-delivered", "buyer_user_id": ALICE, "return_type": "REFUND", "groups": [
        {"return_reason": RETURN + "damaged", "order_line_item_ids": ["ord-us-delivered-l1"]},
        {"return_reason": RETURN + "defective", "order_line_item_ids": ["ord-us-delivered-l2"]}]}
    first, second = (await contract.call("aftersales", "POST", "/returns/batch_create", json=body,
                                         expect=201)).body["returns"]
    await contract.call("aftersales", "POST", f"/returns/{first['return_id']}/approve", json={"shop_id": THREADLINE},
                        expect=200)
    refused = await contract.call("aftersales", "POST", f"/combined_returns/{first['combined_return_id']}/reject",
                                  json={"shop_id": THREADLINE, "reject_reason": "No"}, expect=409)
    assert refused.body["error"]["code"] == "NOT_PENDING"
    untouched = (await contract.call("aftersales", "GET", f"/returns/{second['return_id']}", expect=200)).body
    assert untouched["return"]["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"


# ---- cancellations --------------------------------------------------------------------------------


async def test_a_buyer_cancel_inside_the_free_hour_completes_at_once(contract: Contract) -> None:
    cxl = (await cancellation(contract, "ord-us-on-hold"))["cancellation"]
    assert (cxl["cancel_status"], cxl["cancel_type"], cxl["role"]) == (
        "CANCELLATION_REQUEST_COMPLETE", "BUYER_CANCEL", "BUYER")
    assert cxl["seller_next_action_response"] == []
    assert len(cxl["cancel_line_items"]) == len(scenario_world().orders["ord-us-on-hold"]["line_items"])


async def test_a_buyer_cancel_after_the_free_hour_waits_for_the_seller(contract: Contract) -> None:
    cxl = (await cancellation(contract, "ord-uk-awaiting-shipment"))["cancellation"]
    assert cxl["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    assert cxl["seller_next_action_response"] == [{"action": "SELLER_RESPOND_CANCEL", "deadline": NOW + DAY}]
    shop = scenario_world().orders["ord-uk-awaiting-shipment"]["shop_id"]
    rejected = (await contract.call("aftersales", "POST", f"/cancellations/{cxl['cancel_id']}/reject",
                                    json={"shop_id": shop, "reject_reason": "Already packed"}, expect=200)).body
    assert rejected["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_CANCEL"
    assert rejected["cancellation"]["reject_reason"] == "Already packed"
    # A turned-down request frees the lines for a new one.
    await cancellation(contract, "ord-uk-awaiting-shipment")
    await cancellation(contract, "ord-uk-awaiting-shipment", expect=409)


async def test_a_seller_cancels_one_line_at_once(contract: Contract) -> None:
    cxl = (await cancellation(contract, "ord-uk-split-backorder", role="SELLER",
                              order_line_item_ids=["ord-uk-split-backorder-l2"],
                              cancel_reason="cancel_reason_out_of_stock"))["cancellation"]
    assert (cxl["cancel_status"], cxl["cancel_type"], cxl["role"]) == (
        "CANCELLATION_REQUEST_COMPLETE", "CANCEL", "SELLER")
    assert [line["order_line_item_id"] for line in cxl["cancel_line_items"]] == ["ord-uk-split-backorder-l2"]
    assert cxl["refund_amount"]["currency"] == "GBP"


async def test_an_unpaid_order_is_cancelled_at_once_with_nothing_to_refund(contract: Contract) -> None:
    cxl = (await cancellation(contract, "ord-uk-awaiting-payment"))["cancellation"]
    assert cxl["cancel_status"] == "CANCELLATION_REQUEST_COMPLETE"
    assert {k: v for k, v in cxl["refund_amount"].items() if k != "currency"} == {
        "refund_total": "0.00", "refund_subtotal": "0.00", "refund_shipping_fee": "0.00", "refund_tax": "0.00"}


async def test_a_cancelled_order_cannot_be_cancelled_again(contract: Contract) -> None:
    result = await cancellation(contract, "ord-uk-cancelled-by-buyer", expect=409)
    assert result["error"]["code"] == "DUPLICATE_REQUEST"


# ---- addresses ------------------------------------------------------------------------------------


async def test_an_address_change_keeps_what_it_does_not_mention(contract: Contract) -> None:
    before = scenario_world().orders["ord-uk-awaiting-shipment"]["recipient_address"]
    change = {"address_line1": "22 Deansgate", "city": "Manchester", "postal_code": "M3 4LY", "region_code": "GB"}
    order = (await contract.call("orders", "POST", "/orders/ord-uk-awaiting-shipment/recipient_address",
                                 json=change, expect=200)).body["order"]
    assert order["recipient_address"] == {**before, **change}
    assert (order["has_updated_recipient_address"], order["update_time"]) == (True, NOW)
    assert (await contract.call("orders", "GET", "/orders/ord-uk-awaiting-shipment", expect=200)).body == {
        "order": order}


async def test_an_address_is_locked_once_anything_is_on_its_way(contract: Contract) -> None:
    change = {"address_line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "region_code": "US"}
    for order_id in ("ord-us-label-created", "ord-us-split-backorder", "ord-us-delivered", "ord-us-lost"):
        exchange = await contract.call("orders", "POST", f"/orders/{order_id}/recipient_address", json=change,
                                       expect=409)
        assert exchange.body["error"]["code"] == "ADDRESS_LOCKED", order_id
    for order_id in ("ord-us-awaiting-payment", "ord-us-on-hold", "ord-us-luxury-authenticating"):
        await contract.call("orders", "POST", f"/orders/{order_id}/recipient_address", json=change, expect=200)


async def test_an_address_change_keeps_optional_fields_sent_as_null_and_clears_empty_ones(
    contract: Contract,
) -> None:
    before = scenario_world().orders["ord-uk-awaiting-shipment"]["recipient_address"]
    assert before["name"] and before["phone_number"]
    change = {"address_line1": "22 Deansgate", "city": "Manchester", "postal_code": "M3 4LY", "region_code": "GB",
              "name": None, "phone_number": None, "address_line2": "", "state": None}
    order = (await contract.call("orders", "POST", "/orders/ord-uk-awaiting-shipment/recipient_address",
                                 json=change, expect=200)).body["order"]
    assert order["recipient_address"] == {**before, "address_line1": "22 Deansgate", "city": "Manchester",
                                          "postal_code": "M3 4LY", "region_code": "GB", "address_line2": ""}


# ---- refunds and vocabulary -----------------------------------------------------------------------


async def test_a_whole_order_cancellation_refunds_shipping_like_the_catalogue(contract: Contract) -> None:
    catalogued = scenario_world().cancellations[cancel_id("ord-us-cancel-requested")]["refund_amount"]
    shipping = scenario_world().orders["ord-us-awaiting-shipment"]["payment"]["shipping_fee"]
    assert catalogued["refund_shipping_fee"] != "0.00"  # the catalogue's own whole-order cancellation
    cxl = (await cancellation(contract, "ord-us-awaiting-shipment", role="SELLER"))["cancellation"]
    amount = cxl["refund_amount"]
    assert amount["refund_shipping_fee"] == shipping
    assert Decimal(amount["refund_total"]) == sum(
        Decimal(amount[k]) for k in ("refund_subtotal", "refund_shipping_fee", "refund_tax"))


async def test_naming_every_line_cancels_the_whole_order_and_refunds_shipping(contract: Contract) -> None:
    order = scenario_world().orders["ord-uk-awaiting-shipment"]
    lines = [line["id"] for line in order["line_items"]]
    cxl = (await cancellation(contract, "ord-uk-awaiting-shipment", role="SELLER",
                              order_line_item_ids=list(reversed(lines))))["cancellation"]
    assert cxl["refund_amount"]["refund_shipping_fee"] == order["payment"]["shipping_fee"]


async def test_a_partial_cancellation_refunds_no_shipping(contract: Contract) -> None:
    cxl = (await cancellation(contract, "ord-uk-split-backorder", role="SELLER",
                              order_line_item_ids=["ord-uk-split-backorder-l2"]))["cancellation"]
    amount = cxl["refund_amount"]
    assert amount["refund_shipping_fee"] == "0.00"
    assert Decimal(amount["refund_total"]) == Decimal(amount["refund_subtotal"]) + Decimal(amount["refund_tax"])


async def test_a_replacement_request_keeps_the_replacement_vocabulary(contract: Contract) -> None:
    body = new_return("ord-us-delivered", ["ord-us-delivered-l1"], return_type="REPLACEMENT", reason="defective")
    withdrawn = (await create_return(contract, body))["return"]
    assert withdrawn["return_status"] == "REPLACEMENT_REQUEST_PENDING"
    cancel = await contract.call("aftersales", "POST", f"/returns/{withdrawn['return_id']}/cancel",
                                 json={"buyer_user_id": ALICE}, expect=200)
    refused = (await create_return(contract, body))["return"]
    reject = await contract.call("aftersales", "POST", f"/returns/{refused['return_id']}/reject",
                                 json={"shop_id": THREADLINE, "reject_reason": "Not defective"}, expect=200)
    assert (cancel.body["return"]["return_status"], reject.body["return"]["return_status"]) == (
        "REPLACEMENT_REQUEST_CANCEL", "REPLACEMENT_REQUEST_REJECT")


async def test_a_withdrawn_replacement_counts_as_closed_when_its_parcel_takes_more_items(
    contract: Contract,
) -> None:
    body = {"order_id": "ord-us-delivered", "buyer_user_id": ALICE, "return_type": "REPLACEMENT", "groups": [
        {"return_reason": RETURN + "damaged", "order_line_item_ids": ["ord-us-delivered-l1"]},
        {"return_reason": RETURN + "defective", "order_line_item_ids": ["ord-us-delivered-l2"]}]}
    first, _ = (await contract.call("aftersales", "POST", "/returns/batch_create", json=body,
                                    expect=201)).body["returns"]
    withdrawn = (await contract.call("aftersales", "POST", f"/returns/{first['return_id']}/cancel",
                                     json={"buyer_user_id": ALICE}, expect=200)).body["return"]
    assert withdrawn["return_status"] == "REPLACEMENT_REQUEST_CANCEL"
    # The other return of the parcel is still pending, so the parcel can take one more item.
    added = (await create_return(contract, new_return(
        "ord-us-delivered", ["ord-us-delivered-l3"], return_type="REPLACEMENT", reason="defective",
        combined_return_id=first["combined_return_id"])))["return"]
    assert added["combined_return_id"] == first["combined_return_id"]


async def test_rejecting_a_replacement_parcel_keeps_the_replacement_vocabulary(contract: Contract) -> None:
    body = {"order_id": "ord-us-delivered", "buyer_user_id": ALICE, "return_type": "REPLACEMENT", "groups": [
        {"return_reason": RETURN + "damaged", "order_line_item_ids": ["ord-us-delivered-l1"]}]}
    (created,) = (await contract.call("aftersales", "POST", "/returns/batch_create", json=body,
                                      expect=201)).body["returns"]
    rejected = (await contract.call("aftersales", "POST", f"/combined_returns/{created['combined_return_id']}/reject",
                                    json={"shop_id": THREADLINE, "reject_reason": "No damage in the photos"},
                                    expect=200)).body["returns"]
    assert [r["return_status"] for r in rejected] == ["REPLACEMENT_REQUEST_REJECT"]


# ---- eligibility: what each line's stage allows ----------------------------------------------------

LATE = "ecom_order_shipped_refund_reason_late"


async def _nothing_written(contract: Contract, order_id: str) -> None:
    record = (await contract.call("aftersales", "GET", f"/orders/{order_id}/aftersales", expect=200)).body
    world = scenario_world()
    assert len(record["returns"]) == sum(r["order_id"] == order_id for r in world.returns.values())
    assert len(record["cancellations"]) == sum(c["order_id"] == order_id for c in world.cancellations.values())


async def test_a_delivered_order_can_no_longer_be_cancelled(contract: Contract) -> None:
    for role in ("BUYER", "SELLER"):
        result = await cancellation(contract, "ord-us-delivered", role=role, expect=409)
        assert result["error"]["code"] == "NOT_ELIGIBLE" and result["error"]["field"] == "order_line_item_ids"
        assert "ALREADY_SHIPPED" in result["error"]["message"]
    # A label is enough: the carrier has not collected it yet, but the buyer can no longer cancel.
    assert (await cancellation(contract, "ord-us-label-created", expect=409))["error"]["code"] == "NOT_ELIGIBLE"
    await _nothing_written(contract, "ord-us-delivered")
    await _nothing_written(contract, "ord-us-label-created")


async def test_only_the_lines_that_have_not_shipped_can_be_cancelled(contract: Contract) -> None:
    # ord-us-split-custom: l1 (made to order) waits to be made, l2 is out for delivery.
    whole = await cancellation(contract, "ord-us-split-custom", expect=409)
    assert "ord-us-split-custom-l2" in whole["error"]["message"]
    cxl = (await cancellation(contract, "ord-us-split-custom", order_line_item_ids=["ord-us-split-custom-l1"]))
    assert [line["order_line_item_id"] for line in cxl["cancellation"]["cancel_line_items"]] == [
        "ord-us-split-custom-l1"]


async def test_a_change_of_mind_return_waits_for_delivery(contract: Contract) -> None:
    lines = ["ord-us-in-transit-l1"]
    for return_type in ("RETURN_AND_REFUND", "REPLACEMENT", "REFUND"):
        result = await create_return(contract, new_return("ord-us-in-transit", lines, return_type=return_type,
                                                          reason="no_need"), expect=409)
        assert result["error"]["code"] == "NOT_ELIGIBLE", return_type
    await _nothing_written(contract, "ord-us-in-transit")
    # Not even the faulty reasons, and not in a batch: nothing to inspect before it arrives.
    body = {"order_id": "ord-uk-in-transit", "buyer_user_id": OLIVIA, "return_type": "RETURN_AND_REFUND",
            "groups": [{"return_reason": RETURN + "damaged", "order_line_item_ids": ["ord-uk-in-transit-l1"]}]}
    batch = (await contract.call("aftersales", "POST", "/returns/batch_create", json=body, expect=409)).body
    assert batch["error"] == {"code": "NOT_ELIGIBLE", "field": "groups[0].order_line_item_ids",
                              "message": batch["error"]["message"]}
    assert "NOT_DELIVERED" in batch["error"]["message"]


async def test_the_late_reason_is_offered_on_the_way_and_not_once_delivered(contract: Contract) -> None:
    on_the_way = {**new_return("ord-us-late", ["ord-us-late-l1"], return_type="REFUND"), "return_reason": LATE}
    created = (await create_return(contract, on_the_way))["return"]
    assert created["return_reason"] == LATE and created["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"
    delivered = {**new_return("ord-us-delivered", ["ord-us-delivered-l1"], return_type="REFUND"),
                 "return_reason": LATE}
    refused = await create_return(contract, delivered, expect=409)
    assert "REASON_NOT_OFFERED" in refused["error"]["message"]
    # And the delivered reasons only once delivered: a refund for a package still on its way is "late".
    early = new_return("ord-uk-late", ["ord-uk-late-l1"], return_type="REFUND", reason="not_as_described")
    refused = await create_return(contract, early, expect=409)
    assert refused["error"]["code"] == "NOT_ELIGIBLE" and "REASON_NOT_OFFERED" in refused["error"]["message"]


async def test_the_carriers_delivery_counts_even_while_the_order_service_lags(contract: Contract) -> None:
    # ord-us-disagree-delivered: the order service says IN_TRANSIT, the carrier delivered it.
    body = new_return("ord-us-disagree-delivered", ["ord-us-disagree-delivered-l1"], reason="no_need")
    assert (await create_return(contract, body))["return"]["return_status"] == "AWAITING_BUYER_SHIP"


async def test_a_buyer_or_seller_cannot_use_the_platforms_own_cancel_reasons(contract: Contract) -> None:
    for role, reason in (("BUYER", "package_lost"), ("SELLER", "system_cancel_order_reason_shipping_timeout")):
        result = await cancellation(contract, "ord-us-awaiting-shipment", role=role, expect=400,
                                    cancel_reason=reason)
        assert result["error"]["field"] == "cancel_reason"
    await _nothing_written(contract, "ord-us-awaiting-shipment")


async def test_the_eligibility_route_answers_per_line_what_the_writes_enforce(contract: Contract) -> None:
    def answers(body: dict[str, Any]) -> dict[str, tuple[str, dict[str, str | None]]]:
        return {line["order_line_item_id"]: (line["stage"], {
            e["request_type"]: None if e["eligible"] else e["ineligible_code"] for e in line["eligibility"]})
            for line in body["line_items"]}

    path = "/orders/ord-us-split-custom/aftersale_eligibility"
    before = answers((await contract.call("aftersales", "GET", path, expect=200)).body)
    assert before == {
        "ord-us-split-custom-l1": ("AWAITING_SHIPMENT", {"CANCEL": None, "REFUND": "NOT_SHIPPED",
                                                         "RETURN_AND_REFUND": "NOT_DELIVERED",
                                                         "REPLACEMENT": "NOT_DELIVERED"}),
        "ord-us-split-custom-l2": ("IN_TRANSIT", {"CANCEL": "ALREADY_SHIPPED", "REFUND": None,
                                                  "RETURN_AND_REFUND": "NOT_DELIVERED",
                                                  "REPLACEMENT": "NOT_DELIVERED"}),
    }
    # A pending cancellation holds its line; once approved, the line is cancelled.
    cxl = (await cancellation(contract, "ord-us-split-custom", order_line_item_ids=["ord-us-split-custom-l1"]))
    held = answers((await contract.call("aftersales", "GET", path, expect=200)).body)["ord-us-split-custom-l1"]
    assert held == ("AWAITING_SHIPMENT", {"CANCEL": "IN_REQUEST", "REFUND": "NOT_SHIPPED",
                                          "RETURN_AND_REFUND": "NOT_DELIVERED", "REPLACEMENT": "NOT_DELIVERED"})
    shop = scenario_world().orders["ord-us-split-custom"]["shop_id"]
    await contract.call("aftersales", "POST", f"/cancellations/{cxl['cancellation']['cancel_id']}/approve",
                        json={"shop_id": shop}, expect=200)
    done = answers((await contract.call("aftersales", "GET", path, expect=200)).body)["ord-us-split-custom-l1"]
    assert done == ("CANCELLED", dict.fromkeys(("CANCEL", "REFUND", "RETURN_AND_REFUND", "REPLACEMENT"),
                                               "CANCELLED"))
    delivered = answers((await contract.call("aftersales", "GET", "/orders/ord-us-delivered/aftersale_eligibility",
                                             expect=200)).body)
    assert {stage for stage, _ in delivered.values()} == {"DELIVERED"}
    assert all(a == {"CANCEL": "ALREADY_SHIPPED", "REFUND": None, "RETURN_AND_REFUND": None, "REPLACEMENT": None}
               for _, a in delivered.values())
