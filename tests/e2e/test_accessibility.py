"""Accessibility, checked by axe-core (WCAG 2.1 A/AA and best practices, colour contrast included) on the
page's key states, plus what axe cannot see: keyboard focus is visible."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.pages import OLIVIA, action_button, open_order, sign_in
from tests.e2e.stack import Stack

RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
         "resultTypes": ["violations", "incomplete"]}
SYMBOLS_ONLY = "Element content contains only non-text characters"


def violations(page: Page) -> list[str]:
    response: Any = Axe().run(page, options=RULES).response
    found = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
             for v in response["violations"]]
    # Contrast axe could not measure (text over a gradient or an image) counts as failed: only the
    # decorative symbols (the tracker's check marks, read out as the step's state) are exempt.
    for check in response["incomplete"]:
        if check["id"] == "color-contrast":
            found += [f"contrast not measurable at {n['target']}: {n['any'][0]['message']}" for n in check["nodes"]
                      if n["any"][0]["message"] != SYMBOLS_ONLY]
    return found


def test_the_shopper_picker_and_history(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.demo}#/shoppers")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a demo shopper")
    assert violations(page) == []
    sign_in(page, stack)
    assert violations(page) == []


@pytest.mark.parametrize("order_id", ["ord-us-failed-attempt", "ord-us-luxury-authenticating",
                                      "ord-us-return-in-progress", "ord-us-partially-cancelled"])
def test_order_pages(page: Page, stack: Stack, order_id: str) -> None:
    sign_in(page, stack)
    open_order(page, stack, order_id)
    assert violations(page) == []


def test_a_uk_split_order_on_a_phone(phone: Page, stack: Stack) -> None:
    sign_in(phone, stack, OLIVIA)
    open_order(phone, stack, "ord-uk-split-three")
    assert violations(phone) == []


def test_the_forms(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-on-hold")
    for label in ("Cancel order", "Cancel items", "Change address"):
        action_button(page, label).click()
    assert violations(page) == []
    open_order(page, stack, "ord-us-delivered")
    action_button(page, "Return or refund").click()
    action_button(page, "Didn't receive it").click()
    page.get_by_role("region", name="Return or refund").get_by_role("button", name="Continue").click()  # errors shown
    assert violations(page) == []


def test_keyboard_focus_is_visible(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    open_order(page, stack, "ord-us-delivered")
    button = action_button(page, "Return or refund")
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus arrives by keyboard, so :focus-visible applies
    expect(button).to_be_focused()
    outline = button.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert outline == "solid 3px", outline
