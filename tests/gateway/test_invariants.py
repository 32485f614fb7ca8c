"""The invariants of issue 3, over every named scenario and a few hundred generated orders, over real HTTP."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from gateway.auth import Role
from mocks.service import MockConfig
from tests.harness import Gateway, running_gateway
from tests.upstreams import TEST_NOW, running_mocks

ORDER_FIELDS = """
  id status displayStatus statusLabel sellerStatus market placedAt
  lineItems { id quantity cancelledQuantity }
  unshippedItems { quantity lineItem { id } }
  cancelledItems { quantity lineItem { id } }
  packages { id status deliveredAt items { quantity lineItem { id } } tracker { kind state time } }
  alerts { kind packageId suggestedAction }
  afterSalesActions {
    kind available deadline packageIds
    items { quantity deadline lineItem { id } reasons { code category deadline } }
  }
"""
DETAIL = "query($id: ID!) { order(id: $id) { " + ORDER_FIELDS + " } }"
HISTORY = """query($after: String) { orders(first: 25, after: $after) {
  edges { node { id displayStatus statusLabel } } pageInfo { hasNextPage endCursor } } }"""
SELLER_HISTORY = """query($after: String) { sellerOrders(first: 25, after: $after) {
  edges { node { id displayStatus statusLabel sellerStatus } } pageInfo { hasNextPage endCursor } } }"""

UNSHIPPED = {"PENDING", "AWAITING_AUTHENTICATION", "CANCELLED"}
# The market's return windows in days: from the delivery of the item's own package, and (UK Consumer
# Contracts Regulations) from the delivery of the order's last package.
WINDOWS = {"US": {30, 90}, "UK": {30}}
LAST_PACKAGE_WINDOWS = {"US": set(), "UK": {14}}
NOT_RECEIVED_DAYS = 30


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[tuple[Gateway, dict[str, list[str]]]]:
    from mocks.catalog import build_world

    config = MockConfig(now=TEST_NOW, generated=300, seed=11)
    built = build_world(TEST_NOW, seed=11, generated=300)
    by_buyer: dict[str, list[str]] = defaultdict(list)
    for order in built.orders.values():
        by_buyer[order["buyer_user_id"]].append(order["id"])
        by_buyer[SHOP + order["shop_id"]].append(order["id"])
    async with running_mocks(config) as mocks, running_gateway(mocks) as gw:
        yield gw, dict(by_buyer)


SHOP = "shop:"  # a shop's orders are listed in the world under "shop:<shop id>", next to each buyer's


def _as(who: str) -> dict[str, Any]:
    """Who asks: a buyer by id, or the seller of a shop (``shop:<shop id>``)."""
    if who.startswith(SHOP):
        shop = who.removeprefix(SHOP)
        return {"as_": f"seller-{shop}", "role": Role.SELLER, "shop_id": shop}
    return {"as_": who}


async def _history(gw: Gateway, who: str) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    after = None
    query, field = (SELLER_HISTORY, "sellerOrders") if who.startswith(SHOP) else (HISTORY, "orders")
    while True:
        body = await gw.query(query, {"after": after}, **_as(who))
        assert "errors" not in body, body["errors"]
        page = body["data"][field]
        for edge in page["edges"]:
            assert edge["node"]["id"] not in seen, "an order appeared twice in the history"
            seen[edge["node"]["id"]] = edge["node"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def _all_orders(world: tuple[Gateway, dict[str, list[str]]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    gw, by_buyer = world
    checked = []
    for buyer, ids in sorted(by_buyer.items()):
        if buyer.startswith(SHOP):
            continue
        listed = await _history(gw, buyer)
        assert set(listed) == set(ids), f"{buyer}'s history is not exactly their orders"
        for order_id in ids:
            body = await gw.query(DETAIL, {"id": order_id}, as_=buyer)
            assert "errors" not in body, (order_id, body["errors"])
            checked.append((listed[order_id], body["data"]["order"]))
    return checked


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def orders(world: tuple[Gateway, dict[str, list[str]]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return await _all_orders(world)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seller_orders(world: tuple[Gateway, dict[str, list[str]]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every shop's sellerOrders, each entry with the same order as its seller sees it by id."""
    gw, by_owner = world
    checked = []
    for shop, ids in sorted(by_owner.items()):
        if not shop.startswith(SHOP):
            continue
        listed = await _history(gw, shop)
        assert set(listed) == set(ids), f"{shop}'s sellerOrders are not exactly its orders"
        for start in range(0, len(ids), 25):  # 25 orders per request, by alias
            chunk = ids[start : start + 25]
            fields = " ".join(f'o{i}: order(id: "{oid}") {{ id displayStatus statusLabel sellerStatus }}'
                              for i, oid in enumerate(chunk))
            body = await gw.query("{ " + fields + " }", **_as(shop))
            assert "errors" not in body, body["errors"]
            checked += [(listed[detail["id"]], detail) for detail in body["data"].values()]
    return checked


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_every_scenario_and_generated_order_is_checked(orders: list[Any]) -> None:
    ids = {detail["id"] for _, detail in orders}
    assert len(ids) == 379
    assert {"ord-us-in-transit", "ord-uk-split-three", "ord-us-disagree-delivered"} <= ids


