"""The scenario catalogue and the bulk generator, rendered into one deterministic :class:`World`.

Each named scenario has a stable id (``ord-us-in-transit``) and a one-line description; generated
orders (``ord-g-000001`` ...) come from the same archetypes with seeded randomness, so a given
``(now, seed, size)`` always yields the same world, in every process that builds it.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mocks.catalog.archetypes import ARCHETYPES, shop_supports
from mocks.catalog.reference import (
    ALICE,
    BOB,
    DEMO_SHOPS,
    GADGET_IMPORTS,
    HARRY,
    HEARTH,
    LUXE_VAULT,
    MARKETS,
    MAYFAIR_RESERVE,
    NORTHERN,
    OLIVIA,
    PRINTWORKS,
    TEA_CO,
    THREADLINE,
    Address,
    Buyer,
    Shop,
    Warehouse,
)
from mocks.catalog.story import Story, World

__all__ = ["SCENARIOS", "Scenario", "World", "build_world"]


@dataclass(frozen=True)
class Scenario:
    id: str
    archetype: str
    buyer: Buyer
    shop: Shop


def _s(order_id: str, archetype: str, buyer: Buyer, shop: Shop) -> Scenario:
    return Scenario(order_id, archetype, buyer, shop)


SCENARIOS: tuple[Scenario, ...] = (
    # United States
    _s("ord-us-awaiting-payment", "awaiting_payment", ALICE, THREADLINE),
    _s("ord-us-on-hold", "on_hold", ALICE, THREADLINE),
    _s("ord-us-awaiting-shipment", "awaiting_shipment", ALICE, HEARTH),
    _s("ord-us-cancel-requested", "cancel_requested", ALICE, HEARTH),
    _s("ord-us-label-created", "label_created", ALICE, PRINTWORKS),
    _s("ord-us-in-transit", "in_transit", ALICE, THREADLINE),
    _s("ord-us-out-for-delivery-signature", "out_for_delivery_signature", ALICE, HEARTH),
    _s("ord-us-pickup-point", "pickup_point", ALICE, THREADLINE),
    _s("ord-us-delivered", "delivered_in_window", ALICE, THREADLINE),
    _s("ord-us-delivered-final-sale", "delivered_with_exclusions", ALICE, THREADLINE),
    _s("ord-us-delivered-completed", "delivered_completed_in_window", ALICE, HEARTH),
    _s("ord-us-delivered-guarantee-only", "delivered_guarantee_only", ALICE, HEARTH),
    _s("ord-us-delivered-window-closed", "delivered_window_closed", ALICE, THREADLINE),
    _s("ord-us-luxury-authenticating", "luxury_authenticating", ALICE, LUXE_VAULT),
    _s("ord-us-luxury-in-transit", "luxury_in_transit", ALICE, LUXE_VAULT),
    _s("ord-us-luxury-authentication-overdue", "luxury_authentication_overdue", ALICE, LUXE_VAULT),
    _s("ord-us-luxury-authentication-failed", "luxury_authentication_failed", ALICE, LUXE_VAULT),
    _s("ord-us-split-availability", "split_availability", ALICE, THREADLINE),
    _s("ord-us-split-backorder", "split_backorder", ALICE, THREADLINE),
    _s("ord-us-split-size", "split_size", ALICE, HEARTH),
    _s("ord-us-split-custom", "split_custom", ALICE, PRINTWORKS),
    _s("ord-us-late", "late", ALICE, HEARTH),
    _s("ord-us-carrier-delay", "carrier_delay", ALICE, THREADLINE),
    _s("ord-us-holiday-delay", "holiday_delay", ALICE, HEARTH),
    _s("ord-us-weather-delay", "weather_delay", ALICE, PRINTWORKS),
    _s("ord-us-tracking-stalled", "tracking_stalled", ALICE, THREADLINE),
    _s("ord-us-address-issue", "address_issue", ALICE, THREADLINE),
    _s("ord-us-failed-attempt", "failed_attempt", ALICE, PRINTWORKS),
    _s("ord-us-returning-to-sender", "returning_to_sender", ALICE, HEARTH),
    _s("ord-us-returned-to-sender", "returned_to_sender", ALICE, PRINTWORKS),
    _s("ord-us-lost", "lost", ALICE, HEARTH),
    _s("ord-us-damaged", "damaged", ALICE, PRINTWORKS),
    _s("ord-us-cancelled-by-buyer", "cancelled_by_buyer", ALICE, THREADLINE),
    _s("ord-us-cancelled-by-system", "cancelled_by_system", ALICE, PRINTWORKS),
    _s("ord-us-partially-cancelled", "partially_cancelled", ALICE, THREADLINE),
    _s("ord-us-return-in-progress", "return_in_progress", ALICE, THREADLINE),
    _s("ord-us-refunded", "refunded", ALICE, HEARTH),
    _s("ord-us-not-received", "dnr_reported", ALICE, THREADLINE),
    _s("ord-us-disagree-delivered", "disagree_delivered", ALICE, THREADLINE),
    _s("ord-us-bob-in-transit", "in_transit", BOB, HEARTH),
    # United Kingdom
    _s("ord-uk-awaiting-payment", "awaiting_payment", OLIVIA, NORTHERN),
    _s("ord-uk-on-hold", "on_hold", OLIVIA, NORTHERN),
    _s("ord-uk-awaiting-shipment", "awaiting_shipment", OLIVIA, TEA_CO),
    _s("ord-uk-in-transit", "in_transit", OLIVIA, NORTHERN),
    _s("ord-uk-out-for-delivery-signature", "out_for_delivery_signature", OLIVIA, GADGET_IMPORTS),
    _s("ord-uk-pickup-point", "pickup_point", OLIVIA, NORTHERN),
    _s("ord-uk-delivered", "delivered_in_window", OLIVIA, NORTHERN),
    _s("ord-uk-delivered-personalised", "delivered_with_exclusions", OLIVIA, NORTHERN),
    _s("ord-uk-delivered-completed", "delivered_completed_in_window", OLIVIA, TEA_CO),
    _s("ord-uk-delivered-window-closed", "delivered_window_closed", OLIVIA, NORTHERN),
    _s("ord-uk-luxury-authenticating", "luxury_authenticating", OLIVIA, MAYFAIR_RESERVE),
    _s("ord-uk-luxury-in-transit", "luxury_in_transit", OLIVIA, MAYFAIR_RESERVE),
    _s("ord-uk-luxury-authentication-overdue", "luxury_authentication_overdue", OLIVIA, MAYFAIR_RESERVE),
    _s("ord-uk-luxury-authentication-failed", "luxury_authentication_failed", OLIVIA, MAYFAIR_RESERVE),
    _s("ord-uk-split-three", "split_three_partially_delivered", OLIVIA, NORTHERN),
    _s("ord-uk-split-backorder", "split_backorder", OLIVIA, NORTHERN),
    _s("ord-uk-split-size", "split_size", OLIVIA, TEA_CO),
    _s("ord-uk-split-custom", "split_custom", OLIVIA, NORTHERN),
    _s("ord-uk-customs-hold", "customs_hold", OLIVIA, GADGET_IMPORTS),
    _s("ord-uk-duties-due", "duties_due", OLIVIA, GADGET_IMPORTS),
    _s("ord-uk-late", "late", OLIVIA, NORTHERN),
    _s("ord-uk-carrier-delay", "carrier_delay", OLIVIA, TEA_CO),
    _s("ord-uk-holiday-delay", "holiday_delay", OLIVIA, NORTHERN),
    _s("ord-uk-weather-delay", "weather_delay", OLIVIA, NORTHERN),
    _s("ord-uk-tracking-stalled", "tracking_stalled", OLIVIA, NORTHERN),
    _s("ord-uk-address-issue", "address_issue", OLIVIA, TEA_CO),
    _s("ord-uk-failed-attempt", "failed_attempt", OLIVIA, NORTHERN),
    _s("ord-uk-returning-to-sender", "returning_to_sender", OLIVIA, NORTHERN),
    _s("ord-uk-returned-to-sender", "returned_to_sender", OLIVIA, TEA_CO),
    _s("ord-uk-lost", "lost", OLIVIA, NORTHERN),
    _s("ord-uk-damaged", "damaged", OLIVIA, TEA_CO),
    _s("ord-uk-cancelled-by-buyer", "cancelled_by_buyer", OLIVIA, NORTHERN),
    _s("ord-uk-cancelled-by-system", "cancelled_by_system", OLIVIA, TEA_CO),
    _s("ord-uk-return-in-progress", "return_in_progress", OLIVIA, NORTHERN),
    _s("ord-uk-batch-return", "batch_return_three_reasons", OLIVIA, NORTHERN),
    _s("ord-uk-refunded", "refunded", OLIVIA, NORTHERN),
    _s("ord-uk-not-received", "dnr_reported", OLIVIA, TEA_CO),
    _s("ord-uk-disagree-delivered", "disagree_delivered", OLIVIA, NORTHERN),
    _s("ord-uk-harry-delivered", "delivered_in_window", HARRY, NORTHERN),
)

_FIRST = ("Avery", "Jordan", "Riley", "Morgan", "Casey", "Quinn", "Rowan", "Sage", "Emery", "Harper")
_LAST = ("Brooks", "Carter", "Evans", "Foster", "Hughes", "Kelly", "Murphy", "Reed", "Shaw", "Walsh")
_US_CITIES = (("Columbus", "OH", "43215"), ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"),
              ("Raleigh", "NC", "27601"), ("Phoenix", "AZ", "85004"))
_UK_CITIES = (("Leeds", "West Yorkshire", "LS1 4AP"), ("Glasgow", "Glasgow", "G1 1XQ"),
              ("Cardiff", "Cardiff", "CF10 1EP"), ("Norwich", "Norfolk", "NR2 1NH"),
              ("Brighton", "East Sussex", "BN1 1AE"))


def _stable_rng(*parts: object) -> random.Random:
    return random.Random(zlib.crc32("|".join(map(str, parts)).encode()))


def _generated_buyer(n: int, rng: random.Random) -> Buyer:
    region = "US" if n % 2 == 0 else "GB"
    market = MARKETS[region]
    name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    city, region_name, postal = rng.choice(_US_CITIES if region == "US" else _UK_CITIES)
    phone = f"+1 555 {n % 10000:04d}" if region == "US" else f"+44 7700 {n % 1000000:06d}"
    address = Address(name, f"{rng.randint(1, 999)} {rng.choice(_LAST)} Street", city, region_name, postal,
                      region, phone=phone)
    return Buyer(f"buyer-g-{n:05d}", market, address)


def _generated_shop(n: int, template: Shop) -> Shop:
    """A new seller with its own ids, stocking the same kind of goods as a demo shop."""
    sid = f"shop-g-{n:04d}"
    products = {role: replace(p, id=f"{p.id}-g{n}", sku_id=f"{p.sku_id}-g{n}")
                for role, p in template.products.items()}
    warehouses = tuple(Warehouse(f"{w.id}-g{n}", w.city, w.country) for w in template.warehouses)
    return replace(template, id=sid, name=f"{template.name} #{n}", warehouses=warehouses, products=products)


def build_world(now: datetime, *, seed: int = 7, generated: int = 0) -> World:
    """Render the named scenarios plus ``generated`` bulk orders relative to ``now``."""
    story = Story(now)
    for sc in SCENARIOS:
        ARCHETYPES[sc.archetype].build(story, sc.id, sc.buyer, sc.shop, _stable_rng(sc.id), timedelta(0))
    if generated:
        _generate(story, seed, generated)
    return story.render()


def _generate(story: Story, seed: int, count: int) -> None:
    rng = random.Random(seed)
    n_buyers = max(4, count // 25)
    n_shops = max(len(DEMO_SHOPS), count // 40)
    buyers = [_generated_buyer(i, _stable_rng(seed, "buyer", i)) for i in range(1, n_buyers + 1)]
    shops = [_generated_shop(i, DEMO_SHOPS[(i - 1) % len(DEMO_SHOPS)]) for i in range(1, n_shops + 1)]
    # One generated order in ten goes to a demo shopper, so the demo history is long enough to page.
    demo = {"US": [ALICE, BOB], "GB": [OLIVIA, HARRY]}
    by_market = {r: [b for b in buyers if b.market.region == r] for r in MARKETS}
    archetypes = list(ARCHETYPES.values())
    weights = [a.weight for a in archetypes]
    candidates = {a.name: [s for s in shops if shop_supports(s, a.needs)] for a in archetypes}
    for i in range(1, count + 1):
        archetype = rng.choices(archetypes, weights)[0]
        shop = rng.choice(candidates[archetype.name])
        region = shop.market.region
        buyer = rng.choice(demo[region] if rng.random() < 0.1 else by_market[region])
        t0 = -timedelta(days=rng.randint(0, 360)) if archetype.historical else timedelta(0)
        oid = f"ord-g-{i:06d}"
        archetype.build(story, oid, buyer, shop, _stable_rng(seed, oid), t0)
        story.world.descriptions[oid] = f"generated: {archetype.name}"
