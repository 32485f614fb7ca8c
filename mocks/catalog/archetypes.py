"""Order archetypes: one function per case of the mission, parameterised by who and when.

The hand-written catalogue and the bulk generator both draw from these, so generated orders are as
valid, and as varied, as the named ones. ``t0`` shifts a historical story into the past; stories
whose point is relative to now (late, in transit, on hold) ignore it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from mocks.catalog.reference import Buyer, Shop
from mocks.catalog.story import DAY, HOUR, MINUTE, OrderStory, Story

RETURN = "ecom_order_delivered_refund_and_return_reason_"
NOT_RECEIVED = "ecom_order_delivered_refund_reason_not_received"

Builder = Callable[[Story, str, Buyer, Shop, random.Random, timedelta], OrderStory]


@dataclass(frozen=True)
class Archetype:
    name: str
    build: Builder
    needs: frozenset[str] = frozenset({"PLAIN"})  # what the shop must offer (see shop_supports)
    historical: bool = False  # may be shifted into the past
    weight: int = 1  # relative frequency in generated data


def _plain_roles(shop: Shop) -> list[str]:
    return sorted(r for r, p in shop.products.items() if not p.tags and r != "backorder")


def _plain(shop: Shop, rng: random.Random, n: int = 1) -> list[str]:
    """``n`` distinct everyday products (no special after-sales or shipping rules)."""
    roles = _plain_roles(shop)
    rng.shuffle(roles)
    if len(roles) < n:
        raise ValueError(f"{shop.id} has fewer than {n} plain products")
    return roles[:n]


def _tagged(shop: Shop, tag: str) -> str:
    return next(r for r, p in sorted(shop.products.items()) if tag in p.tags)


def _carrier(shop: Shop, rng: random.Random) -> str:
    return rng.choice(shop.market.carriers)


def _order(s: Story, oid: str, buyer: Buyer, shop: Shop, placed: timedelta, what: str, **kw: object) -> OrderStory:
    return s.order(oid, buyer=buyer, shop=shop, placed=placed, description=what, **kw)


def awaiting_payment(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -20 * MINUTE, "Placed 20 minutes ago, payment not completed yet",
               paid_after=None)
    o.item(_plain(shop, rng)[0])
    return o


def on_hold(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -25 * MINUTE, "Paid 23 minutes ago: inside the free-cancel hour (ON_HOLD)")
    first, second = _plain(shop, rng, 2)
    a, c = o.item(first), o.item(second)
    o.package(a, c, stage="to_fulfill", estimated_ship=2 * DAY)
    return o


def awaiting_shipment(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -26 * HOUR, "Paid yesterday, seller preparing the package (AWAITING_SHIPMENT)")
    a = o.item(_plain(shop, rng)[0], qty=2)
    o.package(a, stage="to_fulfill", estimated_ship=DAY)
    return o


def label_created(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -2 * DAY, "Label created, waiting for the carrier to collect it")
    a = o.item(_plain(shop, rng)[0])
    o.package(a, stage="label_created", carrier=_carrier(shop, rng), shipped=-6 * HOUR)
    return o


def in_transit(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -3 * DAY, "One package in transit, on time")
    first, second = _plain(shop, rng, 2)
    a, c = o.item(first), o.item(second, qty=2)
    o.package(a, c, stage="in_transit", carrier=_carrier(shop, rng), shipped=-2 * DAY,
              reached=-rng.randint(2, 6) * HOUR, transit_days=4)
    return o


def out_for_delivery_signature(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                               t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -4 * DAY, "Out for delivery today; a signature is required")
    a = o.item(_tagged(shop, "HIGH_VALUE"))
    o.package(a, stage="out_for_delivery", carrier=_carrier(shop, rng), shipped=-3 * DAY,
              reached=-2 * HOUR, signature="SIGNATURE_REQUIRED", transit_days=3)
    return o


def delivered_in_window(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -12 * DAY, "Delivered 6 days ago: return window open for every item")
    first, second, third = _plain(shop, rng, 3)
    a, c, d = o.item(first), o.item(second, qty=2), o.item(third)
    o.package(a, c, d, stage="delivered", carrier=_carrier(shop, rng), shipped=-10 * DAY, reached=-6 * DAY)
    return o


def delivered_with_exclusions(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                              t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -9 * DAY,
               "Delivered 4 days ago; one item is excluded from change-of-mind returns")
    excluded = next(r for r, p in sorted(shop.products.items())
                    if p.tags & {"FINAL_SALE", "PERSONALISED", "HYGIENE_SEALED", "PERISHABLE"})
    plain = o.item(_plain(shop, rng)[0])
    special = o.item(excluded)
    o.package(plain, special, stage="delivered", carrier=_carrier(shop, rng), shipped=-7 * DAY, reached=-4 * DAY)
    return o


def delivered_completed_in_window(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                                  t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -24 * DAY,
               "Delivered 20 days ago: the order service already says COMPLETED, the return window is still open")
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="delivered", carrier=_carrier(shop, rng), shipped=-22 * DAY, reached=-20 * DAY)
    return o


def delivered_window_closed(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                            t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, t0 - 100 * DAY, "Delivered 95 days ago: every return window has closed")
    first, second = _plain(shop, rng, 2)
    o.item(first), o.item(second)
    o.package(*o.items, stage="delivered", carrier=_carrier(shop, rng), shipped=t0 - 98 * DAY,
              reached=t0 - 95 * DAY)
    return o


def delivered_guarantee_only(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                             t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -50 * DAY,
               "Delivered 44 days ago: the 30-day window closed; only damaged or defective items can still be "
               "returned (US money-back guarantee)")
    first, second = _plain(shop, rng, 2)
    o.item(first), o.item(second)
    o.package(*o.items, stage="delivered", carrier=_carrier(shop, rng), shipped=-47 * DAY, reached=-44 * DAY)
    return o


def _before_authentication(s: Story, oid: str, b: Buyer, shop: Shop, *, placed: timedelta, what: str,
                           status: str, submitted: timedelta, estimated_ship: timedelta) -> OrderStory:
    """A pre-owned luxury item that cannot ship until its certificate of authenticity is approved, due
    24 hours after the sale (DOMAIN 1.6, TTS-COA); ``submitted`` is counted from the sale."""
    o = _order(s, oid, b, shop, placed, what, on_hold_order=False)
    a = o.item(_tagged(shop, "REQUIRES_AUTHENTICATION"))
    sold = s.at(placed)
    o.package(a, stage="to_fulfill", signature="ADULT_SIGNATURE_REQUIRED", estimated_ship=estimated_ship,
              authentication={"status": status, "provider": "Entrupy",
                              "submit_time": int((sold + submitted).timestamp()),
                              "deadline_time": int((sold + 24 * HOUR).timestamp()), "approve_time": None})
    return o


def luxury_authenticating(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                          t0: timedelta) -> OrderStory:
    return _before_authentication(
        s, oid, b, shop, placed=-20 * HOUR,
        what="Pre-owned luxury item: certificate of authenticity under review before it ships",
        status="SUBMITTED", submitted=6 * HOUR, estimated_ship=2 * DAY)


def luxury_in_transit(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -4 * DAY,
               "Pre-owned luxury item: authenticated, now in transit with adult signature required",
               on_hold_order=False)
    a = o.item(_tagged(shop, "REQUIRES_AUTHENTICATION"))
    placed = s.at(-4 * DAY)
    o.package(a, stage="in_transit", carrier="ups" if shop.market.region == "US" else "dpd-uk",
              shipped=-2 * DAY, reached=-5 * HOUR, signature="ADULT_SIGNATURE_REQUIRED", transit_days=3,
              authentication={"status": "APPROVED", "provider": "Entrupy",
                              "submit_time": int((placed + 5 * HOUR).timestamp()),
                              "deadline_time": int((placed + 24 * HOUR).timestamp()),
                              "approve_time": int((placed + 30 * HOUR).timestamp())})
    return o


def luxury_authentication_overdue(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                                  t0: timedelta) -> OrderStory:
    # Submitted in time, but still not approved: the review deadline passed 14 hours ago.
    return _before_authentication(
        s, oid, b, shop, placed=-38 * HOUR,
        what="Pre-owned luxury item: the certificate of authenticity is still under review, past its deadline",
        status="SUBMITTED", submitted=16 * HOUR, estimated_ship=DAY)


def luxury_authentication_failed(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                                 t0: timedelta) -> OrderStory:
    # The authenticator has just rejected it; the platform has not recorded its cancellation yet.
    return _before_authentication(
        s, oid, b, shop, placed=-22 * HOUR,
        what="Pre-owned luxury item failed authentication: it will not ship, and the order is to be cancelled",
        status="REJECTED", submitted=5 * HOUR, estimated_ship=2 * DAY)


def split_availability(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -5 * DAY,
               "Split across two warehouses by availability: one package delivered, one still on its way")
    first, second = _plain(shop, rng, 2)
    a, c = o.item(first), o.item(second)
    o.package(a, stage="delivered", carrier=_carrier(shop, rng), shipped=-4 * DAY, reached=-1 * DAY,
              warehouse=shop.warehouses[0])
    o.package(c, stage="in_transit", carrier=_carrier(shop, rng), shipped=-2 * DAY, reached=-4 * HOUR,
              warehouse=shop.warehouses[-1], transit_days=4)
    return o


def split_backorder(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -3 * DAY,
               "Split for a backorder: in-stock items are on their way, the backordered item ships later",
               order_type="BACK_ORDER", promised_days=16)
    a = o.item(_plain(shop, rng)[0])
    back = o.item("backorder", sku_type="BACK_ORDER", handling_days=10)
    o.package(a, stage="in_transit", carrier=_carrier(shop, rng), shipped=-2 * DAY, reached=-6 * HOUR)
    o.package(back, stage="to_fulfill", estimated_ship=7 * DAY)
    return o


def split_size(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -6 * DAY,
               "Split by size and weight: the bulky item travels by freight and arrives later",
               promised_days=12)
    big = o.item(_tagged(shop, "OVERSIZE"))
    small = o.item(_plain(shop, rng)[0])
    o.package(small, stage="delivered", carrier=shop.market.carriers[0], shipped=-5 * DAY, reached=-2 * DAY)
    o.package(big, stage="in_transit", carrier="fedex" if shop.market.region == "US" else "dpd-uk",
              shipped=-4 * DAY, reached=-10 * HOUR, transit_days=7, must_split=["OVERSIZE_OVERWEIGHT"],
              signature="SIGNATURE_REQUIRED")
    return o


def split_custom(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -4 * DAY,
               "Split for customisation: the made-to-order item ships when it is made",
               order_type="MADE_TO_ORDER", promised_days=14)
    custom = o.item(_tagged(shop, "PERSONALISED"), customization="Embroidery: \"J.K.\" (gold thread)",
                    sku_type="MADE_TO_ORDER", handling_days=7)
    ready = o.item(_plain(shop, rng)[0])
    o.package(ready, stage="out_for_delivery", carrier=_carrier(shop, rng), shipped=-3 * DAY, reached=-3 * HOUR)
    o.package(custom, stage="to_fulfill", estimated_ship=4 * DAY)
    return o


def split_three_partially_delivered(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                                    t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -6 * DAY,
               "Three packages from two warehouses: 2 of 3 delivered, the last one out for delivery")
    first, second, third = _plain(shop, rng, 3)
    a, c, d = o.item(first), o.item(second), o.item(third)
    carrier = _carrier(shop, rng)
    o.package(a, stage="delivered", carrier=carrier, shipped=-5 * DAY, reached=-2 * DAY,
              warehouse=shop.warehouses[0])
    o.package(c, stage="delivered", carrier=carrier, shipped=-4 * DAY, reached=-1 * DAY,
              warehouse=shop.warehouses[-1])
    o.package(d, stage="out_for_delivery", carrier=carrier, shipped=-3 * DAY, reached=-1 * HOUR,
              warehouse=shop.warehouses[-1])
    return o


def late(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -8 * DAY, "Late: promised delivery date has passed, still in transit",
               promised_days=5)
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="in_transit", carrier=_carrier(shop, rng), shipped=-7 * DAY, reached=-30 * HOUR,
              transit_days=4)
    return o


def carrier_delay(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -4 * DAY, "Carrier processing delay: the carrier revised the ETA by 3 days",
               promised_days=7)
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="delayed", carrier=_carrier(shop, rng), shipped=-3 * DAY, reached=-8 * HOUR,
              transit_days=4, revised_by=3 * DAY)
    return o


def holiday_delay(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -4 * DAY, "Holiday peak volume: the platform extended the delivery date",
               promised_days=6)
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="delayed", carrier=_carrier(shop, rng), shipped=-3 * DAY, reached=-10 * HOUR,
              transit_days=4, revised_by=4 * DAY, delay_subtag="Exception_005")
    original = int(o.promised.timestamp())
    o.sla_extension = {"reason": "HOLIDAY_PEAK", "original_delivery_sla_time": original,
                       "extended_delivery_sla_time": original + 4 * 86400}
    return o


def customs_hold(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -9 * DAY, "Cross-border parcel held at UK customs", promised_days=12)
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="customs_hold", carrier="dhl", shipped=-8 * DAY, reached=-2 * DAY, transit_days=8,
              revised_by=3 * DAY)
    return o


def weather_delay(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -4 * DAY,
               "Extreme weather: the carrier is holding the parcel at its hub and moved the ETA by 2 days",
               promised_days=7)
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="delayed", carrier=_carrier(shop, rng), shipped=-3 * DAY, reached=-6 * HOUR,
              transit_days=4, revised_by=2 * DAY, delay_subtag="Exception_017")
    return o


def tracking_stalled(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -8 * DAY,
               "In transit and due tomorrow, but the carrier has not scanned the parcel for 6 days",
               promised_days=9)
    o.item(_plain(shop, rng)[0])
    # The last scan is an arrival at a hub six days ago; the promise is not yet broken, so nothing else explains it.
    o.package(*o.items, stage="in_transit", carrier=_carrier(shop, rng), shipped=-7 * DAY, reached=-6 * DAY,
              transit_days=8)
    return o


def duties_due(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -8 * DAY,
               "Cross-border parcel over the import threshold: the carrier holds it until import VAT and duty are "
               "paid", promised_days=12)
    # Over £135 the marketplace no longer collects the VAT at checkout: it is due at the border.
    o.item(_tagged(shop, "HIGH_VALUE"))
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="duties_due", carrier="dhl", shipped=-7 * DAY, reached=-DAY, transit_days=8)
    return o


def address_issue(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -3 * DAY,
               "Address problem: the driver could not deliver to the address on the order; the carrier holds it")
    o.item(_plain(shop, rng)[0])
    # Out for delivery yesterday morning, back at the depot by the afternoon (carrier-local times).
    o.package(*o.items, stage="address_issue", carrier=_carrier(shop, rng), shipped=-2 * DAY, reached=-20 * HOUR,
              transit_days=3)
    return o


def failed_attempt(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -5 * DAY, "Delivery attempted: nobody was home to sign; the carrier will retry")
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="attempt_failed", carrier=_carrier(shop, rng), shipped=-4 * DAY, reached=-5 * HOUR,
              signature="SIGNATURE_REQUIRED", transit_days=3, revised_by=DAY)
    return o


def returned_to_sender(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, t0 - 14 * DAY,
               "Undeliverable: the parcel was returned to the seller, so the platform cancelled and refunded it")
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="returned", carrier=_carrier(shop, rng), shipped=t0 - 12 * DAY, reached=t0 - DAY)
    # Once the parcel is back, the platform cancels the order and refunds it (DOMAIN 1.4 and 1.6).
    o.cancel(by="SYSTEM", reason="returned_to_shipper_other", at=t0 - DAY + 2 * HOUR)
    return o


def returning_to_sender(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                        t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -6 * DAY,
               "Two delivery attempts failed: the parcel is on its way back to the seller, not yet refunded")
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="returning", carrier=_carrier(shop, rng), shipped=-5 * DAY, reached=-20 * HOUR)
    return o


def lost(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, t0 - 15 * DAY,
               "The carrier declared the parcel lost, so the platform cancelled the order and refunded it")
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="lost", carrier=_carrier(shop, rng), shipped=t0 - 13 * DAY, reached=t0 - 2 * DAY)
    # A lost parcel is cancelled and refunded by the platform, not left for the buyer to chase (DOMAIN 1.4).
    o.cancel(by="SYSTEM", reason="package_lost", at=t0 - 2 * DAY + 6 * HOUR)
    return o


def damaged(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, t0 - 10 * DAY,
               "The carrier reported the parcel damaged, so the platform cancelled the order and refunded it")
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="damaged", carrier=_carrier(shop, rng), shipped=t0 - 9 * DAY, reached=t0 - 3 * DAY)
    # Like a lost one, a damaged parcel is cancelled and refunded by the platform (DOMAIN 1.4, package_damaged).
    o.cancel(by="SYSTEM", reason="package_damaged", at=t0 - 3 * DAY + 6 * HOUR)
    return o


def cancelled_by_buyer(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, t0 - 3 * DAY, "Cancelled by the buyer during the free-cancel hour")
    o.item(_plain(shop, rng)[0])
    o.cancel(by="BUYER", reason="cancel_reason_mistake", at=t0 - 3 * DAY + 20 * MINUTE)
    return o


def cancelled_by_system(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, t0 - 12 * DAY, "Cancelled by the system: the seller did not ship in time")
    o.item(_plain(shop, rng)[0])
    o.cancel(by="SYSTEM", reason="system_cancel_order_reason_shipping_timeout", at=t0 - 5 * DAY)
    return o


def cancel_requested(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -6 * HOUR,
               "Buyer asked to cancel after the free hour; waiting for the seller to respond")
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="to_fulfill", estimated_ship=DAY)
    o.cancel(by="BUYER", reason="cancel_reason_dont_want_to_wait", at=-1 * HOUR,
             status="CANCELLATION_REQUEST_PENDING")
    return o


def partially_cancelled(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -3 * DAY, "One item cancelled by the seller (out of stock), the rest in transit")
    first, second = _plain(shop, rng, 2)
    kept, gone = o.item(first), o.item(second)
    o.cancel(by="SELLER", reason="cancel_reason_out_of_stock", at=-2 * DAY - 12 * HOUR, items=[gone])
    o.package(kept, stage="in_transit", carrier=_carrier(shop, rng), shipped=-2 * DAY, reached=-3 * HOUR)
    return o


def return_in_progress(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -13 * DAY,
               "Return in progress for two items, each with its own reason; a third item can still be added")
    first, second, third = _plain(shop, rng, 3)
    a, c, d = o.item(first), o.item(second), o.item(third)
    o.package(a, c, d, stage="delivered", carrier=_carrier(shop, rng), shipped=-11 * DAY, reached=-8 * DAY)
    change_of_mind = RETURN + ("not_fit" if shop.market.region == "US" else "too_small")
    o.return_request((a, 1, change_of_mind), (c, 1, RETURN + "damaged"), status="AWAITING_BUYER_SHIP",
                     created=-2 * DAY, approved=-2 * DAY + 2 * HOUR, note="Box was crushed on one corner")
    return o


def batch_return_three_reasons(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random,
                               t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -10 * DAY,
               "Batch return of three items with three different reasons, shipped back in one parcel")
    first, second, third = _plain(shop, rng, 3)
    a, c, d = o.item(first), o.item(second), o.item(third)
    o.package(a, c, d, stage="delivered", carrier=_carrier(shop, rng), shipped=-8 * DAY, reached=-6 * DAY)
    reasons = ("too_big", "quality", "wrong_item") if shop.market.region == "GB" else (
        "not_fit", "not_as_described", "wrong_item")
    o.return_request((a, 1, RETURN + reasons[0]), (c, 1, RETURN + reasons[1]), (d, 1, RETURN + reasons[2]),
                     status="BUYER_SHIPPED_ITEM", created=-4 * DAY, approved=-4 * DAY + HOUR,
                     shipped_back=-2 * DAY)
    return o


def refunded(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, t0 - 28 * DAY, "Returned and refunded")
    a = o.item(_plain(shop, rng)[0])
    o.package(a, stage="delivered", carrier=_carrier(shop, rng), shipped=t0 - 26 * DAY, reached=t0 - 23 * DAY)
    o.return_request((a, 1, RETURN + "defective"), status="RETURN_OR_REFUND_REQUEST_COMPLETE",
                     created=t0 - 20 * DAY, approved=t0 - 20 * DAY + HOUR, shipped_back=t0 - 18 * DAY,
                     received=t0 - 14 * DAY, refunded=t0 - 12 * DAY)
    return o


def dnr_reported(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -6 * DAY, "Carrier says delivered 3 days ago; the buyer reported it not received")
    a = o.item(_plain(shop, rng)[0])
    o.package(a, stage="delivered", carrier=_carrier(shop, rng), shipped=-5 * DAY, reached=-3 * DAY)
    o.return_request((a, 1, NOT_RECEIVED), status="RETURN_OR_REFUND_REQUEST_PENDING", return_type="REFUND",
                     created=-1 * DAY, note="Not at the door or with neighbours")
    return o


def disagree_delivered(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -4 * DAY,
               "Upstreams disagree: the carrier scanned it delivered, the order service still says IN_TRANSIT")
    o.item(_plain(shop, rng)[0])
    pkg = o.package(*o.items, stage="delivered", carrier=_carrier(shop, rng), shipped=-3 * DAY, reached=-3 * HOUR)
    pkg.order_service_stage = "in_transit"
    o.status_override = "IN_TRANSIT"
    return o


def pickup_point(s: Story, oid: str, b: Buyer, shop: Shop, rng: random.Random, t0: timedelta) -> OrderStory:
    o = _order(s, oid, b, shop, -4 * DAY, "Delivered to a pickup point: ready to collect",
               delivery_type="COLLECTION_POINT")
    o.item(_plain(shop, rng)[0])
    o.package(*o.items, stage="available_for_pickup", carrier=_carrier(shop, rng), shipped=-3 * DAY,
              reached=-4 * HOUR)
    return o


ARCHETYPES: dict[str, Archetype] = {
    a.name: a
    for a in [
        Archetype("awaiting_payment", awaiting_payment, weight=2),
        Archetype("on_hold", on_hold, weight=2),
        Archetype("awaiting_shipment", awaiting_shipment, weight=4),
        Archetype("label_created", label_created, weight=3),
        Archetype("in_transit", in_transit, weight=10),
        Archetype("out_for_delivery_signature", out_for_delivery_signature, frozenset({"HIGH_VALUE"}), weight=2),
        Archetype("delivered_in_window", delivered_in_window, weight=10),
        Archetype("delivered_with_exclusions", delivered_with_exclusions, frozenset({"PLAIN", "EXCLUDED"}), weight=3),
        Archetype("delivered_completed_in_window", delivered_completed_in_window, weight=4),
        Archetype("delivered_window_closed", delivered_window_closed, historical=True, weight=30),
        Archetype("delivered_guarantee_only", delivered_guarantee_only, weight=3),
        Archetype("luxury_authenticating", luxury_authenticating, frozenset({"REQUIRES_AUTHENTICATION"})),
        Archetype("luxury_in_transit", luxury_in_transit, frozenset({"REQUIRES_AUTHENTICATION"})),
        Archetype("luxury_authentication_overdue", luxury_authentication_overdue,
                  frozenset({"REQUIRES_AUTHENTICATION"})),
        Archetype("luxury_authentication_failed", luxury_authentication_failed,
                  frozenset({"REQUIRES_AUTHENTICATION"})),
        Archetype("split_availability", split_availability, weight=3),
        Archetype("split_backorder", split_backorder, frozenset({"PLAIN", "BACKORDER"}), weight=2),
        Archetype("split_size", split_size, frozenset({"PLAIN", "OVERSIZE"}), weight=2),
        Archetype("split_custom", split_custom, frozenset({"PLAIN", "PERSONALISED"}), weight=2),
        Archetype("split_three_partially_delivered", split_three_partially_delivered, weight=2),
        Archetype("late", late, weight=3),
        Archetype("carrier_delay", carrier_delay, weight=2),
        Archetype("holiday_delay", holiday_delay, weight=2),
        Archetype("weather_delay", weather_delay),
        Archetype("tracking_stalled", tracking_stalled),
        Archetype("customs_hold", customs_hold, frozenset({"PLAIN", "CROSS_BORDER"})),
        Archetype("duties_due", duties_due, frozenset({"PLAIN", "CROSS_BORDER", "HIGH_VALUE"})),
        Archetype("address_issue", address_issue),
        Archetype("failed_attempt", failed_attempt, weight=2),
        Archetype("returning_to_sender", returning_to_sender),
        Archetype("returned_to_sender", returned_to_sender, historical=True),
        Archetype("lost", lost, historical=True),
        Archetype("damaged", damaged, historical=True),
        Archetype("cancelled_by_buyer", cancelled_by_buyer, historical=True, weight=4),
        Archetype("cancelled_by_system", cancelled_by_system, historical=True, weight=2),
        Archetype("cancel_requested", cancel_requested),
        Archetype("partially_cancelled", partially_cancelled, weight=2),
        Archetype("return_in_progress", return_in_progress, weight=3),
        Archetype("batch_return_three_reasons", batch_return_three_reasons, weight=2),
        Archetype("refunded", refunded, historical=True, weight=4),
        Archetype("dnr_reported", dnr_reported),
        Archetype("disagree_delivered", disagree_delivered),
        Archetype("pickup_point", pickup_point, weight=2),
    ]
}


def shop_supports(shop: Shop, needs: frozenset[str]) -> bool:
    tags = {t for p in shop.products.values() for t in p.tags}
    if len(_plain_roles(shop)) >= 3:
        tags.add("PLAIN")
    if tags & {"FINAL_SALE", "PERSONALISED", "HYGIENE_SEALED", "PERISHABLE"}:
        tags.add("EXCLUDED")
    if "backorder" in shop.products:
        tags.add("BACKORDER")
    if any(w.country != shop.market.region for w in shop.warehouses):
        tags.add("CROSS_BORDER")
    return needs <= tags