async def test_list_and_detail_agree_on_status_and_label(orders: list[Any]) -> None:
    for listed, detail in orders:
        assert (listed["displayStatus"], listed["statusLabel"]) == (detail["displayStatus"], detail["statusLabel"]), \
            detail["id"]


async def test_a_sellers_list_and_detail_agree_on_status_and_label(orders: list[Any], seller_orders: list[Any]) -> None:
    assert {detail["id"] for _, detail in seller_orders} == {detail["id"] for _, detail in orders}
    for listed, detail in seller_orders:
        assert listed == detail, detail["id"]
    assert {detail["sellerStatus"] for _, detail in seller_orders} == {
        "PENDING", "TO_SHIP", "SHIPPED", "COMPLETED", "CANCELLED"}


async def test_every_unit_is_accounted_for_exactly_once(orders: list[Any]) -> None:
    for _, order in orders:
        counted: dict[str, int] = defaultdict(int)
        for package in order["packages"]:
            for entry in package["items"]:
                counted[entry["lineItem"]["id"]] += entry["quantity"]
        for entry in order["unshippedItems"] + order["cancelledItems"]:
            counted[entry["lineItem"]["id"]] += entry["quantity"]
        for item in order["lineItems"]:
            assert counted[item["id"]] == item["quantity"], (order["id"], item["id"])
        assert set(counted) <= {item["id"] for item in order["lineItems"]}


async def test_tracker_has_one_current_step_done_before_it_and_time_moving_forward(orders: list[Any]) -> None:
    for _, order in orders:
        for package in order["packages"]:
            states = [s["state"] for s in package["tracker"]]
            where = (order["id"], package["id"], states)
            if package["status"] == "DELIVERED":
                assert set(states) <= {"DONE", "SKIPPED"}, where
            else:
                current = [i for i, s in enumerate(states) if s in ("CURRENT", "BLOCKED")]
                assert len(current) == 1, where
                assert set(states[: current[0]]) <= {"DONE", "SKIPPED"}, where
                assert set(states[current[0] + 1 :]) <= {"UPCOMING"}, where
            times = [datetime.fromisoformat(s["time"]) for s in package["tracker"] if s["time"]]
            assert times == sorted(times), where
            assert all(t <= TEST_NOW for t in times), where


async def test_order_status_is_consistent_with_its_packages(orders: list[Any]) -> None:
    for _, order in orders:
        live = [p for p in order["packages"] if p["status"] != "CANCELLED"]
        delivered = [p for p in live if p["status"] == "DELIVERED"]
        shipped = [p for p in live if p["status"] not in UNSHIPPED]
        status, where = order["status"], order["id"]
        if status in ("DELIVERED", "COMPLETED"):
            assert live and len(delivered) == len(live) and not order["unshippedItems"], where
        elif status == "SHIPPED":
            assert not delivered and len(shipped) == len(live) and not order["unshippedItems"], where
        elif status == "PARTIALLY_DELIVERED":
            assert delivered and len(delivered) < len(live), where
        elif status == "PARTIALLY_SHIPPED":
            assert shipped and not delivered and len(shipped) < len(live), where
        elif status in ("PLACED", "PROCESSING", "AWAITING_PAYMENT"):
            assert not shipped, where
        elif status == "CANCELLED":
            assert all(i["cancelledQuantity"] == i["quantity"] for i in order["lineItems"]), where
        if any(i["cancelledQuantity"] < i["quantity"] for i in order["lineItems"]):
            assert status != "CANCELLED", where


