"""Every named scenario of the mock catalogue, opened in the browser as its buyer: the page shows what the
API answers (status, packages with their current step and split explanation, alerts by kind, every
after-sales entrance)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from playwright.sync_api import Page, expect

from gateway.domain.alerts import AlertKind
from mocks.catalog import SCENARIOS
from tests.e2e.pages import BUYERS, actions, alert, current_step, open_order, sign_in
from tests.e2e.stack import Stack

ORDER = """query($id: ID!) { order(id: $id) {
  statusLabel
  alerts { kind title }
  packages { split { reason explanation } tracker { label state } }
  afterSalesActions { label available message }
  returns { id }
} }"""
# The abnormal cases the catalogue must keep covering (every alert kind the API has), and the reasons it
# splits orders for.
ABNORMAL = {k.value for k in AlertKind}
SPLIT_REASONS = {"ITEM_AVAILABILITY", "BACKORDER", "SIZE_OR_WEIGHT", "CUSTOMISATION"}


def test_every_scenario_renders_what_the_api_answers(page: Page, stack: Stack) -> None:
    by_buyer = groupby(sorted(SCENARIOS, key=lambda s: s.buyer.id), key=lambda s: s.buyer.id)
    seen = 0
    # Alert kind -> the scenarios whose page showed it; split reason -> the split orders that explained it.
    alert_kinds: dict[str, list[str]] = {}
    split_reasons: dict[str, list[str]] = {}
    for buyer, scenarios in by_buyer:
        sign_in(page, stack, BUYERS[buyer])
        for scenario in scenarios:
            order: dict[str, Any] = stack.graphql(buyer, ORDER, {"id": scenario.id})["order"]
            open_order(page, stack, scenario.id)
            where = f"{scenario.id}: "
            expect(page.get_by_role("heading", level=1), where).to_have_text(order["statusLabel"])
            for shown in order["alerts"]:
                expect(alert(page, shown["title"]), where).to_be_visible()
            # Each alert the API lists is on the page as its kind, in the API's order (most urgent first).
            kinds = [a["kind"] for a in order["alerts"]]
            expect(page.locator("article.alert"), where).to_have_count(len(kinds))
            rendered = page.locator("article.alert").evaluate_all("els => els.map(e => e.dataset.kind)")
            assert rendered == kinds, where
            for kind in rendered:
                alert_kinds.setdefault(kind, []).append(scenario.id)
            trackers = page.locator(".package")
            expect(trackers, where).to_have_count(len(order["packages"]))
            split = len(order["packages"]) > 1
            for i, package in enumerate(order["packages"]):
                now = [s["label"] for s in package["tracker"] if s["state"] in ("CURRENT", "BLOCKED")]
                expect(current_step(trackers.nth(i)), where).to_have_count(len(now))
                if now:
                    expect(current_step(trackers.nth(i)), where).to_contain_text(now[0])
                # A split order says, per package and in the API's words, why that package travels apart.
                why = trackers.nth(i).locator(".split")
                if split:
                    assert package["split"], f"{where}package {i + 1} of a split order has no split reason"
                    expect(why, where).to_have_text(f"Why it travels separately: {package['split']['explanation']}")
                    split_reasons.setdefault(package["split"]["reason"], []).append(scenario.id)
                else:
                    expect(why, where).to_have_count(0)
            entrances = actions(page).get_by_role("button", disabled=False)
            expect(entrances, where).to_have_count(sum(a["available"] for a in order["afterSalesActions"]))
            for action in order["afterSalesActions"]:
                if not action["available"]:
                    expect(actions(page).get_by_text(action["message"]).first, where).to_be_visible()
            expect(page.locator(".return"), where).to_have_count(len(order["returns"]))
            seen += 1
    assert seen == len(SCENARIOS)
    # At least one order rendered each abnormal case and each kind of split.
    assert not ABNORMAL - set(alert_kinds), ABNORMAL - set(alert_kinds)
    assert not SPLIT_REASONS - set(split_reasons), SPLIT_REASONS - set(split_reasons)
