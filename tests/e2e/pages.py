"""How a shopper gets around the reference page, for the browser tests."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.stack import Stack

ALICE, OLIVIA = "Alice Johnson", "Olivia Smith"
BUYERS = {"buyer-us-alice": "Alice Johnson", "buyer-us-bob": "Bob Martinez", "buyer-uk-olivia": "Olivia Smith",
          "buyer-uk-harry": "Harry Patel"}


def sign_in(page: Page, stack: Stack, shopper: str = ALICE) -> None:
    """The development token flow, as a shopper does it: pick a demo shopper on the page."""
    page.goto(f"{stack.demo}#/shoppers")
    page.get_by_role("button", name=re.compile(f"^{shopper}")).click()
    expect(page.get_by_role("heading", level=1, name="Your orders")).to_be_visible()


def open_order(page: Page, stack: Stack, order_id: str) -> None:
    page.goto(f"{stack.demo}#/orders/{order_id}")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text(order_id)


def package(page: Page, heading: str) -> Locator:
    return page.get_by_role("region", name=heading, exact=True)


def tracker_steps(region: Locator, name: str = "progress") -> Locator:
    return region.get_by_role("group", name=re.compile(name)).get_by_role("listitem")


def current_step(region: Locator) -> Locator:
    return region.locator('[aria-current="step"]')


def actions(page: Page) -> Locator:
    return page.get_by_role("region", name="What you can do")


def action_button(page: Page, label: str) -> Locator:
    return actions(page).get_by_role("button", name=label, exact=True)


def alert(page: Page, title: str) -> Locator:
    return page.get_by_role("article", name=re.compile(re.escape(title)))


def visible_texts(locator: Locator) -> list[Any]:
    return [text.strip() for text in locator.all_inner_texts()]
