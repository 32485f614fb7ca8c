"""Every named scenario of the mock catalogue, opened in the browser as its buyer: the page shows what the
API answers (status, packages and their current step, alerts, every after-sales entrance)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from playwright.sync_api import Page, expect

from mocks.catalog import SCENARIOS
from tests.e2e.pages import BUYERS, actions, alert, current_step, open_order, sign_in
from tests.e2e.stack import Stack

ORDER = """query($id: ID!) { order(id: $id) {
  statusLabel
  alerts { title }
  packages { tracker { label state } }
  afterSalesActions { label available message }
  returns { id }
} }"""


def test_every_scenario_renders_what_the_api_answers(page: Page, stack: Stack) -> None:
    by_buyer = groupby(sorted(SCENARIOS, key=lambda s: s.buyer.id), key=lambda s: s.buyer.id)
    seen = 0
    for buyer, scenarios in by_buyer:
        sign_in(page, stack, BUYERS[buyer])
        for scenario in scenarios:
            order: dict[str, Any] = stack.graphql(buyer, ORDER, {"id": scenario.id})["order"]
            open_order(page, stack, scenario.id)
            where = f"{scenario.id}: "
            expect(page.get_by_role("heading", level=1), where).to_have_text(order["statusLabel"])
            for shown in order["alerts"]:
                expect(alert(page, shown["title"]), where).to_be_visible()
            trackers = page.locator(".package")
            expect(trackers, where).to_have_count(len(order["packages"]))
            for i, package in enumerate(order["packages"]):
                now = [s["label"] for s in package["tracker"] if s["state"] in ("CURRENT", "BLOCKED")]
                expect(current_step(trackers.nth(i)), where).to_have_count(len(now))
                if now:
                    expect(current_step(trackers.nth(i)), where).to_contain_text(now[0])
            entrances = actions(page).get_by_role("button", disabled=False)
            expect(entrances, where).to_have_count(sum(a["available"] for a in order["afterSalesActions"]))
            for action in order["afterSalesActions"]:
                if not action["available"]:
                    expect(actions(page).get_by_text(action["message"]).first, where).to_be_visible()
            expect(page.locator(".return"), where).to_have_count(len(order["returns"]))
            seen += 1
    assert seen == len(SCENARIOS)