def _action(order: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(a for a in order["afterSalesActions"] if a["kind"] == kind)


async def test_available_actions_never_contradict_the_state(orders: list[Any]) -> None:
    for _, order in orders:
        where = order["id"]
        shipped = [p for p in order["packages"] if p["status"] not in UNSHIPPED]
        delivered = {p["id"]: p for p in order["packages"] if p["status"] == "DELIVERED"}
        if shipped or order["status"] == "CANCELLED":
            assert not _action(order, "CANCEL_ORDER")["available"], where
            assert not _action(order, "CHANGE_ADDRESS")["available"], where
        dnr = _action(order, "REPORT_NOT_RECEIVED")
        if dnr["available"]:
            assert dnr["packageIds"] and set(dnr["packageIds"]) <= set(delivered), where
            latest = max(datetime.fromisoformat(delivered[p]["deliveredAt"]) for p in dnr["packageIds"])
            assert datetime.fromisoformat(dnr["deadline"]) == latest + timedelta(days=NOT_RECEIVED_DAYS), where
        ret = _action(order, "REQUEST_RETURN")
        if not delivered:
            assert not ret["available"], where
        if ret["available"]:
            live = [p for p in order["packages"] if p["status"] != "CANCELLED"]
            last = (max(datetime.fromisoformat(p["deliveredAt"]) for p in live)
                    if all(p["id"] in delivered for p in live) else None)
            for item in ret["items"]:
                assert item["reasons"], where
                # Each window runs from the delivery of the item's own package (or, UK, the last one).
                own = [datetime.fromisoformat(p["deliveredAt"]) for p in delivered.values()
                       if item["lineItem"]["id"] in {i["lineItem"]["id"] for i in p["items"]}]
                assert own, (where, item)
                for reason in item["reasons"]:
                    deadline = datetime.fromisoformat(reason["deadline"])
                    assert deadline >= TEST_NOW, where
                    days = {round((deadline - a).total_seconds() / 86400, 6) for a in own}
                    after_last = {round((deadline - last).total_seconds() / 86400, 6)} if last else set()
                    assert days & WINDOWS[order["market"]] or after_last & LAST_PACKAGE_WINDOWS[order["market"]], (
                        where, reason, days, after_last)
        late = _action(order, "REPORT_LATE")
        if late["available"]:
            assert order["status"] not in ("DELIVERED", "COMPLETED", "CANCELLED"), where


# Suggestions that name an after-sales entrance; the others (WAIT, TRACK_WITH_CARRIER) are not actions.
ACTION_SUGGESTIONS = {"REPORT_LATE", "REPORT_NOT_RECEIVED", "CONTACT_SELLER", "CONTACT_SUPPORT", "VIEW_RETURN"}
PACKAGE_ACTIONS = {"REPORT_LATE", "REPORT_NOT_RECEIVED"}


def assert_alert_suggestions_are_available(order: dict[str, Any]) -> None:
    """An alert never offers what the order's actions refuse: its suggested action is available (and, for a
    package report, for that alert's package). Needs ``alerts { packageId suggestedAction }`` and
    ``afterSalesActions { kind available packageIds }``."""
    for alert in order["alerts"]:
        suggested = alert["suggestedAction"]
        if suggested not in ACTION_SUGGESTIONS:
            continue
        action = _action(order, suggested)
        assert action["available"], (order["id"], alert, action)
        if suggested in PACKAGE_ACTIONS:
            assert alert["packageId"] in action["packageIds"], (order["id"], alert, action)


async def test_an_alerts_suggested_action_is_always_available(orders: list[Any]) -> None:
    suggested = 0
    for _, order in orders:
        assert_alert_suggestions_are_available(order)
        suggested += sum(a["suggestedAction"] in ACTION_SUGGESTIONS for a in order["alerts"])
    assert suggested, "no alert suggested an action: the invariant checked nothing"


async def test_every_display_status_and_market_is_represented(orders: list[Any]) -> None:
    statuses = {detail["displayStatus"] for _, detail in orders}
    assert {"AWAITING_PAYMENT", "PLACED", "PROCESSING", "SHIPPED", "OUT_FOR_DELIVERY", "READY_FOR_PICKUP",
            "PARTIALLY_DELIVERED", "DELIVERED", "DELAYED", "DELIVERY_ISSUE", "CANCELLATION_REQUESTED", "CANCELLED",
            "RETURN_IN_PROGRESS", "REFUNDED", "COMPLETED"} <= statuses
    assert {detail["market"] for _, detail in orders} == {"US", "UK"}
