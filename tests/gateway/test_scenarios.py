"""The named scenarios' important outcomes, pinned: what the shopper sees for each case of the catalogue.

Times are exact: the mocks build every scenario relative to TEST_NOW (a Friday noon UTC), so the
expected instants below are the archetypes' offsets (``mocks/catalog/archetypes.py``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from gateway.auth import Role
from mocks.catalog import SCENARIOS
from tests.harness import Gateway, running_gateway
from tests.upstreams import TEST_NOW, MockUpstreams, running_mocks

BUYER = {sc.id: sc.buyer.id for sc in SCENARIOS}
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def upstreams() -> AsyncIterator[MockUpstreams]:
    async with running_mocks() as mocks:
        yield mocks


@pytest_asyncio.fixture(loop_scope="module")
async def gw(upstreams: MockUpstreams) -> AsyncIterator[Gateway]:
    async with running_gateway(upstreams) as gateway:
        yield gateway


async def _order(gw: Gateway, order_id: str, fields: str) -> dict[str, Any]:
    body = await gw.query("query($id: ID!) { order(id: $id) { " + fields + " } }", {"id": order_id},
                          as_=BUYER[order_id])
    assert "errors" not in body, body["errors"]
    order: dict[str, Any] = body["data"]["order"]
    return order


def _t(value: str | None) -> datetime:
    assert value, "expected a time"
    return datetime.fromisoformat(value)


def _action(order: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in order["afterSalesActions"] if a["kind"] == kind)
    return found


def _steps(steps: list[dict[str, Any]]) -> dict[str, str]:
    return {s["kind"]: s["state"] for s in steps}


# -- the upstreams disagree ------------------------------------------------------------------------

@pytest.mark.parametrize("order_id", ["ord-us-disagree-delivered", "ord-uk-disagree-delivered"])
async def test_the_carriers_delivered_scan_beats_the_order_services_in_transit(
        upstreams: MockUpstreams, gw: Gateway, order_id: str) -> None:
    status, raw = await upstreams.call("orders", "GET", f"/orders/{order_id}")
    assert status == 200
    assert raw["order"]["status"] == "IN_TRANSIT", "the order service still says in transit"
    assert {p["status"] for p in raw["order"]["packages"]} != {"COMPLETED"}
    order = await _order(gw, order_id, """status displayStatus statusLabel
        packages { status statusSource deliveredAt tracker { state } }
        afterSalesActions { kind available items { lineItem { id } } } lineItems { id }""")
    [package] = order["packages"]
    assert (package["status"], package["statusSource"]) == ("DELIVERED", "CARRIER")
    assert _t(package["deliveredAt"]) == TEST_NOW - 3 * HOUR
    assert {s["state"] for s in package["tracker"]} == {"DONE"}
    assert (order["status"], order["displayStatus"]) == ("DELIVERED", "DELIVERED")
    assert order["statusLabel"].startswith("Delivered")
    returns = _action(order, "REQUEST_RETURN")
    assert returns["available"] is True
    assert {i["lineItem"]["id"] for i in returns["items"]} == {i["id"] for i in order["lineItems"]}
    assert _action(order, "REPORT_NOT_RECEIVED")["available"] is True


# -- split shipments -------------------------------------------------------------------------------

@pytest.mark.parametrize(("order_id", "reason"), [
    ("ord-us-split-availability", "ITEM_AVAILABILITY"),
    ("ord-uk-split-three", "ITEM_AVAILABILITY"),
    ("ord-us-split-backorder", "BACKORDER"),
    ("ord-uk-split-backorder", "BACKORDER"),
    ("ord-us-split-size", "SIZE_OR_WEIGHT"),
    ("ord-uk-split-size", "SIZE_OR_WEIGHT"),
    ("ord-us-split-custom", "CUSTOMISATION"),
    ("ord-uk-split-custom", "CUSTOMISATION"),
])
async def test_every_package_of_a_split_order_says_why_it_travels_apart(gw: Gateway, order_id: str,
                                                                        reason: str) -> None:
    order = await _order(gw, order_id, """packages { number split { reason explanation }
        items { lineItem { name customization } } }""")
    packages = order["packages"]
    assert len(packages) >= 2
    assert [p["number"] for p in packages] == list(range(1, len(packages) + 1))
    for package in packages:
        assert package["split"] is not None, package
        assert package["split"]["reason"] == reason
        assert len(package["split"]["explanation"].strip()) > 20
    if reason == "CUSTOMISATION":
        custom = next(i["lineItem"] for p in packages for i in p["items"] if i["lineItem"]["customization"])
        made = next(p for p in packages if any(i["lineItem"]["customization"] for i in p["items"]))
        assert custom["name"] in made["split"]["explanation"]
        assert custom["customization"] in made["split"]["explanation"]


async def test_a_single_package_order_has_no_split(gw: Gateway) -> None:
    order = await _order(gw, "ord-us-in-transit", "packages { split { reason } }")
    assert [p["split"] for p in order["packages"]] == [None]


@pytest.mark.parametrize(("order_id", "headline", "counts"), [
    ("ord-uk-split-three", "2 of 3 parcels delivered", (3, 3, 2)),
    ("ord-us-split-availability", "1 of 2 packages delivered", (2, 2, 1)),
    ("ord-us-split-backorder", "1 of 2 packages shipped", (2, 1, 0)),
])
async def test_the_order_tracker_counts_packages(gw: Gateway, order_id: str, headline: str,
                                                 counts: tuple[int, int, int]) -> None:
    order = await _order(gw, order_id, """displayStatus statusLabel
        tracker { headline totalPackages shippedPackages deliveredPackages steps { kind state } }""")
    tracker = order["tracker"]
    assert tracker["headline"] == headline
    assert (tracker["totalPackages"], tracker["shippedPackages"], tracker["deliveredPackages"]) == counts
    if "delivered" in headline:
        assert (order["displayStatus"], order["statusLabel"]) == ("PARTIALLY_DELIVERED", headline)
        # The current step is the latest milestone reached by every package: all shipped, not all delivered.
        assert _steps(tracker["steps"]) == {"PLACED": "DONE", "SHIPPED": "CURRENT", "DELIVERED": "UPCOMING"}


# -- authentication and signatures -----------------------------------------------------------------

@pytest.mark.parametrize("order_id", ["ord-us-luxury-authenticating", "ord-uk-luxury-authenticating"])
async def test_a_luxury_item_being_authenticated_waits_on_the_authenticating_step(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, """status displayStatus statusLabel
        packages { status statusSource authentication { status provider submittedAt approvedAt }
                   tracker { kind state } split { reason } }""")
    [package] = order["packages"]
    assert package["status"] == "AWAITING_AUTHENTICATION"
    assert package["authentication"]["status"] == "SUBMITTED"
    assert package["authentication"]["provider"] == "Entrupy"
    assert package["authentication"]["approvedAt"] is None
    assert [(s["kind"], s["state"]) for s in package["tracker"]] == [
        ("PLACED", "DONE"), ("AUTHENTICATING", "CURRENT"), ("SHIPPED", "UPCOMING"), ("IN_TRANSIT", "UPCOMING"),
        ("OUT_FOR_DELIVERY", "UPCOMING"), ("DELIVERED", "UPCOMING")]
    assert (order["status"], order["displayStatus"], order["statusLabel"]) == (
        "PROCESSING", "PROCESSING", "Authenticating")


@pytest.mark.parametrize("order_id", ["ord-us-luxury-in-transit", "ord-uk-luxury-in-transit"])
async def test_an_authenticated_luxury_item_has_the_step_done_and_travels_on(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, """packages { status authentication { status approvedAt }
        tracker { kind state time } }""")
    [package] = order["packages"]
    assert package["status"] == "IN_TRANSIT"
    assert package["authentication"]["status"] == "APPROVED"
    steps = _steps(package["tracker"])
    assert steps["AUTHENTICATING"] == "DONE"
    assert steps["IN_TRANSIT"] == "CURRENT"
    times = {s["kind"]: s["time"] for s in package["tracker"]}
    assert _t(times["PLACED"]) <= _t(times["AUTHENTICATING"]) <= _t(times["SHIPPED"])


@pytest.mark.parametrize(("order_id", "signature"), [
    ("ord-us-out-for-delivery-signature", "SIGNATURE"),
    ("ord-uk-out-for-delivery-signature", "SIGNATURE"),
    ("ord-us-failed-attempt", "SIGNATURE"),
    ("ord-us-luxury-authenticating", "ADULT_SIGNATURE"),
    ("ord-us-luxury-in-transit", "ADULT_SIGNATURE"),
    ("ord-uk-luxury-authenticating", "ADULT_SIGNATURE"),
    ("ord-uk-luxury-in-transit", "ADULT_SIGNATURE"),
    ("ord-us-in-transit", "NONE"),
])
async def test_signature_requirements(gw: Gateway, order_id: str, signature: str) -> None:
    order = await _order(gw, order_id, "packages { signatureRequired tracker { kind state description } }")
    [package] = order["packages"]
    assert package["signatureRequired"] == signature
    if order_id.endswith("out-for-delivery-signature"):
        step = next(s for s in package["tracker"] if s["kind"] == "OUT_FOR_DELIVERY")
        assert step["state"] == "CURRENT"
        assert "signature is required" in step["description"]


# -- abnormal situations ---------------------------------------------------------------------------

ALERTS = [
    # order id, alert kind, severity, suggested action, display status, status label
    ("ord-us-late", "LATE_DELIVERY", "WARNING", "REPORT_LATE", "DELAYED", "Delayed"),
    ("ord-uk-late", "LATE_DELIVERY", "WARNING", "REPORT_LATE", "DELAYED", "Delayed"),
    ("ord-us-carrier-delay", "CARRIER_DELAY", "WARNING", "WAIT", "DELAYED", "Delayed, now arriving Tue, Nov 24"),
    ("ord-uk-carrier-delay", "CARRIER_DELAY", "WARNING", "WAIT", "DELAYED", "Delayed, now arriving Tue 24 Nov"),
    ("ord-us-weather-delay", "WEATHER_DELAY", "WARNING", "WAIT", "DELAYED", "Delayed, now arriving Mon, Nov 23"),
    ("ord-uk-weather-delay", "WEATHER_DELAY", "WARNING", "WAIT", "DELAYED", "Delayed, now arriving Mon 23 Nov"),
    ("ord-us-holiday-delay", "HOLIDAY_VOLUME", "INFO", "WAIT", "DELAYED", "Delayed, now arriving Wed, Nov 25"),
    ("ord-uk-holiday-delay", "HOLIDAY_VOLUME", "INFO", "WAIT", "DELAYED", "Delayed, now arriving Wed 25 Nov"),
    # No scan for six days: the carrier's old estimate is not a date to give; the label says what is known.
    ("ord-us-tracking-stalled", "TRACKING_STALLED", "WARNING", "CONTACT_SUPPORT", "DELAYED",
     "No tracking updates since Sat, Nov 14"),
    ("ord-uk-tracking-stalled", "TRACKING_STALLED", "WARNING", "CONTACT_SUPPORT", "DELAYED",
     "No tracking updates since Sat 14 Nov"),
    ("ord-uk-customs-hold", "CUSTOMS_HOLD", "WARNING", "WAIT", "DELAYED", "Held at customs"),
    ("ord-uk-duties-due", "DUTIES_DUE", "ACTION_REQUIRED", "TRACK_WITH_CARRIER", "DELIVERY_ISSUE",
     "Import charges to pay"),
    ("ord-us-address-issue", "ADDRESS_ISSUE", "ACTION_REQUIRED", "CONTACT_SELLER", "DELIVERY_ISSUE",
     "Problem with the address"),
    ("ord-uk-address-issue", "ADDRESS_ISSUE", "ACTION_REQUIRED", "CONTACT_SELLER", "DELIVERY_ISSUE",
     "Problem with the address"),
    ("ord-us-failed-attempt", "FAILED_ATTEMPT", "ACTION_REQUIRED", "TRACK_WITH_CARRIER", "DELIVERY_ISSUE",
     "Delivery attempted"),
    ("ord-uk-failed-attempt", "FAILED_ATTEMPT", "ACTION_REQUIRED", "TRACK_WITH_CARRIER", "DELIVERY_ISSUE",
     "Delivery attempted"),
    ("ord-us-returning-to-sender", "RETURNING_TO_SENDER", "WARNING", "CONTACT_SELLER", "DELIVERY_ISSUE",
     "On its way back to the seller"),
    ("ord-uk-returning-to-sender", "RETURNING_TO_SENDER", "WARNING", "CONTACT_SELLER", "DELIVERY_ISSUE",
     "On its way back to the seller"),
    ("ord-us-returned-to-sender", "RETURNED_TO_SENDER", "WARNING", "CONTACT_SELLER", "CANCELLED",
     "Canceled: returned to the seller"),
    ("ord-uk-returned-to-sender", "RETURNED_TO_SENDER", "WARNING", "CONTACT_SELLER", "CANCELLED",
     "Cancelled: returned to the seller"),
    ("ord-us-lost", "LOST", "WARNING", "CONTACT_SUPPORT", "CANCELLED", "Canceled: package lost"),
    ("ord-uk-lost", "LOST", "WARNING", "CONTACT_SUPPORT", "CANCELLED", "Cancelled: parcel lost"),
    ("ord-us-damaged", "DAMAGED", "WARNING", "CONTACT_SUPPORT", "CANCELLED", "Canceled: package damaged"),
    ("ord-uk-damaged", "DAMAGED", "WARNING", "CONTACT_SUPPORT", "CANCELLED", "Cancelled: parcel damaged"),
    ("ord-us-not-received", "DELIVERED_NOT_RECEIVED", "INFO", "VIEW_RETURN", "RETURN_IN_PROGRESS",
     "Reported not received"),
    ("ord-uk-not-received", "DELIVERED_NOT_RECEIVED", "INFO", "VIEW_RETURN", "RETURN_IN_PROGRESS",
     "Reported not received"),
    # Authentication runs before shipping: until it is approved there is no date to give, only the delay.
    ("ord-us-luxury-authentication-overdue", "AUTHENTICATION_DELAY", "WARNING", "WAIT", "DELAYED",
     "Authentication is taking longer than expected"),
    ("ord-uk-luxury-authentication-overdue", "AUTHENTICATION_DELAY", "WARNING", "WAIT", "DELAYED",
     "Authentication is taking longer than expected"),
    ("ord-us-luxury-authentication-failed", "AUTHENTICATION_FAILED", "WARNING", "CONTACT_SUPPORT", "DELIVERY_ISSUE",
     "Item failed authentication"),
    ("ord-uk-luxury-authentication-failed", "AUTHENTICATION_FAILED", "WARNING", "CONTACT_SUPPORT", "DELIVERY_ISSUE",
     "Item failed authentication"),
]


async def test_the_catalogue_raises_every_alert_kind_the_schema_has() -> None:
    from gateway.domain.alerts import AlertKind

    assert {row[1] for row in ALERTS} == {k.value for k in AlertKind}


# When the revised delivery date falls, from TEST_NOW (a carrier scan at noon UTC is the same date in
# both markets' carrier zones): carrier delay +1 day revised by 3, holiday +1 revised by 4, customs +0 by 3,
# weather +1 by 2, the failed attempt's retry -1 by 1. The other alerts give no revised date.
REVISED_BY = {"CARRIER_DELAY": 4 * DAY, "HOLIDAY_VOLUME": 5 * DAY, "CUSTOMS_HOLD": 3 * DAY, "WEATHER_DELAY": 3 * DAY,
              "FAILED_ATTEMPT": 0 * DAY}
# The alerts of a parcel that is stuck, or whose journey ended undelivered: its tracker shows a BLOCKED step.
BLOCKING = {"CUSTOMS_HOLD", "DUTIES_DUE", "ADDRESS_ISSUE", "FAILED_ATTEMPT", "RETURNING_TO_SENDER",
            "RETURNED_TO_SENDER", "LOST", "DAMAGED", "AUTHENTICATION_FAILED"}


@pytest.mark.parametrize(("order_id", "kind", "severity", "suggestion", "display", "label"), ALERTS)
async def test_each_abnormal_scenario_raises_its_alert_with_a_cause_and_a_next_step(
        gw: Gateway, order_id: str, kind: str, severity: str, suggestion: str, display: str, label: str) -> None:
    order = await _order(gw, order_id, """displayStatus statusLabel
        alerts { kind severity packageId title cause nextStep suggestedAction revisedDate }
        packages { id status eta { latest revised } alerts { kind } tracker { state } }""")
    [alert] = order["alerts"]
    [package] = order["packages"]
    assert alert["kind"] == kind
    assert alert["packageId"] == package["id"]
    assert [a["kind"] for a in package["alerts"]] == [kind]
    assert alert["title"].strip() and len(alert["cause"]) > 15 and len(alert["nextStep"]) > 15
    assert alert["cause"] != alert["nextStep"]
    assert (alert["severity"], alert["suggestedAction"]) == (severity, suggestion)
    assert (order["displayStatus"], order["statusLabel"]) == (display, label)
    if kind in REVISED_BY:
        # The carrier revised its estimate (the archetypes' offsets): the alert and the ETA give that date.
        assert package["eta"]["revised"] is True
        assert alert["revisedDate"] == package["eta"]["latest"] == str((TEST_NOW + REVISED_BY[kind]).date())
    else:
        assert alert["revisedDate"] is None
    blocked = "BLOCKED" in {s["state"] for s in package["tracker"]}
    assert blocked is (kind in BLOCKING), "a stuck parcel, or a journey that ended undelivered, is blocked"


@pytest.mark.parametrize(("order_id", "package_status", "reason", "label", "headline", "refund"), [
    ("ord-us-lost", "LOST", "Package lost", "Canceled: package lost", "Order canceled: package lost", "$318.11"),
    ("ord-uk-lost", "LOST", "Package lost", "Cancelled: parcel lost", "Order cancelled: parcel lost", "£97.09"),
    ("ord-us-returned-to-sender", "RETURNED_TO_SENDER", "Delivery failed; returned to seller",
     "Canceled: returned to the seller", "Order canceled: returned to the seller", "$29.75"),
    ("ord-uk-returned-to-sender", "RETURNED_TO_SENDER", "Delivery failed; returned to seller",
     "Cancelled: returned to the seller", "Order cancelled: returned to the seller", "£61.09"),
    # The item's price, its tax and the shipping: $30.00 + $2.40 + $5.99, £48.00 + £9.60 + £3.49.
    ("ord-us-damaged", "DAMAGED", "Package damaged", "Canceled: package damaged", "Order canceled: package damaged",
     "$38.39"),
    ("ord-uk-damaged", "DAMAGED", "Package damaged", "Cancelled: parcel damaged", "Order cancelled: parcel damaged",
     "£61.09"),
])
async def test_a_parcel_lost_damaged_or_sent_back_is_cancelled_and_refunded_by_the_platform(
        gw: Gateway, order_id: str, package_status: str, reason: str, label: str, headline: str,
        refund: str) -> None:
    order = await _order(gw, order_id, """status displayStatus statusLabel sellerStatus
        tracker { headline steps { kind state } }
        lineItems { quantity cancelledQuantity } cancelledItems { quantity }
        cancellations { status initiator reason refund { formatted } }
        alerts { kind nextStep }
        packages { status items { quantity } tracker { state } }
        afterSalesActions { kind available unavailableReason }""")
    # The platform recorded the cancellation (DOMAIN 1.4), so the whole page says cancelled, and why.
    assert (order["status"], order["displayStatus"], order["sellerStatus"]) == ("CANCELLED", "CANCELLED", "CANCELLED")
    assert order["statusLabel"] == label
    assert order["tracker"]["headline"] == headline
    assert _steps(order["tracker"]["steps"]) == {"PLACED": "DONE", "SHIPPED": "BLOCKED", "DELIVERED": "UPCOMING"}
    [cancellation] = order["cancellations"]
    assert (cancellation["status"], cancellation["initiator"], cancellation["reason"]) == (
        "CANCELLED", "SYSTEM", reason)
    assert cancellation["refund"]["formatted"] == refund
    assert all(i["cancelledQuantity"] == i["quantity"] for i in order["lineItems"])
    assert sum(i["quantity"] for i in order["cancelledItems"]) == sum(i["quantity"] for i in order["lineItems"])
    # The parcel still says what happened to it; its items are counted once, as cancelled.
    [package] = order["packages"]
    assert (package["status"], package["items"]) == (package_status, [])
    assert "BLOCKED" in {s["state"] for s in package["tracker"]}
    # The alert no longer promises a refund: it says the one that was made, to the penny.
    [alert] = order["alerts"]
    assert refund in alert["nextStep"] and "refunded to your original payment method" in alert["nextStep"]
    for kind in ("CANCEL_ORDER", "REQUEST_RETURN", "REPORT_LATE"):
        assert _action(order, kind)["unavailableReason"] == "ORDER_CANCELLED", kind


@pytest.mark.parametrize(("order_id", "refund_word"), [
    ("ord-us-returning-to-sender", "package"), ("ord-uk-returning-to-sender", "parcel"),
])
async def test_a_parcel_on_its_way_back_is_not_cancelled_until_it_is_back(gw: Gateway, order_id: str,
                                                                          refund_word: str) -> None:
    order = await _order(gw, order_id, """status sellerStatus cancellations { status } cancelledItems { quantity }
        alerts { cause nextStep since } packages { status items { quantity } tracker { kind state } }""")
    # Two failed attempts, then the carrier turned it round yesterday; the platform cancels once it is back.
    assert (order["status"], order["sellerStatus"]) == ("SHIPPED", "SHIPPED")
    assert (order["cancellations"], order["cancelledItems"]) == ([], [])
    [package] = order["packages"]
    assert package["status"] == "RETURNING_TO_SENDER" and package["items"]
    assert _steps(package["tracker"])["OUT_FOR_DELIVERY"] == "BLOCKED"
    [alert] = order["alerts"]
    assert _t(alert["since"]) == TEST_NOW - 20 * HOUR
    assert "returning to sender" in alert["cause"]
    assert alert["nextStep"] == f"Once the {refund_word} is back with the seller you'll be refunded."


@pytest.mark.parametrize("order_id", ["ord-us-tracking-stalled", "ord-uk-tracking-stalled"])
async def test_a_parcel_not_scanned_for_days_says_since_when(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, """promisedDeliveryDate alerts { cause since }
        packages { status tracker { kind state } } afterSalesActions { kind available unavailableReason }""")
    [alert] = order["alerts"]
    # The last scan was six days ago (past the five-day threshold); the promise is tomorrow, so it is not late.
    assert _t(alert["since"]) == TEST_NOW - 6 * DAY
    assert ("Sat, Nov 14" if "-us-" in order_id else "Sat 14 Nov") in alert["cause"]
    assert order["promisedDeliveryDate"] == str((TEST_NOW + DAY).date())
    assert _action(order, "REPORT_LATE")["unavailableReason"] == "NOT_LATE"
    [package] = order["packages"]
    assert (package["status"], _steps(package["tracker"])["IN_TRANSIT"]) == ("IN_TRANSIT", "CURRENT")


@pytest.mark.parametrize(("order_id", "since"), [
    ("ord-us-tracking-stalled", "Sat, Nov 14"), ("ord-uk-tracking-stalled", "Sat 14 Nov"),
])
async def test_a_stalled_parcel_gives_no_date_anywhere_on_the_page(gw: Gateway, order_id: str, since: str) -> None:
    order = await _order(gw, order_id, """statusLabel tracker { headline } alerts { title cause }
        packages { eta { latest } tracker { kind state description } }
        afterSalesActions { kind message }""")
    # The carrier's estimate (tomorrow) was made before it stopped scanning: the label, the package and
    # its tracker say what is known (the last scan) rather than a date nobody can stand behind.
    [alert], [package] = order["alerts"], order["packages"]
    assert order["statusLabel"] == f"No tracking updates since {since}"
    assert alert["title"] == "No tracking updates" and since in alert["cause"]
    assert package["eta"] is None
    steps = {s["kind"]: s for s in package["tracker"]}
    assert since in steps["IN_TRANSIT"]["description"] and steps["IN_TRANSIT"]["state"] == "CURRENT"
    assert steps["DELIVERED"]["description"] == "Delivery date to be confirmed."
    assert order["tracker"]["headline"] == "Shipped"
    assert _action(order, "REQUEST_RETURN")["message"] == "You can return items once they're delivered."


async def test_import_charges_due_point_at_the_carriers_page_to_pay_them(gw: Gateway) -> None:
    order = await _order(gw, "ord-uk-duties-due", """totals { subtotal { amount } }
        alerts { cause nextStep since } packages { carrier { name } trackingUrl tracker { kind state } }""")
    # Over £135 the VAT is due at the border (DOMAIN: held for payment, AfterShip Exception_006).
    assert Decimal(order["totals"]["subtotal"]["amount"]) > 135
    [alert] = order["alerts"]
    [package] = order["packages"]
    assert package["carrier"]["name"] == "DHL Express" and package["trackingUrl"]
    assert "DHL Express" in alert["nextStep"] and "import duties" in alert["cause"]
    assert _t(alert["since"]) == TEST_NOW - DAY
    assert _steps(package["tracker"])["IN_TRANSIT"] == "BLOCKED"


@pytest.mark.parametrize(("order_id", "status", "step"), [
    ("ord-us-luxury-authentication-overdue", "SUBMITTED", "CURRENT"),
    ("ord-uk-luxury-authentication-overdue", "SUBMITTED", "CURRENT"),
    ("ord-us-luxury-authentication-failed", "REJECTED", "BLOCKED"),
    ("ord-uk-luxury-authentication-failed", "REJECTED", "BLOCKED"),
])
async def test_an_authentication_past_its_deadline_or_rejected_is_explained(gw: Gateway, order_id: str, status: str,
                                                                           step: str) -> None:
    order = await _order(gw, order_id, """status alerts { kind since nextStep }
        packages { status authentication { status provider approvedAt } tracker { kind state } }""")
    [package] = order["packages"]
    assert (order["status"], package["status"]) == ("PROCESSING", "AWAITING_AUTHENTICATION")
    assert package["authentication"] == {"status": status, "provider": "Entrupy", "approvedAt": None}
    assert _steps(package["tracker"])["AUTHENTICATING"] == step
    [alert] = order["alerts"]
    if status == "SUBMITTED":
        # Placed 38 hours ago with a 24-hour review window: overdue since the deadline, 14 hours ago.
        assert _t(alert["since"]) == TEST_NOW - 14 * HOUR
    else:
        assert alert["since"] is None
    assert ("canceled" if "-us-" in order_id else "cancelled") in alert["nextStep"]


@pytest.mark.parametrize("order_id", ["ord-us-luxury-authentication-overdue", "ord-uk-luxury-authentication-overdue"])
async def test_an_overdue_authentication_gives_no_date_and_the_page_agrees(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, """displayStatus statusLabel tracker { headline } alerts { title }
        packages { eta { latest } tracker { kind state description } }""")
    [alert], [package] = order["alerts"], order["packages"]
    assert (order["displayStatus"], order["statusLabel"]) == ("DELAYED", alert["title"])
    assert package["eta"] is None, "it cannot ship before it is approved, so no arrival date can be promised"
    steps = {s["kind"]: s for s in package["tracker"]}
    assert steps["AUTHENTICATING"]["state"] == "CURRENT"
    assert steps["AUTHENTICATING"]["description"] == \
        "Entrupy is still checking the item: it's taking longer than expected."
    assert steps["DELIVERED"]["description"] == "Delivery date to be confirmed."
    assert order["tracker"]["headline"] == "Preparing your order"


@pytest.mark.parametrize(("order_id", "word"), [
    ("ord-us-luxury-authentication-failed", "canceled"), ("ord-uk-luxury-authentication-failed", "cancelled"),
])
async def test_an_item_that_failed_authentication_offers_nothing_the_platform_does_itself(
        gw: Gateway, order_id: str, word: str) -> None:
    order = await _order(gw, order_id, """packages { eta { latest } tracker { kind description } }
        afterSalesActions { kind available unavailableReason message requiresApproval }""")
    # The platform cancels and refunds it (DOMAIN 1.6, TTS-COA): no request to the seller, no new address,
    # no late report, and no arrival date for an item that will not ship.
    for kind in ("CANCEL_ORDER", "CANCEL_ITEMS", "CHANGE_ADDRESS", "REPORT_LATE"):
        action = _action(order, kind)
        assert (action["available"], action["unavailableReason"]) == (False, "AUTHENTICATION_FAILED"), kind
        assert action["message"] == (f"The item failed authentication, so it won't ship: the order will be {word} "
                                     "and fully refunded automatically."), kind
    [package] = order["packages"]
    assert package["eta"] is None
    assert package["tracker"][-1] == {"kind": "DELIVERED", "description": "It won't be delivered."}


@pytest.mark.parametrize("order_id", [
    "ord-us-returning-to-sender", "ord-uk-returning-to-sender", "ord-us-returned-to-sender", "ord-uk-lost",
    "ord-us-damaged",
])
async def test_a_parcel_that_will_not_arrive_has_no_arrival_date(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, """statusLabel packages { status eta { latest } tracker { kind description } }
        afterSalesActions { kind message }""")
    [package] = order["packages"]
    assert package["eta"] is None, package["status"]
    assert package["tracker"][-1] == {"kind": "DELIVERED", "description": "It won't be delivered."}
    assert "arriving" not in order["statusLabel"].lower()
    assert "expected" not in _action(order, "REQUEST_RETURN")["message"]


@pytest.mark.parametrize("order_id", ["ord-us-on-hold", "ord-uk-awaiting-shipment", "ord-us-cancel-requested",
                                      "ord-us-luxury-authenticating"])
async def test_nothing_unshipped_can_be_reported_late(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, "afterSalesActions { kind available unavailableReason message }")
    late = _action(order, "REPORT_LATE")
    assert (late["available"], late["unavailableReason"]) == (False, "NOT_SHIPPED")
    assert late["message"] == "It hasn't shipped yet: a late delivery can be reported once it's on its way."


async def test_a_late_order_can_be_reported_late_and_an_on_time_one_cannot(gw: Gateway) -> None:
    late = await _order(gw, "ord-us-late", "promisedDeliveryDate afterSalesActions { kind available }")
    assert late["promisedDeliveryDate"] == str((TEST_NOW - 3 * DAY).date())
    assert _action(late, "REPORT_LATE")["available"] is True
    on_time = await _order(gw, "ord-us-in-transit", "afterSalesActions { kind available unavailableReason }")
    assert _action(on_time, "REPORT_LATE")["unavailableReason"] == "NOT_LATE"


# -- cancellations ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("order_id", "label", "initiator"), [
    ("ord-us-cancelled-by-buyer", "Canceled by you", "BUYER"),
    ("ord-uk-cancelled-by-buyer", "Cancelled by you", "BUYER"),
    ("ord-us-cancelled-by-system", "Canceled automatically", "SYSTEM"),
    ("ord-uk-cancelled-by-system", "Cancelled automatically", "SYSTEM"),
])
async def test_a_cancelled_order_says_who_cancelled_it(gw: Gateway, order_id: str, label: str,
                                                       initiator: str) -> None:
    order = await _order(gw, order_id, """status displayStatus statusLabel sellerStatus
        tracker { headline } lineItems { quantity cancelledQuantity }
        cancellations { status initiator reason } afterSalesActions { kind available unavailableReason }""")
    assert (order["status"], order["displayStatus"], order["sellerStatus"]) == ("CANCELLED", "CANCELLED", "CANCELLED")
    assert order["statusLabel"] == label
    assert order["tracker"]["headline"] == ("Order canceled" if "-us-" in order_id else "Order cancelled")
    assert all(i["cancelledQuantity"] == i["quantity"] for i in order["lineItems"])
    [cancellation] = order["cancellations"]
    assert (cancellation["status"], cancellation["initiator"]) == ("CANCELLED", initiator)
    assert cancellation["reason"]
    for kind in ("CANCEL_ORDER", "CANCEL_ITEMS", "CHANGE_ADDRESS", "REQUEST_RETURN", "REPORT_LATE"):
        assert _action(order, kind)["unavailableReason"] == "ORDER_CANCELLED", kind


async def test_a_partly_cancelled_order_carries_on_with_the_rest(gw: Gateway) -> None:
    order = await _order(gw, "ord-us-partially-cancelled", """status displayStatus
        lineItems { id quantity cancelledQuantity } cancelledItems { quantity lineItem { id } }
        cancellations { initiator status } packages { status items { lineItem { id } } }""")
    assert order["status"] == "SHIPPED" and order["displayStatus"] == "SHIPPED"
    [gone] = order["cancelledItems"]
    [kept] = [i for i in order["lineItems"] if i["cancelledQuantity"] == 0]
    assert gone["lineItem"]["id"] != kept["id"]
    assert [(c["initiator"], c["status"]) for c in order["cancellations"]] == [("SELLER", "CANCELLED")]
    assert [i["lineItem"]["id"] for p in order["packages"] for i in p["items"]] == [kept["id"]]


@pytest.mark.parametrize(("order_id", "message"), [
    ("ord-us-on-hold", "Free cancellation until Fri, Nov 20 at 7:37 AM."),
    ("ord-uk-on-hold", "Free cancellation until Fri 20 Nov, 12:37."),
])
async def test_an_order_on_hold_can_be_cancelled_freely_for_an_hour_after_payment(
        gw: Gateway, order_id: str, message: str) -> None:
    order = await _order(gw, order_id, """status displayStatus paidAt freeCancellationUntil
        afterSalesActions { kind available requiresApproval deadline message items { quantity } }""")
    paid = _t(order["paidAt"])
    assert paid == TEST_NOW - timedelta(minutes=23)
    assert _t(order["freeCancellationUntil"]) == paid + HOUR
    cancel = _action(order, "CANCEL_ORDER")
    assert cancel["available"] is True and cancel["requiresApproval"] is False
    assert _t(cancel["deadline"]) == paid + HOUR
    assert cancel["message"] == message
    assert sum(i["quantity"] for i in cancel["items"]) == 2
    assert (order["status"], order["displayStatus"]) == ("PLACED", "PLACED")


@pytest.mark.parametrize("order_id", ["ord-us-awaiting-shipment", "ord-uk-awaiting-shipment"])
async def test_after_the_free_hour_cancelling_needs_the_sellers_approval(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, """status freeCancellationUntil
        afterSalesActions { kind available requiresApproval }""")
    assert order["freeCancellationUntil"] is None
    assert order["status"] == "PROCESSING"
    for kind in ("CANCEL_ORDER", "CANCEL_ITEMS"):
        action = _action(order, kind)
        assert (action["available"], action["requiresApproval"]) == (True, True), kind
    assert _action(order, "CHANGE_ADDRESS")["available"] is True


async def test_a_pending_cancellation_request_blocks_another(gw: Gateway) -> None:
    order = await _order(gw, "ord-us-cancel-requested", """displayStatus statusLabel
        cancellations { status sellerResponseDue } afterSalesActions { kind available unavailableReason }""")
    assert (order["displayStatus"], order["statusLabel"]) == ("CANCELLATION_REQUESTED", "Cancellation requested")
    [request] = order["cancellations"]
    assert request["status"] == "REQUESTED" and request["sellerResponseDue"]
    assert _action(order, "CANCEL_ORDER")["unavailableReason"] == "CANCELLATION_PENDING"


async def test_while_the_whole_order_is_being_cancelled_its_address_cannot_change(gw: Gateway) -> None:
    fields = "afterSalesActions { kind available unavailableReason alternative message }"
    buyer = await _order(gw, "ord-us-cancel-requested", fields)
    change = _action(buyer, "CHANGE_ADDRESS")
    assert (change["available"], change["unavailableReason"], change["alternative"]) == (
        False, "CANCELLATION_PENDING", "CONTACT_SELLER")
    assert change["message"] == \
        "Your cancellation request is with the seller: the address can't change while they decide."
    body = await gw.query('query { order(id: "ord-us-cancel-requested") { ' + fields + " } }",
                          as_="seller-hearth", role=Role.SELLER, shop_id="shop-us-hearth-home")
    update = _action(body["data"]["order"], "UPDATE_ADDRESS")
    assert (update["available"], update["unavailableReason"], update["alternative"]) == (
        False, "CANCELLATION_PENDING", "RESPOND_TO_CANCELLATION")
    assert _action(body["data"]["order"], "RESPOND_TO_CANCELLATION")["available"] is True


# -- returns in progress ---------------------------------------------------------------------------

RETURN_FIELDS = """displayStatus statusLabel lineItems { id }
  returns { id kind status statusLabel
    lines { lineItem { id } quantity reason reasonLabel status }
    steps { kind state time } instructions { step title detail deadline } }
  afterSalesActions { kind available unavailableReason returnIds
    items { lineItem { id } reasons { code resolutions } } }"""


@pytest.mark.parametrize(("order_id", "reasons"), [
    ("ord-us-return-in-progress", {"DOES_NOT_FIT", "DAMAGED"}),
    ("ord-uk-return-in-progress", {"TOO_SMALL", "DAMAGED"}),
])
async def test_a_return_in_progress_has_a_reason_per_line_its_steps_and_instructions(
        gw: Gateway, order_id: str, reasons: set[str]) -> None:
    order = await _order(gw, order_id, RETURN_FIELDS)
    assert (order["displayStatus"], order["statusLabel"]) == ("RETURN_IN_PROGRESS", "Return in progress")
    [ret] = order["returns"]
    assert ret["status"] == "APPROVED_AWAITING_SHIPMENT"
    assert len(ret["lines"]) == 2
    assert {line["reason"] for line in ret["lines"]} == reasons
    assert len({line["reasonLabel"] for line in ret["lines"]}) == 2
    assert len({line["lineItem"]["id"] for line in ret["lines"]}) == 2
    assert all(line["quantity"] == 1 for line in ret["lines"])
    assert [(s["kind"], s["state"]) for s in ret["steps"]] == [
        ("REQUESTED", "DONE"), ("APPROVED", "CURRENT"), ("SHIPPED_BACK", "UPCOMING"), ("RECEIVED", "UPCOMING"),
        ("REFUNDED", "UPCOMING")]
    assert _t(ret["steps"][0]["time"]) == TEST_NOW - 2 * DAY
    instructions = ret["instructions"]
    assert [i["step"] for i in instructions] == list(range(1, len(instructions) + 1))
    assert len(instructions) >= 3
    drop_off = next(i for i in instructions if i["deadline"])
    assert _t(drop_off["deadline"]) > TEST_NOW
    # The third item, not in the return, can still be added to it.
    returned = {line["lineItem"]["id"] for line in ret["lines"]}
    add = _action(order, "ADD_ITEMS_TO_RETURN")
    assert add["available"] is True and add["returnIds"] == [ret["id"]]
    assert {i["lineItem"]["id"] for i in add["items"]} == {i["id"] for i in order["lineItems"]} - returned
    # The added item travels in this return-and-refund parcel: only reasons that can go back with it, each
    # resolved the return's way. A missing item (nothing to send back) needs a request of its own.
    [alone] = _action(order, "REQUEST_RETURN")["items"]
    [joining] = add["items"]
    assert "MISSING_ITEM" in {r["code"] for r in alone["reasons"]}
    assert {r["code"] for r in joining["reasons"]} == {r["code"] for r in alone["reasons"]} - {"MISSING_ITEM"}
    assert {tuple(r["resolutions"]) for r in joining["reasons"]} == {(ret["kind"],)}
    assert _action(order, "CANCEL_RETURN")["available"] is True


async def test_a_batch_return_on_its_way_back_has_three_reasons_and_can_no_longer_change(gw: Gateway) -> None:
    order = await _order(gw, "ord-uk-batch-return", RETURN_FIELDS)
    assert (order["displayStatus"], order["statusLabel"]) == ("RETURN_IN_PROGRESS", "Return on its way back")
    [ret] = order["returns"]
    assert ret["status"] == "IN_RETURN_TRANSIT"
    assert {line["reason"] for line in ret["lines"]} == {"TOO_LARGE", "QUALITY_NOT_AS_EXPECTED", "WRONG_ITEM"}
    assert _steps(ret["steps"]) == {"REQUESTED": "DONE", "APPROVED": "DONE", "SHIPPED_BACK": "CURRENT",
                                    "RECEIVED": "UPCOMING", "REFUNDED": "UPCOMING"}
    for kind in ("ADD_ITEMS_TO_RETURN", "CANCEL_RETURN"):
        assert _action(order, kind)["unavailableReason"] == "RETURN_ALREADY_SHIPPED", kind


# -- US and UK -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("order_id", "currency", "symbol"), [
    ("ord-us-in-transit", "USD", "$"), ("ord-uk-in-transit", "GBP", "£"),
])
async def test_money_is_in_the_markets_currency_and_style(gw: Gateway, order_id: str, currency: str,
                                                          symbol: str) -> None:
    order = await _order(gw, order_id, """market currency
        totals { subtotal { amount currency formatted minorUnits } total { amount currency formatted minorUnits } }
        lineItems { quantity unitPrice { amount formatted } total { amount currency formatted minorUnits } }""")
    assert order["currency"] == currency
    monies = [order["totals"]["subtotal"], order["totals"]["total"], *(i["total"] for i in order["lineItems"])]
    for money in monies:
        assert money["currency"] == currency
        assert re.fullmatch(r"\d+\.\d{2}", money["amount"]), money
        assert money["formatted"] == f"{symbol}{Decimal(money['amount']):,.2f}"
        assert money["minorUnits"] == int(Decimal(money["amount"]) * 100)
    for item in order["lineItems"]:
        assert Decimal(item["total"]["amount"]) == Decimal(item["unitPrice"]["amount"]) * item["quantity"]


@pytest.mark.parametrize(("order_id", "label"), [
    ("ord-us-in-transit", "Arriving Sun, Nov 22"),
    ("ord-uk-in-transit", "Arriving Sun 22 Nov"),
    ("ord-us-delivered", "Delivered Sat, Nov 14"),
    ("ord-uk-delivered", "Delivered Sat 14 Nov"),
    ("ord-us-carrier-delay", "Delayed, now arriving Tue, Nov 24"),
    ("ord-uk-carrier-delay", "Delayed, now arriving Tue 24 Nov"),
    ("ord-us-pickup-point", "Ready for pickup"),
    ("ord-uk-pickup-point", "Ready to collect"),
    ("ord-us-split-custom", "Out for delivery: 1 of 2 packages"),
    ("ord-uk-split-custom", "Out for delivery: 1 of 2 parcels"),
])
async def test_labels_follow_the_markets_date_style_and_words(gw: Gateway, order_id: str, label: str) -> None:
    order = await _order(gw, order_id, "statusLabel")
    assert order["statusLabel"] == label


async def test_each_market_the_mocks_serve_is_one_row_of_the_gateways_policy_table() -> None:
    from gateway.domain.policy import POLICIES
    from gateway.upstream.orders import MARKETS as REGIONS
    from mocks.catalog.reference import MARKETS

    rows = {p.country: p for p in POLICIES.values()}
    assert set(rows) == set(MARKETS) == set(REGIONS), "one policy row per region the order service speaks"
    for region, served in MARKETS.items():
        assert (rows[region].currency, REGIONS[region]) == (served.currency, rows[region].market)


# -- what can be returned --------------------------------------------------------------------------

RETURNABLE = """packages { deliveredAt }
  afterSalesActions { kind available unavailableReason deadline
    items { note lineItem { name tags } reasons { code category deadline basis } } }"""


@pytest.mark.parametrize(("order_id", "tag"), [
    ("ord-us-delivered-final-sale", "FINAL_SALE"), ("ord-uk-delivered-personalised", "PERSONALISED"),
])
async def test_excluded_items_are_only_offered_faulty_reasons_with_a_note(gw: Gateway, order_id: str,
                                                                          tag: str) -> None:
    order = await _order(gw, order_id, RETURNABLE)
    delivered = _t(order["packages"][0]["deliveredAt"])
    assert delivered == TEST_NOW - 4 * DAY
    items = {tag in i["lineItem"]["tags"]: i for i in _action(order, "REQUEST_RETURN")["items"]}
    excluded, plain = items[True], items[False]
    assert {r["category"] for r in excluded["reasons"]} <= {"FAULTY", "DELIVERY"}
    assert {"DAMAGED", "DEFECTIVE", "WRONG_ITEM"} <= {r["code"] for r in excluded["reasons"]}
    assert excluded["note"] and "faulty" in excluded["note"]
    assert "CHANGE_OF_MIND" in {r["category"] for r in plain["reasons"]}
    assert plain["note"] is None
    damaged = {name: next(r for r in i["reasons"] if r["code"] == "DAMAGED") for name, i in items.items()}
    if order_id.startswith("ord-us"):
        # The money-back guarantee covers the everyday item for 90 days, not the final-sale one.
        assert _t(damaged[False]["deadline"]) == delivered + 90 * DAY
        assert _t(damaged[True]["deadline"]) == delivered + 30 * DAY
    else:
        assert _t(damaged[True]["deadline"]) == delivered + 30 * DAY
        assert "Consumer Rights Act" in damaged[True]["basis"]


async def test_after_30_days_a_us_order_can_only_be_returned_damaged_or_defective(gw: Gateway) -> None:
    order = await _order(gw, "ord-us-delivered-guarantee-only", RETURNABLE)
    delivered = _t(order["packages"][0]["deliveredAt"])
    assert delivered == TEST_NOW - 44 * DAY
    action = _action(order, "REQUEST_RETURN")
    assert action["available"] is True and len(action["items"]) == 2
    for item in action["items"]:
        assert [r["code"] for r in item["reasons"]] == ["DAMAGED", "DEFECTIVE"]
        for reason in item["reasons"]:
            assert _t(reason["deadline"]) == delivered + 90 * DAY
            assert "Money-back guarantee" in reason["basis"]


@pytest.mark.parametrize(("order_id", "days"), [
    ("ord-us-delivered-window-closed", 90), ("ord-uk-delivered-window-closed", 30),
])
async def test_a_closed_window_says_when_it_closed(gw: Gateway, order_id: str, days: int) -> None:
    order = await _order(gw, order_id, RETURNABLE)
    delivered = _t(order["packages"][0]["deliveredAt"])
    action = _action(order, "REQUEST_RETURN")
    assert (action["available"], action["unavailableReason"]) == (False, "WINDOW_CLOSED")
    assert _t(action["deadline"]) == delivered + days * DAY
    assert action["items"] == []


async def test_return_reasons_differ_by_market(gw: Gateway) -> None:
    body = await gw.query("{ us: returnReasons(market: US) { code } uk: returnReasons(market: UK) { code } }")
    us, uk = ({r["code"] for r in body["data"][m]} for m in ("us", "uk"))
    assert "DOES_NOT_FIT" in us - uk
    assert {"TOO_SMALL", "TOO_LARGE", "MISSED_DELIVERY_DATE"} <= uk - us
    assert {"NO_LONGER_NEEDED", "DAMAGED", "DEFECTIVE"} <= us & uk
    assert not {"NOT_RECEIVED", "LATE"} & (us | uk), "those have their own actions"


@pytest.mark.parametrize(("order_id", "amount", "formatted", "reason"), [
    # The item's price plus its tax (US 8%, UK 20%), no shipping: $289.00 + $23.12, £78.00 + £15.60.
    ("ord-us-refunded", "312.12", "$312.12", "DEFECTIVE"),
    ("ord-uk-refunded", "93.60", "£93.60", "DEFECTIVE"),
])
async def test_a_refunded_return_says_how_much_was_refunded_and_when(gw: Gateway, order_id: str, amount: str,
                                                                     formatted: str, reason: str) -> None:
    order = await _order(gw, order_id, """displayStatus statusLabel currency lineItems { total { amount } }
        returns { kind status statusLabel lines { quantity reason }
                  refund { amount { amount currency formatted } state refundedAt } steps { kind state time } }
        afterSalesActions { kind available unavailableReason }""")
    assert (order["displayStatus"], order["statusLabel"]) == ("REFUNDED", "Refunded")
    [ret] = order["returns"]
    assert (ret["kind"], ret["status"]) == ("RETURN_AND_REFUND", "REFUNDED")
    assert [(line["quantity"], line["reason"]) for line in ret["lines"]] == [(1, reason)]
    refund = ret["refund"]
    assert refund["state"] == "REFUNDED"
    assert refund["amount"] == {"amount": amount, "currency": order["currency"], "formatted": formatted}
    assert _t(refund["refundedAt"]) == TEST_NOW - 12 * DAY
    [item] = order["lineItems"]
    assert Decimal(amount) > Decimal(item["total"]["amount"]), "the tax paid is refunded too"
    assert {s["state"] for s in ret["steps"]} == {"DONE"}
    assert [s["kind"] for s in ret["steps"]][-1] == "REFUNDED"
    assert _t(ret["steps"][-1]["time"]) == TEST_NOW - 12 * DAY
    # The item is refunded: nothing left to cancel, withdraw or return.
    assert _action(order, "CANCEL_RETURN")["unavailableReason"] == "RETURN_ALREADY_SHIPPED"
    assert _action(order, "REQUEST_RETURN")["available"] is False


@pytest.mark.parametrize("order_id", ["ord-us-not-received", "ord-uk-not-received"])
async def test_a_not_received_report_is_a_refund_without_sending_anything_back(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, """displayStatus statusLabel returns { kind status
        lines { reason } steps { kind state description } instructions { title detail } }""")
    assert (order["displayStatus"], order["statusLabel"]) == ("RETURN_IN_PROGRESS", "Reported not received")
    [ret] = order["returns"]
    assert (ret["kind"], ret["status"]) == ("REFUND_ONLY", "REQUESTED")
    assert [line["reason"] for line in ret["lines"]] == ["NOT_RECEIVED"]
    assert [s["kind"] for s in ret["steps"]] == ["REQUESTED", "APPROVED", "REFUNDED"], "no parcel steps"
    assert "Keep the items" in [i["title"] for i in ret["instructions"]]


@pytest.mark.parametrize("order_id", ["ord-us-not-received", "ord-uk-not-received"])
async def test_a_refund_only_request_never_waits_for_a_return_to_arrive(gw: Gateway, order_id: str) -> None:
    order = await _order(gw, order_id, "returns { steps { description } instructions { detail } }")
    [ret] = order["returns"]
    texts = [s["description"] for s in ret["steps"]] + [i["detail"] for i in ret["instructions"]]
    assert not [t for t in texts if re.search(r"receiv\w* the return", t)], texts
