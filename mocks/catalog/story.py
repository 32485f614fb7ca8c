"""A small builder that turns an order's story into each upstream's own records.

One story, three renderings: the order service's TikTok-Shop-like order (unit line items, packages,
unix seconds, money as strings), the carrier's AfterShip-like tracking (tag/subtag checkpoints, ISO
times with offsets) and the after-sales service's returns and cancellations. Times are offsets from
``now`` so that "late" or "window closed" stay true whenever the world is built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

from mocks.catalog.reasons import CANCEL_REASONS, return_reason_text
from mocks.catalog.reference import Buyer, Market, Product, Shop, Warehouse

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)

Stage = Literal[
    "to_fulfill", "label_created", "in_transit", "out_for_delivery", "available_for_pickup",
    "delivered", "attempt_failed", "customs_hold", "duties_due", "address_issue", "delayed", "returning",
    "returned", "lost", "damaged",
]
# The order service's package status for each carrier stage.
PACKAGE_STATUS: dict[str, str] = {
    "to_fulfill": "TO_FULFILL", "label_created": "PROCESSING", "in_transit": "FULFILLING",
    "out_for_delivery": "FULFILLING", "available_for_pickup": "FULFILLING", "delivered": "COMPLETED",
    "attempt_failed": "FULFILLING", "customs_hold": "FULFILLING", "duties_due": "FULFILLING",
    "address_issue": "FULFILLING", "delayed": "FULFILLING",
    "returning": "FULFILLING", "returned": "CANCELLED", "lost": "CANCELLED", "damaged": "CANCELLED",
}
CARRIER_NAMES = {
    "usps": "USPS", "ups": "UPS", "fedex": "FedEx", "royal-mail": "Royal Mail", "dpd-uk": "DPD UK",
    "evri": "Evri", "dhl": "DHL Express",
}
TRACKING_LINKS = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "royal-mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "dpd-uk": "https://track.dpd.co.uk/parcels/{}",
    "evri": "https://www.evri.com/track/parcel/{}",
    "dhl": "https://www.dhl.com/gb-en/home/tracking.html?tracking-id={}",
}
COUNTRY3 = {"US": "USA", "GB": "GBR", "CN": "CHN"}
SUBTAG_MESSAGES = {
    "InfoReceived_001": "Info received",
    "InTransit_001": "In transit", "InTransit_002": "Acceptance scan", "InTransit_003": "Arrival scan",
    "InTransit_004": "Arrived at destination country", "InTransit_005": "Customs cleared",
    "InTransit_006": "Handed over to customs", "InTransit_007": "Departure scan",
    "OutForDelivery_001": "Out for delivery", "AvailableForPickup_001": "Available for pickup",
    "Delivered_001": "Delivered", "Delivered_003": "Signed by customer",
    "Delivered_005": "Delivered to neighbour",
    "AttemptFail_001": "Failed attempt", "AttemptFail_002": "Addressee not available",
    "Exception_004": "Customs clearance delay", "Exception_005": "Delay due to external factors",
    "Exception_006": "Held for payment of import duties and taxes",
    "Exception_007": "Incorrect or incomplete address",
    "Exception_010": "Returning to sender", "Exception_011": "Returned to sender",
    "Exception_012": "Damaged", "Exception_013": "Lost", "Exception_016": "Processing delay",
    "Exception_017": "Extreme weather",
}


def unix(t: datetime) -> int:
    return int(t.timestamp())


def money(d: Decimal) -> str:
    return str(d.quantize(Decimal("0.01")))


def _digits(seed: str, n: int) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return str(int(h, 16))[:n]


def tracking_number(carrier: str, seed: str) -> str:
    if carrier == "usps":
        return "9400" + _digits(seed, 18)
    if carrier == "ups":
        return "1Z" + hashlib.sha256(seed.encode()).hexdigest()[:16].upper()
    if carrier == "fedex":
        return _digits(seed, 12)
    if carrier == "royal-mail":
        letters = hashlib.sha256(seed.encode()).hexdigest().upper()
        alpha = "".join(c for c in letters if c.isalpha())[:2].ljust(2, "X")
        return f"{alpha}{_digits(seed, 9)}GB"
    if carrier == "dpd-uk":
        return _digits(seed, 14)
    if carrier == "evri":
        return "H" + hashlib.sha256(seed.encode()).hexdigest()[:15].upper()
    return _digits(seed, 10)


@dataclass
class World:
    """Everything the three services know, each in its own vocabulary."""

    now: datetime
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    trackings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancellations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The after-sales service's own copy of what it must know about an order to refund it.
    order_facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    shops: dict[str, Shop] = field(default_factory=dict)
    buyers: dict[str, Buyer] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)


@dataclass
class Item:
    """A product line of the story, rendered as ``qty`` unit line items (one per unit, as TikTok Shop does)."""

    product: Product
    line_ids: list[str]
    customization: str | None = None
    sku_type: str = "NORMAL"
    handling_days: int | None = None

    @property
    def qty(self) -> int:
        return len(self.line_ids)


@dataclass
class PackageStory:
    id: str
    units: list[str]
    carrier: str | None
    stage: Stage
    warehouse: Warehouse
    shipped: datetime | None = None
    reached: datetime | None = None  # when the current stage was reached
    signature: str = "NONE"
    authentication: dict[str, Any] | None = None
    must_split: list[str] = field(default_factory=list)
    first_estimate: datetime | None = None
    latest_estimate: datetime | None = None
    extra_checkpoints: list[tuple[datetime, str, str]] = field(default_factory=list)
    signed_by: str | None = None
    estimated_ship: datetime | None = None
    weight_g: int = 0
    tracking_number: str | None = None
    delay_subtag: str = "Exception_016"
    # Where the order service thinks the package is, when it lags behind the carrier.
    order_service_stage: Stage | None = None

    @property
    def service_status(self) -> str:
        return PACKAGE_STATUS[self.order_service_stage or self.stage]


class OrderStory:
    def __init__(
        self, story: Story, order_id: str, *, buyer: Buyer, shop: Shop, placed: timedelta,
        description: str, paid_after: timedelta | None = 2 * MINUTE, on_hold_order: bool = True,
        delivery_type: str = "HOME_DELIVERY", promised_days: int = 6, order_type: str = "NORMAL",
        shipping_fee: Decimal | None = None,
    ) -> None:
        self.story = story
        self.id = order_id
        self.buyer = buyer
        self.shop = shop
        self.market: Market = shop.market
        self.placed = story.at(placed)
        self.paid = self.placed + paid_after if paid_after is not None else None
        self.on_hold_order = on_hold_order
        self.delivery_type = delivery_type
        self.promised = self.placed + promised_days * DAY
        self.order_type = order_type
        self.shipping_fee = shipping_fee if shipping_fee is not None else (
            Decimal("5.99") if self.market.region == "US" else Decimal("3.49"))
        self.items: list[Item] = []
        self.packages: list[PackageStory] = []
        self.cancelled: dict[str, Any] | None = None
        self.status_override: str | None = None
        self.sla_extension: dict[str, Any] | None = None
        self.address_updated = False
        self._line_no = 0
        # After-sales record ids are numbered within the order (ret-<order>-1, cmb-<order>-1,
        # cxl-<order>-1), so adding a scenario or a record never renumbers another order's records.
        self._return_no = 0
        self._group_no = 0
        self._cancel_no = 0
        story.world.descriptions[order_id] = description
        story.world.shops[shop.id] = shop
        story.world.buyers[buyer.id] = buyer
        story.orders.append(self)

    # -- building ---------------------------------------------------------------------------
    def item(self, role: str, qty: int = 1, *, customization: str | None = None,
             sku_type: str = "NORMAL", handling_days: int | None = None) -> Item:
        product = self.shop.product(role)
        ids = []
        for _ in range(qty):
            self._line_no += 1
            ids.append(f"{self.id}-l{self._line_no}")
        item = Item(product, ids, customization, sku_type, handling_days)
        self.items.append(item)
        return item

    def package(
        self, *contents: Item | tuple[Item, int], stage: Stage, carrier: str | None = None,
        shipped: timedelta | None = None, reached: timedelta | None = None,
        warehouse: Warehouse | None = None, signature: str = "NONE", transit_days: int = 4,
        revised_by: timedelta | None = None, must_split: Iterable[str] = (),
        authentication: dict[str, Any] | None = None, signed_by: str | None = None,
        estimated_ship: timedelta | None = None, delay_subtag: str = "Exception_016",
    ) -> PackageStory:
        units: list[str] = []
        for entry in contents:
            item, qty = (entry, entry.qty) if isinstance(entry, Item) else entry
            free = [u for u in item.line_ids if not self._assigned(u)]
            units.extend(free[:qty])
        number = len(self.packages) + 1
        pkg = PackageStory(
            id=f"pkg-{self.id.removeprefix('ord-')}-{number}", units=units, stage=stage,
            carrier=carrier if stage != "to_fulfill" else None,
            warehouse=warehouse or self.shop.warehouses[0], signature=signature,
            authentication=authentication, must_split=list(must_split), signed_by=signed_by,
            delay_subtag=delay_subtag,
        )
        at = self.story.at
        if stage == "to_fulfill":
            pkg.estimated_ship = at(estimated_ship) if estimated_ship is not None else None
        else:
            assert carrier is not None and shipped is not None, f"{self.id}: shipped package needs carrier/time"
            pkg.shipped = at(shipped)
            pkg.reached = at(reached) if reached is not None else pkg.shipped
            pkg.first_estimate = min(self.promised, pkg.shipped + transit_days * DAY)
            pkg.latest_estimate = pkg.first_estimate + revised_by if revised_by else pkg.first_estimate
            pkg.tracking_number = tracking_number(carrier, pkg.id)
        pkg.weight_g = sum(self._product_of(u).weight_g for u in units)
        self.packages.append(pkg)
        return pkg

    def cancel(self, *, by: str, reason: str, at: timedelta, items: Iterable[Item] = (),
               status: str = "CANCELLATION_REQUEST_COMPLETE", cancel_id: str | None = None) -> None:
        """Record a cancellation in the after-sales service (and in the order service when complete)."""
        lines = [u for item in items for u in item.line_ids] or [u for i in self.items for u in i.line_ids]
        whole = set(lines) == {u for i in self.items for u in i.line_ids}
        when = self.story.at(at)
        self._cancel_no += 1
        record = {
            "cancel_id": cancel_id or f"cxl-{self.id.removeprefix('ord-')}-{self._cancel_no}",
            "order_id": self.id, "buyer_user_id": self.buyer.id, "shop_id": self.shop.id,
            "role": by, "cancel_type": "BUYER_CANCEL" if by == "BUYER" else "CANCEL",
            "cancel_status": status, "cancel_reason": reason, "cancel_reason_text": CANCEL_REASONS[reason],
            "cancel_line_items": [self._refund_line(u) for u in lines],
            "refund_amount": self._refund_total(lines, include_shipping=whole),
            "seller_next_action_response": (
                [{"action": "SELLER_RESPOND_CANCEL", "deadline": unix(when + DAY)}]
                if status == "CANCELLATION_REQUEST_PENDING" else []
            ),
            "create_time": unix(when), "update_time": unix(when), "reject_reason": None,
        }
        self.story.cancellations.append(record)
        if status == "CANCELLATION_REQUEST_COMPLETE":
            if whole:
                self.cancelled = {"time": when, "by": by, "reason": reason}
            else:
                for u in lines:
                    self.story.cancelled_lines[u] = {"by": by, "reason": reason}

    def return_request(
        self, *entries: tuple[Item, int, str], status: str, created: timedelta,
        return_type: str = "RETURN_AND_REFUND", note: str | None = None,
        approved: timedelta | None = None, shipped_back: timedelta | None = None,
        received: timedelta | None = None, refunded: timedelta | None = None,
        handover: str = "DROP_OFF",
    ) -> None:
        """One buyer request; like TikTok Shop, each distinct reason becomes its own upstream return,
        and all of them share a ``combined_return_id`` because they travel back in one parcel."""
        at = self.story.at
        self._group_no += 1
        combined = f"cmb-{self.id.removeprefix('ord-')}-{self._group_no}"
        by_reason: dict[str, list[str]] = {}
        for item, qty, reason in entries:
            taken = [u for u in item.line_ids if u not in self.story.returned_lines][:qty]
            self.story.returned_lines.update(taken)
            by_reason.setdefault(reason, []).extend(taken)
        for reason, units in by_reason.items():
            self._return_no += 1
            rid = f"ret-{self.id.removeprefix('ord-')}-{self._return_no}"
            created_at = at(created)
            label = return_type == "RETURN_AND_REFUND" and approved is not None
            carrier = "ups" if self.market.region == "US" else "royal-mail"
            record = {
                "return_id": rid, "order_id": self.id, "combined_return_id": combined,
                "buyer_user_id": self.buyer.id, "shop_id": self.shop.id, "role": "BUYER",
                "return_type": return_type, "return_status": status, "arbitration_status": None,
                "return_reason": reason, "return_reason_text": return_reason_text(reason),
                "buyer_note": note,
                "return_line_items": [
                    {**self._refund_line(u), "return_line_item_id": f"{rid}-{i + 1}"}
                    for i, u in enumerate(units)
                ],
                "refund_amount": self._refund_total(units, include_shipping=False),
                "handover_method": handover,
                "return_shipping_document_type": "QR_CODE" if label else None,
                "return_provider_name": CARRIER_NAMES[carrier] if label else None,
                "return_tracking_number": tracking_number(carrier, combined) if label else None,
                "ship_due_time": unix(at(approved) + 14 * DAY) if label and approved is not None else None,
                "seller_next_action_response": (
                    [{"action": "SELLER_RESPOND_RETURN", "deadline": unix(created_at + DAY)}]
                    if status == "RETURN_OR_REFUND_REQUEST_PENDING" else []
                ),
                "create_time": unix(created_at),
                "update_time": unix(max(at(x) for x in (created, approved, shipped_back, received, refunded)
                                        if x is not None)),
                "approve_time": unix(at(approved)) if approved is not None else None,
                "buyer_ship_time": unix(at(shipped_back)) if shipped_back is not None else None,
                "receive_time": unix(at(received)) if received is not None else None,
                "refund_time": unix(at(refunded)) if refunded is not None else None,
                "reject_reason": None,
                "can_buyer_keep_item": return_type == "REFUND",
            }
            self.story.returns.append(record)

    # -- rendering ----------------------------------------------------------------------------
    def _assigned(self, unit: str) -> bool:
        return any(unit in p.units for p in self.packages)

    def _product_of(self, unit: str) -> Product:
        return next(i.product for i in self.items if unit in i.line_ids)

    def _item_of(self, unit: str) -> Item:
        return next(i for i in self.items if unit in i.line_ids)

    def _refund_line(self, unit: str) -> dict[str, Any]:
        p = self._product_of(unit)
        refund = money(p.price * (1 + self.market.tax_rate))
        return {"order_line_item_id": unit, "sku_id": p.sku_id, "product_name": p.name,
                "refund_amount": {"currency": self.market.currency, "refund_total": refund}}

    def _refund_total(self, units: list[str], *, include_shipping: bool) -> dict[str, str]:
        subtotal = sum((self._product_of(u).price for u in units), Decimal(0))
        tax = subtotal * self.market.tax_rate
        shipping = self.shipping_fee if include_shipping else Decimal(0)
        return {"currency": self.market.currency, "refund_total": money(subtotal + tax + shipping),
                "refund_subtotal": money(subtotal), "refund_shipping_fee": money(shipping),
                "refund_tax": money(tax)}

    def _order_status(self) -> str:
        if self.status_override:
            return self.status_override
        if self.cancelled:
            return "CANCELLED"
        if self.paid is None:
            return "UNPAID"
        if self.on_hold_order and self.story.now < self.paid + HOUR:
            return "ON_HOLD"
        statuses = [p.service_status for p in self.packages if p.units]
        live = [s for s in statuses if s != "CANCELLED"]
        if not live:
            return "IN_TRANSIT" if statuses else "AWAITING_SHIPMENT"
        if all(s == "TO_FULFILL" for s in live):
            return "AWAITING_SHIPMENT"
        if any(s == "TO_FULFILL" for s in live):
            return "PARTIALLY_SHIPPING"
        if all(s == "PROCESSING" for s in live):
            return "AWAITING_COLLECTION"
        if all(s == "COMPLETED" for s in live):
            delivered = max(p.reached for p in self.packages if p.service_status == "COMPLETED" and p.reached)
            # The order service closes an order ~15 days after delivery, whatever the return window says.
            return "COMPLETED" if self.story.now - delivered > 15 * DAY else "DELIVERED"
        return "IN_TRANSIT"

    def render(self) -> None:
        world = self.story.world
        status = self._order_status()
        subtotal = sum((i.product.price * i.qty for i in self.items), Decimal(0))
        tax = (subtotal * self.market.tax_rate).quantize(Decimal("0.01"))
        unit_package = {u: p for p in self.packages for u in p.units}
        lines = []
        for item in self.items:
            for unit in item.line_ids:
                pkg = unit_package.get(unit)
                cancelled = self.story.cancelled_lines.get(unit) or (
                    {"by": self.cancelled["by"], "reason": self.cancelled["reason"]} if self.cancelled else None)
                p = item.product
                lines.append({
                    "id": unit, "sku_id": p.sku_id, "product_id": p.id, "product_name": p.name,
                    "sku_name": p.sku_name, "seller_sku": p.sku_id.upper(),
                    "sku_image": f"https://img.example.com/{p.sku_id}.jpg",
                    "original_price": money(p.price), "sale_price": money(p.price),
                    "currency": self.market.currency,
                    "display_status": "CANCELLED" if cancelled else _line_status(status, pkg),
                    "package_id": pkg.id if pkg else None,
                    "package_status": pkg.service_status if pkg else None,
                    "tracking_number": pkg.tracking_number if pkg else None,
                    "shipping_provider_id": pkg.carrier if pkg else None,
                    "shipping_provider_name": CARRIER_NAMES[pkg.carrier] if pkg and pkg.carrier else None,
                    "sku_type": item.sku_type, "handling_duration_days": item.handling_days,
                    "customization": item.customization, "product_tags": sorted(p.tags),
                    "warehouse_id": (pkg.warehouse if pkg else self.shop.warehouses[0]).id,
                    "cancel_user": cancelled["by"] if cancelled else None,
                    "cancel_reason": cancelled["reason"] if cancelled else None,
                })
        delivered = [p.reached for p in self.packages if p.service_status == "COMPLETED" and p.reached]
        collected = [p.shipped + 5 * HOUR for p in self.packages
                     if p.shipped and p.stage not in ("to_fulfill", "label_created")]
        addr = self.buyer.address
        order: dict[str, Any] = {
            "id": self.id, "buyer_user_id": self.buyer.id, "shop_id": self.shop.id,
            "shop_name": self.shop.name, "region": self.market.region, "status": status,
            "order_type": self.order_type, "is_on_hold_order": self.on_hold_order,
            "create_time": unix(self.placed), "paid_time": unix(self.paid) if self.paid else None,
            "update_time": unix(self._last_update()),
            "rts_sla_time": unix((self.paid or self.placed) + 2 * DAY),
            "delivery_sla_time": unix(self.promised),
            "delivery_sla_extension": self.sla_extension,
            "collection_time": unix(min(collected)) if collected else None,
            "delivery_time": unix(max(delivered)) if delivered and len(delivered) == len(
                [p for p in self.packages if p.service_status != "CANCELLED"]) else None,
            "cancel_time": unix(self.cancelled["time"]) if self.cancelled else None,
            "cancellation_initiator": self.cancelled["by"] if self.cancelled else None,
            "cancel_reason": self.cancelled["reason"] if self.cancelled else None,
            "delivery_type": self.delivery_type,
            "shipping_type": "SELLER",
            "split_or_combine_tag": "SPLIT" if len([p for p in self.packages if p.units]) > 1 else None,
            "has_updated_recipient_address": self.address_updated,
            "recipient_address": {
                "name": addr.name, "phone_number": addr.phone, "address_line1": addr.line1,
                "address_line2": addr.line2, "city": addr.city, "state": addr.region,
                "postal_code": addr.postal_code, "region_code": addr.country,
            },
            "payment": {
                "currency": self.market.currency, "sub_total": money(subtotal),
                "shipping_fee": money(self.shipping_fee), "tax": money(tax),
                "total_amount": money(subtotal + self.shipping_fee + tax),
            },
            "line_items": lines,
            "packages": [self._render_package(p) for p in self.packages if p.units],
        }
        world.orders[self.id] = order
        world.order_facts[self.id] = {
            "order_id": self.id, "buyer_user_id": self.buyer.id, "shop_id": self.shop.id,
            "region": self.market.region, "currency": self.market.currency,
            "paid_time": order["paid_time"], "is_on_hold_order": self.on_hold_order,
            "shipping_fee": money(self.shipping_fee), "tax_rate": str(self.market.tax_rate),
            "lines": {line["id"]: {"sku_id": line["sku_id"], "product_name": line["product_name"],
                                   "sale_price": line["sale_price"],
                                   "stage": _aftersales_stage(self.paid, unit_package.get(str(line["id"])))}
                      for line in lines},
        }
        for pkg in self.packages:
            if pkg.carrier and pkg.tracking_number:
                world.trackings[(pkg.carrier, pkg.tracking_number)] = self._render_tracking(pkg)

    def _last_update(self) -> datetime:
        times = [self.placed] + [t for p in self.packages for t in (p.shipped, p.reached) if t]
        if self.cancelled:
            times.append(self.cancelled["time"])
        return max(times)

    def _render_package(self, pkg: PackageStory) -> dict[str, Any]:
        return {
            "id": pkg.id, "status": pkg.service_status,
            "shipping_provider_id": pkg.carrier,
            "shipping_provider_name": CARRIER_NAMES[pkg.carrier] if pkg.carrier else None,
            "tracking_number": pkg.tracking_number,
            "split_and_combine_tag": "SPLIT" if len(self.packages) > 1 else "DEFAULT",
            "order_line_item_ids": list(pkg.units), "warehouse_id": pkg.warehouse.id,
            "weight_g": pkg.weight_g, "signature_type": pkg.signature,
            "handover_method": "PICKUP", "must_split_reasons": [{"type": t} for t in pkg.must_split],
            "authentication": pkg.authentication,
            "create_time": unix(pkg.shipped) if pkg.shipped else None,
            "estimated_ship_time": unix(pkg.estimated_ship) if pkg.estimated_ship else None,
        }

    def _render_tracking(self, pkg: PackageStory) -> dict[str, Any]:
        assert pkg.carrier and pkg.tracking_number and pkg.shipped and pkg.reached
        tz = timezone(timedelta(hours=self.market.utc_offset_hours))
        checkpoints = _journey(self, pkg)
        last = checkpoints[-1]
        pickup = self.delivery_type == "COLLECTION_POINT"
        delivered = pkg.reached if pkg.stage == "delivered" else None

        def edd(t: datetime | None) -> dict[str, Any] | None:
            if t is None:
                return None
            return {"type": "specific", "source": "Carrier", "datetime": t.astimezone(tz).date().isoformat(),
                    "datetime_min": None, "datetime_max": None}

        origin = pkg.warehouse.country
        return {
            "id": "trk_" + hashlib.sha256(pkg.tracking_number.encode()).hexdigest()[:20],
            "slug": pkg.carrier, "tracking_number": pkg.tracking_number,
            "tag": last["tag"], "subtag": last["subtag"], "subtag_message": last["subtag_message"],
            "origin_country_region": COUNTRY3.get(origin, origin),
            "destination_country_region": COUNTRY3[self.market.region],
            "delivery_type": "pickup_at_courier" if pickup else "door_to_door",
            "pickup_location": (
                ("Walgreens, 401 S Grand Ave, Springfield" if self.market.region == "US"
                 else "InPost Locker, Piccadilly Station") if pickup else None
            ),
            "signature_requirement": {"NONE": "none", "SIGNATURE_REQUIRED": "signature",
                                      "ADULT_SIGNATURE_REQUIRED": "adult_signature"}[pkg.signature],
            "signed_by": pkg.signed_by if delivered else None,
            "failed_delivery_attempts": sum(1 for c in checkpoints if c["tag"] == "AttemptFail"),
            "return_to_sender": pkg.stage in ("returning", "returned"),
            "order_promised_delivery_date": self.promised.astimezone(tz).date().isoformat(),
            "first_estimated_delivery": edd(pkg.first_estimate),
            "latest_estimated_delivery": edd(delivered or pkg.latest_estimate),
            "shipment_pickup_date": _iso(pkg.shipped + 5 * HOUR, tz) if pkg.stage != "label_created" else None,
            "shipment_delivery_date": _iso(delivered, tz) if delivered else None,
            "courier_tracking_link": TRACKING_LINKS[pkg.carrier].format(pkg.tracking_number),
            "created_at": _iso(pkg.shipped, tz), "updated_at": last["checkpoint_time"],
            "checkpoints": checkpoints,
        }


def _iso(t: datetime, tz: timezone) -> str:
    return t.astimezone(tz).isoformat(timespec="seconds")


# Where after-sales thinks a line is, in the line ``display_status`` vocabulary. It follows the carrier's
# feed (``pkg.stage``), not the order service's lagging package status: in the disagreeing scenarios a
# parcel the carrier delivered can already be returned, as the gateway's precedence says.
_AFTERSALES_STAGE = {"to_fulfill": "AWAITING_SHIPMENT", "label_created": "AWAITING_COLLECTION",
                     "delivered": "DELIVERED"}


def _aftersales_stage(paid: datetime | None, pkg: PackageStory | None) -> str:
    if paid is None:
        return "UNPAID"
    return "AWAITING_SHIPMENT" if pkg is None else _AFTERSALES_STAGE.get(pkg.stage, "IN_TRANSIT")


def _line_status(order_status: str, pkg: PackageStory | None) -> str:
    if pkg is None:
        return "UNPAID" if order_status == "UNPAID" else "AWAITING_SHIPMENT"
    return {"TO_FULFILL": "AWAITING_SHIPMENT", "PROCESSING": "AWAITING_COLLECTION",
            "FULFILLING": "IN_TRANSIT", "COMPLETED": "DELIVERED", "CANCELLED": "IN_TRANSIT"}[
        pkg.service_status]


def _journey(order: OrderStory, pkg: PackageStory) -> list[dict[str, Any]]:
    """The carrier's checkpoints from label to the package's current stage, in time order."""
    assert pkg.shipped and pkg.reached
    market = order.market
    tz = timezone(timedelta(hours=market.utc_offset_hours))
    origin = pkg.warehouse.city
    dest = order.buyer.address.city
    stage = pkg.stage
    start, end = pkg.shipped, pkg.reached
    events: list[tuple[datetime, str, str]] = [(start, "InfoReceived_001", origin)]
    if stage == "label_created":
        return [_checkpoint(t, s, loc, tz, order, pkg) for t, s, loc in events]
    cross_border = pkg.warehouse.country != market.region
    events.append((start + 5 * HOUR, "InTransit_002", origin))
    events.append((start + 9 * HOUR, "InTransit_007", origin))
    lead = end - 5 * HOUR
    final: list[tuple[datetime, str, str]] = {
        "in_transit": [(end, "InTransit_003", market.hubs[-1])],
        "out_for_delivery": [(end, "OutForDelivery_001", dest)],
        "available_for_pickup": [(lead, "OutForDelivery_001", dest), (end, "AvailableForPickup_001", dest)],
        "delivered": [(lead, "OutForDelivery_001", dest),
                      (end, "Delivered_003" if pkg.signed_by else "Delivered_001", dest)],
        "attempt_failed": [(lead, "OutForDelivery_001", dest), (end, "AttemptFail_002", dest)],
        "customs_hold": [(end, "Exception_004", "London Heathrow")],
        "duties_due": [(end, "Exception_006", "London Heathrow")],
        "address_issue": [(lead, "OutForDelivery_001", dest), (end, "Exception_007", dest)],
        "delayed": [(end, pkg.delay_subtag, market.hubs[-1])],
        # Two days of failed attempts (a card left each time), then the carrier sends it back.
        "returning": [(end - 2 * DAY - 5 * HOUR, "OutForDelivery_001", dest), (end - 2 * DAY, "AttemptFail_002", dest),
                      (end - DAY - 5 * HOUR, "OutForDelivery_001", dest), (end - DAY, "AttemptFail_002", dest),
                      (end, "Exception_010", dest)],
        "returned": [(lead - 3 * DAY, "AttemptFail_002", dest), (lead - 2 * DAY, "Exception_010", dest),
                     (end, "Exception_011", origin)],
        "lost": [(end, "Exception_013", market.hubs[-1])],
        "damaged": [(end, "Exception_012", market.hubs[-1])],
    }[stage]
    # Hub scans (and the customs leg of a cross-border parcel) fill the time before the final events.
    legs: list[tuple[str, str]] = [("InTransit_003", h) for h in market.hubs[: 1 if cross_border else 3]]
    if cross_border:
        legs += [("InTransit_004", "London Heathrow"), ("InTransit_006", "London Heathrow")]
        if stage not in ("customs_hold", "duties_due"):  # not cleared: held, or released only once paid
            legs.append(("InTransit_005", "London Heathrow"))
    first_final = min(t for t, _, _ in final)
    begin, finish = start + 9 * HOUR, first_final - HOUR
    if finish > begin:
        for i, (subtag, where) in enumerate(legs):
            events.append((begin + (finish - begin) * (i + 1) / (len(legs) + 1), subtag, where))
    events.extend(final)
    events.extend(pkg.extra_checkpoints)
    events.sort(key=lambda e: e[0])
    return [_checkpoint(t, s, loc, tz, order, pkg) for t, s, loc in events]


def _checkpoint(t: datetime, subtag: str, location: str, tz: timezone, order: OrderStory,
                pkg: PackageStory) -> dict[str, Any]:
    tag = subtag.split("_")[0]
    city, _, state = location.partition(", ")
    message = SUBTAG_MESSAGES[subtag]
    country = pkg.warehouse.country if location == pkg.warehouse.city else order.market.region
    return {
        "checkpoint_time": _iso(t, tz), "location": location, "city": city, "state": state or None,
        "country_region": COUNTRY3.get(country, country),
        "message": message if subtag != "InfoReceived_001" else "Shipping label created, awaiting item",
        "tag": tag, "subtag": subtag, "subtag_message": message,
    }


class Story:
    """Collects order stories, then renders them all into one :class:`World`."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.world = World(now=self.now)
        self.orders: list[OrderStory] = []
        self.returns: list[dict[str, Any]] = []
        self.cancellations: list[dict[str, Any]] = []
        self.cancelled_lines: dict[str, dict[str, Any]] = {}
        self.returned_lines: set[str] = set()

    def at(self, offset: timedelta) -> datetime:
        return self.now + offset

    def order(self, order_id: str, **kwargs: Any) -> OrderStory:
        return OrderStory(self, order_id, **kwargs)

    def render(self) -> World:
        for order in self.orders:
            order.render()
        for r in self.returns:
            self.world.returns[r["return_id"]] = r
        for c in self.cancellations:
            self.world.cancellations[c["cancel_id"]] = c
        return self.world
