"""The reference page with the keyboard only: sign in, page through the order history, open an order and
complete a return (items, a reason each, review, confirm), then go back to the history. Only Tab,
Shift+Tab, Enter, Space and the arrow keys are pressed, and every stop shows where the focus is."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.pages import ALICE, action_button
from tests.e2e.stack import Stack

# What has the focus: enough to recognise it, and whether a sighted keyboard user can see it.
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const ring = el.matches(':focus-visible')
    && ((style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none');
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.getAttribute('aria-label') || el.innerText || '').trim(),
    label: el.labels?.[0]?.innerText.trim() ?? null,
    group: el.closest('fieldset')?.querySelector('legend')?.innerText.trim() ?? null,
    value: el.value ?? null,
    ring,
    inView: box.bottom > 0 && box.top < innerHeight && box.width > 0 && box.height > 0,
  };
}"""

Focus = dict[str, Any]


def focused(page: Page) -> Focus:
    found: Focus = page.evaluate(FOCUSED)
    return found


def press(page: Page, key: str, lands_on: Locator | None = None) -> Focus:
    """One key press, and then the focus must be visible: a ring around an element on screen.

    A key that waits for the gateway (signing in, opening an order, confirming) moves the focus once the
    answer is drawn: `lands_on` is where it must land then.
    """
    page.keyboard.press(key)
    if lands_on is not None:
        expect(lands_on).to_be_focused()
    now = focused(page)
    assert now["tag"] != "body", f"{key}: the focus was lost"
    # A new view's heading takes the focus only to start reading there (it is no control, so it has no
    # ring); the next Tab from it lands on a control with one.
    if now["tag"] != "h1":
        assert now["ring"], f"{key}: no visible focus on {now}"
        assert now["inView"], f"{key}: the focus is off screen: {now}"
    return now


def tab_to(page: Page, wanted: Callable[[Focus], bool], *, back: bool = False, limit: int = 120,
           on_the_way: Callable[[Focus], bool] | None = None) -> Focus:
    """Tab (or Shift+Tab) until the focus is on what `wanted` recognises; `on_the_way` may act at a stop."""
    for _ in range(limit):
        now = press(page, "Shift+Tab" if back else "Tab")
        if wanted(now):
            return now
        if on_the_way and on_the_way(now) and wanted(focused(page)):
            return focused(page)
    raise AssertionError(f"never reached it within {limit} stops; last: {focused(page)}")


def named(text: str) -> Callable[[Focus], bool]:
    return lambda f: f["tag"] in ("a", "button") and re.search(text, f["text"]) is not None


def choose(page: Page, label: str) -> None:
    """A closed <select> steps through its options with the arrow keys, as on Linux and Windows."""
    for _ in range(40):
        if page.evaluate("() => document.activeElement.selectedOptions[0]?.textContent") == label:
            return
        press(page, "ArrowDown")
    raise AssertionError(f"no option {label!r}")


def test_a_whole_return_and_the_history_with_the_keyboard_only(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.demo}#/shoppers")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a demo shopper")

    # The view's heading has the focus, so the next Tab is the first demo shopper.
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    tab_to(page, named(f"^{ALICE}"))
    press(page, "Enter", lands_on=page.get_by_role("heading", level=1, name="Your orders"))

    # The history, a page at a time: Space on "Load more orders" focuses the first order it added.
    def load_more(now: Focus) -> bool:
        if now["tag"] == "button" and now["text"] == "Load more orders":
            added = page.locator("ol.orders > li").count()
            # The first order it added takes the focus.
            press(page, "Space", lands_on=page.locator(f"ol.orders > li:nth-child({added + 1}) a"))
            return True
        return False

    tab_to(page, named(r"\(order ord-us-delivered\)"), on_the_way=load_more)
    press(page, "Enter", lands_on=page.get_by_role("heading", level=1, name="Delivered"))
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("ord-us-delivered")

    # "Return or refund" opens its form and puts the focus on the form's first control.
    start = action_button(page, "Return or refund")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Return or refund"
           and start.evaluate("el => el === document.activeElement"))
    now = press(page, "Enter")
    expect(start).to_have_attribute("aria-expanded", "true")
    assert (now["tag"], now["label"]) == ("input", "Return this item")
    assert now["group"].startswith("Trail Runner Sneakers"), now

    # The sneakers: ticked with Space, then a reason picked with the arrow keys.
    press(page, "Space")
    form = page.get_by_role("region", name="Return or refund")
    sneakers = form.get_by_role("group", name=re.compile("Trail Runner Sneakers"))
    expect(sneakers.get_by_label("Return this item")).to_be_checked()
    now = press(page, "Tab")
    assert (now["tag"], now["label"]) == ("select", "Reason")
    choose(page, "Item doesn't fit")

    # The tee: choosing its reason ticks it; two of the three go back, for another reason.
    tees = form.get_by_role("group", name=re.compile("Everyday Cotton Tee"))
    tab_to(page, lambda f: f["group"] and f["group"].startswith("Everyday Cotton Tee") and f["label"] == "How many")
    choose(page, "2")
    now = press(page, "Tab")
    assert now["label"] == "Reason" and now["group"].startswith("Everyday Cotton Tee"), now
    choose(page, "Damaged item or packaging")
    expect(tees.get_by_label("Return this item")).to_be_checked()

    # Review: the heading of the review step takes the focus, and it shows.
    tab_to(page, named("^Continue$"))
    now = press(page, "Enter")
    assert (now["tag"], now["text"]) == ("h4", "Check your return")
    expect(form).to_contain_text("Trail Runner Sneakers × 1, reason: Item doesn't fit")
    expect(form).to_contain_text("Everyday Cotton Tee × 2, reason: Damaged item or packaging")

    # Confirm: the confirmation takes the focus, with the return's next steps beside it.
    tab_to(page, named("^Confirm return$"))
    press(page, "Enter", lands_on=page.get_by_role("status").filter(has_text="Return requested"))
    card = page.get_by_role("region", name="Returns and refunds").get_by_role("article")
    expect(card).to_contain_text("Trail Runner Sneakers × 1, reason: Item doesn't fit")
    expect(card).to_contain_text("Everyday Cotton Tee × 2, reason: Damaged item or packaging")
    lines = stack.graphql("buyer-us-alice", """{ order(id: "ord-us-delivered") {
        returns { lines { quantity reason lineItem { name } } } } }""")["order"]["returns"][0]["lines"]
    assert {(line["lineItem"]["name"], line["quantity"], line["reason"]) for line in lines} == {
        ("Trail Runner Sneakers", 1, "DOES_NOT_FIT"), ("Everyday Cotton Tee", 2, "DAMAGED")}

    # Back up the page to the breadcrumb, and to the history, where the order now says so.
    tab_to(page, named("^Your orders$"), back=True)
    press(page, "Enter", lands_on=page.get_by_role("heading", level=1, name="Your orders"))
    tab_to(page, named(r"\(order ord-us-delivered\)"), on_the_way=load_more)
    expect(page.locator(":focus")).to_contain_text("Return in progress")
