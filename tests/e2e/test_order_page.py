"""The reference order page in headless Chromium, against the real gateway and the mocks (clock pinned at
2026-11-20 12:00 UTC): what a shopper sees and does, asserted on visible text and roles."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import (
    ALICE,
    OLIVIA,
    action_button,
    actions,
    alert,
    current_step,
    open_order,
    package,
    sign_in,
    tracker_steps,
)
from tests.e2e.stack import Stack

ALERTS = """query($id: ID!) { order(id: $id) {
  alerts { kind severity title cause nextStep }
  packages { number tracker { label state } } } }"""


def test_a_shopper_signs_in_with_a_development_token_and_pages_through_the_history(
        page: Page, stack: Stack, screenshot: Any) -> None:
    page.goto(f"{stack.url}/demo")  # the address the README gives
    picker = page.get_by_role("list")
    # Buyers only: the page is the shopper's, the seller accounts have their own order tabs.
    expect(picker.get_by_role("button")).to_have_count(4)
    expect(page.get_by_role("button", name=re.compile("Threadline Apparel"))).to_have_count(0)
    sign_in(page, stack, ALICE)
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Signed in as Alice Johnson (US)")
    assert page.evaluate("sessionStorage.getItem('order-tracker.token')").count(".") == 2  # a JWT

    orders = page.get_by_role("main").get_by_role("list").first.get_by_role("listitem")
    expect(orders).to_have_count(10)
    first = orders.first
    expect(first).to_contain_text("Awaiting payment")
    expect(first).to_contain_text("Packable Rain Jacket")
    expect(first).to_contain_text("Placed Fri, Nov 20 · Threadline Apparel · $75.65")
    # Each order says its own status: the newest ten include a failed authentication and an address problem.
    expect(page.get_by_role("link", name=re.compile("Item failed authentication"))).to_have_count(1)
    expect(page.get_by_role("link", name=re.compile("Problem with the address"))).to_have_count(1)
    screenshot(page, "order-history")

    total = len(stack.graphql("buyer-us-alice", "{ orders(first: 50) { edges { node { id } } } }")["orders"]["edges"])
    more = page.get_by_role("button", name="Load more orders")
    while more.is_visible():
        shown = orders.count()
        more.click()
        expect(orders).to_have_count(min(shown + 10, total))
    expect(orders).to_have_count(total)
    expect(page.get_by_text(f"Showing {total} orders.")).to_be_visible()

    # The token survives a reload of the tab; an order opens from the list and "Your orders" goes back.
    page.reload()
    expect(page.get_by_role("heading", level=1, name="Your orders")).to_be_visible()
    page.get_by_role("link", name=re.compile("Authenticating")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Authenticating")
    page.get_by_role("link", name="Your orders").click()
    expect(page.get_by_role("heading", level=1, name="Your orders")).to_be_visible()

    page.get_by_role("button", name="Switch shopper").click()
    expect(page.get_by_role("heading", level=1, name="Choose a demo shopper")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('order-tracker.token')") is None


def test_one_package_in_transit_has_a_horizontal_tracker_eta_and_carrier(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-in-transit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Arriving Sun, Nov 22")
    parcel = package(page, "Your package")
    steps = tracker_steps(parcel, "Delivery progress")
    expect(steps).to_have_count(5)
    expect(steps.nth(0)).to_contain_text("Order placed")
    expect(steps.nth(0)).to_contain_text("Done")
    expect(steps.nth(0)).to_contain_text("Ordered Tue, Nov 17 at 7:00 AM.")
    expect(current_step(parcel)).to_have_count(1)
    expect(current_step(parcel)).to_contain_text("In transit")
    expect(current_step(parcel)).to_contain_text("In progress")
    expect(current_step(parcel)).to_contain_text("Arrival scan - Dallas, TX")
    expect(steps.nth(4)).to_contain_text("To come")
    # The steps are laid out in one row: each next step starts to the right of the previous one.
    boxes = [steps.nth(i).bounding_box() for i in range(5)]
    assert all(b is not None for b in boxes)
    assert [b["y"] for b in boxes] == [boxes[0]["y"]] * 5  # type: ignore[index]
    assert sorted(b["x"] for b in boxes) == [b["x"] for b in boxes]  # type: ignore[index]

    expect(parcel).to_contain_text("Estimated delivery")
    expect(parcel).to_contain_text("Sun, Nov 22")
    expect(parcel).to_contain_text("USPS")
    link = parcel.get_by_role("link", name=re.compile("9400831554563426246054"))
    expect(link).to_have_attribute("href", re.compile("usps"))
    expect(parcel.get_by_role("listitem").filter(has_text="Everyday Cotton Tee")).to_have_count(1)


def test_a_signature_is_required(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-out-for-delivery-signature")
    expect(page.get_by_role("heading", level=1)).to_have_text("Out for delivery")
    parcel = package(page, "Your package")
    expect(parcel).to_contain_text("Someone must sign for it on delivery.")
    expect(current_step(parcel)).to_contain_text("Out for delivery")
    expect(current_step(parcel)).to_contain_text("A signature is required.")


def test_a_luxury_item_is_authenticated_before_it_ships(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-luxury-authenticating")
    expect(page.get_by_role("heading", level=1)).to_have_text("Authenticating")
    parcel = package(page, "Your package")
    expect(parcel).to_contain_text("Being checked by Entrupy; result expected by Fri, Nov 20, 11:00 AM")
    expect(parcel).to_contain_text("An adult must sign for it on delivery.")
    expect(parcel).to_contain_text("Wed, Nov 25 – Fri, Nov 27")
    expect(tracker_steps(parcel)).to_have_count(6)
    expect(current_step(parcel)).to_contain_text("Authenticating")
    expect(current_step(parcel)).to_contain_text("Entrupy is checking the item is authentic before it ships.")


SPLITS = {
    "ord-us-split-backorder": (ALICE, "1 of 2 packages shipped", "Package", [
        ("Package 1 of 2", "In transit", "Your other items ship separately so they are not held up by Wool Overshirt",
         "Everyday Cotton Tee", "In transit"),
        ("Package 2 of 2", "Preparing to ship", "Wool Overshirt is on backorder, so it ships on its own",
         "Wool Overshirt", "Order placed"),
    ]),
    "ord-uk-split-three": (OLIVIA, "2 of 3 parcels delivered", "Parcel", [
        ("Parcel 1 of 3", "Delivered", "in stock at a different warehouse", "Merino Crew Jumper", None),
        ("Parcel 2 of 3", "Delivered", "in stock at a different warehouse", "Lambswool Scarf", None),
        ("Parcel 3 of 3", "Out for delivery", "in stock at a different warehouse", "Leather Chelsea Boots",
         "Out for delivery"),
    ]),
}


@pytest.mark.parametrize("order_id", SPLITS)
def test_a_split_order_tracks_each_package_and_explains_the_split(
        page: Page, stack: Stack, screenshot: Any, order_id: str) -> None:
    shopper, headline, word, packages = SPLITS[order_id]
    sign_in(page, stack, shopper)
    open_order(page, stack, order_id)
    head = page.get_by_role("region").filter(has=page.get_by_role("heading", level=1))
    expect(head).to_contain_text(headline)
    expect(head).to_contain_text(f"This order comes in {len(packages)} {word.lower()}s.")
    for heading, status, why, item, current in packages:
        parcel = package(page, heading)
        expect(parcel.get_by_role("paragraph").filter(has_text="Why it travels separately")).to_contain_text(why)
        expect(parcel).to_contain_text(status)
        expect(parcel).to_contain_text(item)
        expect(tracker_steps(parcel)).to_have_count(5)
        if current:
            expect(current_step(parcel)).to_contain_text(current)
        else:  # delivered: every step done, none current
            expect(current_step(parcel)).to_have_count(0)
            expect(tracker_steps(parcel).filter(has_text="Done")).to_have_count(5)
    if order_id == "ord-uk-split-three":
        screenshot(page, "split-order", until=package(page, "Parcel 3 of 3"))


ABNORMAL = {
    # order: (shopper, alert kind, the severity as shown, is a tracker step blocked)
    "ord-us-late": (ALICE, "LATE_DELIVERY", "Heads up", False),
    "ord-us-carrier-delay": (ALICE, "CARRIER_DELAY", "Heads up", False),
    "ord-us-holiday-delay": (ALICE, "HOLIDAY_VOLUME", "For your information", False),
    "ord-uk-customs-hold": (OLIVIA, "CUSTOMS_HOLD", "Heads up", True),
    "ord-us-failed-attempt": (ALICE, "FAILED_ATTEMPT", "Action needed", True),
    "ord-us-returned-to-sender": (ALICE, "RETURNED_TO_SENDER", "Heads up", True),
    "ord-us-lost": (ALICE, "LOST", "Heads up", True),
    "ord-us-not-received": (ALICE, "DELIVERED_NOT_RECEIVED", "For your information", False),
    "ord-us-weather-delay": (ALICE, "WEATHER_DELAY", "Heads up", False),
    "ord-uk-tracking-stalled": (OLIVIA, "TRACKING_STALLED", "Heads up", False),
    "ord-uk-duties-due": (OLIVIA, "DUTIES_DUE", "Action needed", True),
    "ord-us-address-issue": (ALICE, "ADDRESS_ISSUE", "Action needed", True),
    "ord-uk-returning-to-sender": (OLIVIA, "RETURNING_TO_SENDER", "Heads up", True),
    "ord-uk-damaged": (OLIVIA, "DAMAGED", "Heads up", True),
    "ord-us-luxury-authentication-overdue": (ALICE, "AUTHENTICATION_DELAY", "Heads up", False),
    "ord-uk-luxury-authentication-failed": (OLIVIA, "AUTHENTICATION_FAILED", "Heads up", True),
}


@pytest.mark.parametrize("order_id", ABNORMAL)
def test_an_abnormal_case_is_explained_with_cause_next_step_and_what_to_do(
        page: Page, stack: Stack, screenshot: Any, order_id: str) -> None:
    shopper, kind, severity, blocked = ABNORMAL[order_id]
    shopper_id = {ALICE: "buyer-us-alice", OLIVIA: "buyer-uk-olivia"}[shopper]
    answer = stack.graphql(shopper_id, ALERTS, {"id": order_id})["order"]
    sign_in(page, stack, shopper)
    open_order(page, stack, order_id)
    [expected] = [a for a in answer["alerts"] if a["kind"] == kind]
    shown = alert(page, expected["title"])
    expect(shown).to_be_visible()
    expect(shown).to_contain_text(severity)
    expect(shown).to_contain_text(expected["cause"])
    expect(shown).to_contain_text(f"What happens next: {expected['nextStep']}")
    expect(shown.get_by_text("What you can do").or_(shown.get_by_role("button"))
           .or_(shown.get_by_role("link"))).not_to_have_count(0)
    stuck = page.locator(".step--blocked")
    if blocked:
        expect(stuck).to_have_count(1)
        expect(stuck).to_contain_text("Needs attention")
        expect(stuck).to_have_attribute("aria-current", "step")
    else:
        expect(stuck).to_have_count(0)
    if order_id == "ord-us-failed-attempt":
        screenshot(page, "abnormal-alert", full_page=False)


def test_the_alert_suggests_reporting_a_late_package_and_the_report_goes_through(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-late")
    late = alert(page, "Running late")
    late.get_by_role("button", name="Report late delivery").click()
    panel = page.get_by_role("region", name="Report late delivery")
    expect(panel).to_be_visible()
    panel.get_by_label("What happened? (optional)").fill("Needed it for a birthday.")
    panel.get_by_role("button", name="Report late delivery").click()
    expect(page.get_by_role("status").filter(has_text="Late delivery reported")).to_be_visible()
    returns = page.get_by_role("region", name="Returns and refunds")
    expect(returns).to_contain_text("Package won't arrive on time")


def test_an_unavailable_action_is_disabled_and_says_why(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-in-transit")
    cancel = action_button(page, "Cancel order")
    expect(cancel).to_be_disabled()
    why = "It has already shipped: you can return it once it's delivered."
    expect(cancel).to_have_accessible_description(re.compile(re.escape(why)))
    expect(actions(page).get_by_text(why)).to_be_visible()
    # Every entrance the API lists is on the page, available or not.
    listed = stack.graphql("buyer-us-alice", '{ order(id: "ord-us-in-transit") { afterSalesActions { label } } }')
    expect(actions(page).get_by_role("button")).to_have_count(len(listed["order"]["afterSalesActions"]))
    expect(action_button(page, "Contact seller")).to_be_enabled()


RETURN_LINES = """query { order(id: "ord-us-delivered") { returns { lines { quantity reason lineItem { name } } } } }"""


def test_a_return_with_a_reason_per_item_then_an_item_added(page: Page, stack: Stack, screenshot: Any) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-delivered")
    start = action_button(page, "Return or refund")
    start.focus()
    page.keyboard.press("Enter")  # the entrances work from the keyboard
    expect(start).to_have_attribute("aria-expanded", "true")
    form = page.get_by_role("region", name="Return or refund")
    sneakers = form.get_by_role("group", name=re.compile("Trail Runner Sneakers"))
    tees = form.get_by_role("group", name=re.compile("Everyday Cotton Tee"))
    form.get_by_role("button", name="Continue").click()
    expect(form.get_by_role("alert")).to_contain_text("Choose at least one item.")

    sneakers.get_by_label("Return this item").check()
    sneakers.get_by_label("Reason").select_option(label="Item doesn't fit")
    # Choosing a reason ticks the item; each item has its own reason and quantity.
    tees.get_by_label("Reason").select_option(label="Damaged item or packaging")
    expect(tees.get_by_label("Return this item")).to_be_checked()
    tees.get_by_label("How many").select_option("2")
    expect(tees).to_contain_text("Accepted until")
    form.get_by_role("button", name="Continue").click()

    review = form
    expect(review.get_by_role("heading", name="Check your return")).to_be_focused()
    expect(review).to_contain_text("Trail Runner Sneakers × 1, reason: Item doesn't fit")
    expect(review).to_contain_text("Everyday Cotton Tee × 2, reason: Damaged item or packaging")
    review.get_by_role("button", name="Confirm return").click()

    done = page.get_by_role("status").filter(has_text="Return requested")
    expect(done).to_be_visible()
    expect(done).to_be_focused()
    card = page.get_by_role("region", name="Returns and refunds").get_by_role("article")
    expect(card).to_have_count(1)
    steps = card.get_by_role("list").filter(has_text="Pack the items").get_by_role("listitem")
    expect(steps).to_have_count(4)
    expect(steps.nth(0)).to_contain_text("Pack 1 x Trail Runner Sneakers, 2 x Everyday Cotton Tee")
    expect(steps.nth(2)).to_contain_text("Drop it off")
    return_steps = tracker_steps(card, "Return progress")
    expect(return_steps).to_have_count(5)
    expect(current_step(card)).to_contain_text("Approved")
    expect(page.get_by_role("heading", level=1)).to_have_text("Return in progress")
    screenshot(page, "return-instructions", of=page.get_by_role("region", name="Returns and refunds"))

    lines = stack.graphql("buyer-us-alice", RETURN_LINES)["order"]["returns"][0]["lines"]
    assert {(line["lineItem"]["name"], line["quantity"], line["reason"]) for line in lines} == {
        ("Trail Runner Sneakers", 1, "DOES_NOT_FIT"), ("Everyday Cotton Tee", 2, "DAMAGED")}

    action_button(page, "Add items to return").click()
    form = page.get_by_role("region", name="Add items to return")
    jacket = form.get_by_role("group", name=re.compile("Packable Rain Jacket"))
    jacket.get_by_label("Reason").select_option(label="No longer needed")
    form.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Add to return").click()
    expect(page.get_by_role("status").filter(has_text="Items added to your return")).to_be_visible()
    card = page.get_by_role("region", name="Returns and refunds").get_by_role("article")
    expect(card).to_contain_text("Packable Rain Jacket × 1, reason: No longer needed")
    lines = stack.graphql("buyer-us-alice", RETURN_LINES)["order"]["returns"][0]["lines"]
    assert len(lines) == 3 and len({line["reason"] for line in lines}) == 3


def test_cancelling_an_order_in_the_free_hour(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-on-hold")
    action_button(page, "Cancel order").click()
    panel = page.get_by_role("region", name="Cancel order")
    panel.get_by_role("button", name="Cancel order").click()
    expect(panel.get_by_role("alert")).to_contain_text("Choose a reason.")
    # The reasons offered are the API's, worded as the API words them.
    offered = stack.graphql("buyer-us-alice", "{ cancelReasons { code label } }")["cancelReasons"]
    options = panel.get_by_label("Why are you cancelling?").locator("option:not([value=''])")
    expect(options).to_have_text([r["label"] for r in offered])
    assert options.evaluate_all("os => os.map(o => o.value)") == [r["code"] for r in offered]
    panel.get_by_label("Why are you cancelling?").select_option(label="Ordered by mistake")
    panel.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_role("status").filter(has_text="Your order is cancelled.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Cancel"))
    expect(action_button(page, "Cancel order")).to_be_disabled()


def test_a_refused_address_change_says_why_then_goes_through(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-on-hold")
    action_button(page, "Change address").click()
    form = page.get_by_role("region", name="Change address")
    expect(form.get_by_label("Full name")).to_have_value("Alice Johnson")
    form.get_by_label("Address line 1").fill("500 Oak Avenue")
    form.get_by_label("ZIP code").fill("ABC")
    form.get_by_role("button", name="Save address").click()
    # The gateway's refusal (a userError, not an exception) is shown next to the form, on the field.
    expect(form.get_by_role("alert")).to_contain_text("Enter")
    expect(form.get_by_label("ZIP code")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("ZIP code").fill("62704")
    form.get_by_role("button", name="Save address").click()
    expect(page.get_by_role("status").filter(has_text="Delivery address updated.")).to_be_visible()
    expect(page.get_by_role("region", name="Order summary")).to_contain_text("500 Oak Avenue")


def test_after_sales_temporarily_unavailable_still_shows_tracking(page: Page, stack: Stack) -> None:
    stack.fault("aftersales", status=503)
    sign_in(page, stack)
    open_order(page, stack, "ord-us-in-transit")
    expect(actions(page).get_by_role("note")).to_contain_text("Returns and requests are temporarily unavailable.")
    expect(current_step(package(page, "Your package"))).to_contain_text("In transit")


def test_a_uk_order_shows_pounds_uk_dates_and_uk_wording(page: Page, stack: Stack) -> None:
    sign_in(page, stack, OLIVIA)
    expect(page.get_by_role("link", name=re.compile("Arriving Sun 22 Nov")).first).to_contain_text("£")
    open_order(page, stack, "ord-uk-in-transit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Arriving Sun 22 Nov")
    expect(page.get_by_role("region", name=re.compile("Arriving"))).to_contain_text("placed Tue 17 Nov")
    parcel = package(page, "Your parcel")
    expect(parcel).to_contain_text("Royal Mail")
    expect(parcel).to_contain_text("Sun 22 Nov")
    expect(current_step(parcel)).to_contain_text("20 Nov")  # the step's own date, en-GB
    summary = page.get_by_role("region", name="Order summary")
    expect(summary).to_contain_text("£")
    expect(summary).not_to_contain_text("$")


def test_tracking_temporarily_unavailable_still_shows_the_order(page: Page, stack: Stack) -> None:
    stack.fault("carrier", status=503)
    sign_in(page, stack)
    open_order(page, stack, "ord-us-split-size")
    expect(page.get_by_role("note").filter(has_text="Tracking temporarily unavailable")).to_be_visible()
    expect(package(page, "Package 1 of 2")).to_contain_text("temporarily unavailable")
    expect(action_button(page, "Return or refund")).to_be_enabled()
    expect(page.get_by_role("region", name="Order summary")).to_contain_text("Total")


def test_on_a_phone_the_tracker_stays_horizontal_and_readable(phone: Page, stack: Stack, screenshot: Any) -> None:
    sign_in(phone, stack)
    open_order(phone, stack, "ord-us-split-backorder")
    # Nothing wider than the screen: the page never scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    first = package(phone, "Package 1 of 2")
    steps = tracker_steps(first)
    boxes = [steps.nth(i).bounding_box() for i in range(5)]
    assert len({round(b["y"]) for b in boxes if b}) == 1, "the steps wrapped onto several rows"
    assert all(b and b["x"] >= 0 and b["x"] + b["width"] <= 375 for b in boxes), "five steps fit a phone"
    # The step in progress is spelled out under the row.
    expect(first.locator(".tracker__now")).to_be_visible()
    expect(first.locator(".tracker__now")).to_contain_text("In transit: Arrival scan - Dallas, TX")
    first.scroll_into_view_if_needed()
    phone.evaluate("window.scrollBy(0, -16)")
    screenshot(phone, "phone-split-order", full_page=False)

    # Six steps scroll inside the tracker, with the current one brought into view.
    open_order(phone, stack, "ord-us-luxury-authenticating")
    parcel = package(phone, "Your package")
    scroller = parcel.get_by_role("group", name="Delivery progress")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    expect(parcel.get_by_text("Swipe to see all 6 steps")).to_be_visible()
    box = current_step(parcel).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, "the step in progress is scrolled into view"
