"""Where each package is: one status per package from two services that disagree, plus ETA and split reason.

Precedence when the upstreams disagree (``ord-us-disagree-delivered`` shows the first rule):

1. A completed cancellation (after-sales) or a cancelled line (order service) removes those units;
   a package left with no units is CANCELLED, unless its journey ended without a delivery (lost,
   damaged, returned to the seller): then the cancellation is the platform's answer to that (DOMAIN
   1.4, system reasons ``package_lost``, ``returned_to_shipper_*``) and the package keeps saying what
   happened to it.
2. The carrier's scans beat the order service's package status: the carrier saw the parcel, the
   order service learns of it later. ``Delivered`` from the carrier is delivered, whatever the order
   service says.
3. Except when the carrier only has label data (InfoReceived/Pending) and the order service already
   reports a later stage: then the carrier's feed is the one lagging, and the order service wins.
4. Without usable carrier data (no tracking number yet, unknown to the carrier, or the carrier
   service down) the order service's package status decides, and the view says so
   (``status_source``), so a degraded answer is never shown as a confirmed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from gateway.domain.model import (
    AuthenticationStatus,
    CancellationStatus,
    CarrierTag,
    FulfilmentStatus,
    OrderSnapshot,
    PackageRecord,
    ProductTag,
    Signature,
    SkuType,
    Tracking,
    Unit,
)
from gateway.domain.policy import MarketPolicy


class PackageStatus(Enum):
    PENDING = "PENDING"
    AWAITING_AUTHENTICATION = "AWAITING_AUTHENTICATION"
    LABEL_CREATED = "LABEL_CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    AVAILABLE_FOR_PICKUP = "AVAILABLE_FOR_PICKUP"
    DELIVERY_ATTEMPTED = "DELIVERY_ATTEMPTED"
    DELIVERED = "DELIVERED"
    RETURNING_TO_SENDER = "RETURNING_TO_SENDER"
    RETURNED_TO_SENDER = "RETURNED_TO_SENDER"
    LOST = "LOST"
    DAMAGED = "DAMAGED"
    CANCELLED = "CANCELLED"


NOT_SHIPPED = frozenset({PackageStatus.PENDING, PackageStatus.AWAITING_AUTHENTICATION})
# Shipped and will not reach the buyer: the journey is over without a delivery.
ENDED_UNDELIVERED = frozenset({
    PackageStatus.RETURNED_TO_SENDER, PackageStatus.LOST, PackageStatus.DAMAGED, PackageStatus.CANCELLED,
})
# The journeys that ended without a delivery: the platform cancels (and refunds) their items.
UNDELIVERABLE = ENDED_UNDELIVERED - {PackageStatus.CANCELLED}
# Will not reach the buyer: on its way back to the seller, or its journey is over without a delivery.
WONT_ARRIVE = ENDED_UNDELIVERED | {PackageStatus.RETURNING_TO_SENDER}
# Where the carrier should keep scanning a parcel on its way: one it has not scanned for the market's
# stalled_after has gone quiet (at the door, a wait has its own alert: an attempt, a pickup point).
_SCANNED_EN_ROUTE = frozenset({PackageStatus.LABEL_CREATED, PackageStatus.IN_TRANSIT})
ON_THE_WAY = frozenset({
    PackageStatus.LABEL_CREATED, PackageStatus.IN_TRANSIT, PackageStatus.OUT_FOR_DELIVERY,
    PackageStatus.AVAILABLE_FOR_PICKUP, PackageStatus.DELIVERY_ATTEMPTED, PackageStatus.RETURNING_TO_SENDER,
})


class StatusSource(Enum):
    CARRIER = "CARRIER"
    ORDER_SERVICE = "ORDER_SERVICE"


class SplitReason(Enum):
    ITEM_AVAILABILITY = "ITEM_AVAILABILITY"
    BACKORDER = "BACKORDER"
    MADE_TO_ORDER = "MADE_TO_ORDER"
    CUSTOMISATION = "CUSTOMISATION"
    PRE_ORDER = "PRE_ORDER"
    SIZE_OR_WEIGHT = "SIZE_OR_WEIGHT"
    AUTHENTICATION = "AUTHENTICATION"
    CATEGORY_LIMIT = "CATEGORY_LIMIT"
    PACKAGE_ITEM_LIMIT = "PACKAGE_ITEM_LIMIT"
    SELLER_CHOICE = "SELLER_CHOICE"


class EtaSource(Enum):
    CARRIER = "CARRIER"
    ORDER_SERVICE = "ORDER_SERVICE"
    ESTIMATE = "ESTIMATE"


@dataclass(frozen=True, slots=True)
class Eta:
    earliest: date
    latest: date
    revised: bool
    original: date | None
    source: EtaSource


@dataclass(frozen=True, slots=True)
class Split:
    reason: SplitReason
    explanation: str


@dataclass(frozen=True, slots=True)
class PackageView:
    record: PackageRecord
    number: int
    status: PackageStatus
    status_source: StatusSource
    tracking: Tracking | None
    units: tuple[Unit, ...]
    shipped_at: datetime | None
    delivered_at: datetime | None
    signature: Signature
    eta: Eta | None
    split: Split | None

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def delivered(self) -> bool:
        return self.status is PackageStatus.DELIVERED

    @property
    def shipped(self) -> bool:
        return self.status not in NOT_SHIPPED and self.status is not PackageStatus.CANCELLED

    @property
    def failed_authentication(self) -> bool:
        """It will not ship: the authenticator rejected its item, so the platform cancels it (DOMAIN 1.6)."""
        return failed_authentication(self.record, self.status)

    @property
    def will_not_arrive(self) -> bool:
        return self.status in WONT_ARRIVE or self.failed_authentication


_FULFILMENT_STATUS = {
    FulfilmentStatus.TO_FULFILL: PackageStatus.PENDING,
    FulfilmentStatus.PROCESSING: PackageStatus.LABEL_CREATED,
    FulfilmentStatus.FULFILLING: PackageStatus.IN_TRANSIT,
    FulfilmentStatus.COMPLETED: PackageStatus.DELIVERED,
    FulfilmentStatus.CANCELLED: PackageStatus.CANCELLED,
}
_TAG_STATUS = {
    CarrierTag.PENDING: PackageStatus.LABEL_CREATED,
    CarrierTag.INFO_RECEIVED: PackageStatus.LABEL_CREATED,
    CarrierTag.IN_TRANSIT: PackageStatus.IN_TRANSIT,
    CarrierTag.OUT_FOR_DELIVERY: PackageStatus.OUT_FOR_DELIVERY,
    CarrierTag.ATTEMPT_FAIL: PackageStatus.DELIVERY_ATTEMPTED,
    CarrierTag.DELIVERED: PackageStatus.DELIVERED,
    CarrierTag.AVAILABLE_FOR_PICKUP: PackageStatus.AVAILABLE_FOR_PICKUP,
    CarrierTag.EXPIRED: PackageStatus.IN_TRANSIT,
}
# Exceptions that end or reverse the journey; other exceptions (customs, delays, address) leave the
# parcel where its last ordinary scan put it, with an alert.
_TERMINAL_EXCEPTIONS = {
    "Exception_003": PackageStatus.RETURNING_TO_SENDER,  # refused
    "Exception_008": PackageStatus.RETURNING_TO_SENDER,  # not collected from the pickup point
    "Exception_009": PackageStatus.RETURNING_TO_SENDER,  # rejected by the carrier
    "Exception_010": PackageStatus.RETURNING_TO_SENDER,
    "Exception_011": PackageStatus.RETURNED_TO_SENDER,
    "Exception_012": PackageStatus.DAMAGED,
    "Exception_013": PackageStatus.LOST,
}
_RANK = {s: i for i, s in enumerate([
    PackageStatus.PENDING, PackageStatus.AWAITING_AUTHENTICATION, PackageStatus.LABEL_CREATED,
    PackageStatus.IN_TRANSIT, PackageStatus.OUT_FOR_DELIVERY, PackageStatus.AVAILABLE_FOR_PICKUP,
    PackageStatus.DELIVERY_ATTEMPTED, PackageStatus.DELIVERED,
])}


def carrier_status(tracking: Tracking) -> PackageStatus:
    if tracking.tag is CarrierTag.EXCEPTION:
        terminal = _TERMINAL_EXCEPTIONS.get(tracking.subtag)
        if terminal is not None:
            return terminal
        ordinary = [e for e in tracking.events if e.tag is not CarrierTag.EXCEPTION]
        return _TAG_STATUS[ordinary[-1].tag] if ordinary else PackageStatus.IN_TRANSIT
    return _TAG_STATUS[tracking.tag]


def cancelled_unit_ids(snapshot: OrderSnapshot) -> frozenset[str]:
    order = snapshot.order
    if order.source_status == "CANCELLED":
        return frozenset(u.id for u in order.units)
    ids = {u.id for u in order.units if u.cancelled_by is not None}
    if snapshot.after_sales is not None:
        for c in snapshot.after_sales.cancellations:
            if c.status is CancellationStatus.CANCELLED:
                ids.update(c.unit_ids)
    return frozenset(ids)


def _resolve_status(record: PackageRecord, tracking: Tracking | None) -> tuple[PackageStatus, StatusSource]:
    service = _FULFILMENT_STATUS[record.fulfilment]
    auth = record.authentication
    if service is PackageStatus.PENDING and auth is not None and auth.status is not AuthenticationStatus.APPROVED:
        service = PackageStatus.AWAITING_AUTHENTICATION
    if tracking is None:
        return service, StatusSource.ORDER_SERVICE
    carrier = carrier_status(tracking)
    label_only = tracking.tag in (CarrierTag.INFO_RECEIVED, CarrierTag.PENDING)
    if label_only and service in _RANK and _RANK[service] > _RANK[carrier]:
        return service, StatusSource.ORDER_SERVICE
    return carrier, StatusSource.CARRIER


def failed_authentication(record: PackageRecord, status: PackageStatus) -> bool:
    auth = record.authentication
    return status in NOT_SHIPPED and auth is not None and auth.status is AuthenticationStatus.REJECTED


def authentication_overdue(record: PackageRecord, status: PackageStatus, now: datetime) -> datetime | None:
    """The certificate's review deadline, when it has passed with the item still waiting to be approved."""
    auth = record.authentication
    if auth is None or status not in NOT_SHIPPED or auth.deadline is None or now <= auth.deadline:
        return None
    return None if auth.status in (AuthenticationStatus.APPROVED, AuthenticationStatus.REJECTED) else auth.deadline


def quiet_since(snapshot: OrderSnapshot, market: MarketPolicy, status: PackageStatus,
                tracking: Tracking | None) -> datetime | None:
    """The carrier's last scan, when a parcel on the move has had none for longer than the market allows."""
    last = tracking.events[-1] if tracking and tracking.events else None
    if last is None or status not in _SCANNED_EN_ROUTE or snapshot.now - last.time <= market.stalled_after:
        return None
    return last.time


def undelivered_cause(market: MarketPolicy, packages: tuple[PackageView, ...]) -> str | None:
    """What ended a parcel's journey without a delivery ("parcel lost"), when one did, in the market's words."""
    ended = next((p.status for p in packages if p.status in UNDELIVERABLE), None)
    if ended is None:
        return None
    parcel = market.word("parcel")
    return {PackageStatus.LOST: f"{parcel} lost", PackageStatus.DAMAGED: f"{parcel} damaged",
            PackageStatus.RETURNED_TO_SENDER: "returned to the seller"}[ended]


def promised_date(snapshot: OrderSnapshot, market: MarketPolicy) -> date | None:
    order = snapshot.order
    promised = order.sla_extension.extended if order.sla_extension else order.promised_by
    return market.local(promised).date() if promised else None


def _eta(snapshot: OrderSnapshot, market: MarketPolicy, record: PackageRecord, status: PackageStatus,
         tracking: Tracking | None) -> Eta | None:
    """When it should arrive, or None when no date can honestly be given: it has arrived, it never will
    (sent back, lost, damaged, cancelled, failed authentication), it cannot ship until an overdue
    authentication is approved, or the carrier has gone quiet and never revised the date it gave before."""
    if status is PackageStatus.DELIVERED or status in WONT_ARRIVE or failed_authentication(record, status):
        return None
    if authentication_overdue(record, status, snapshot.now) is not None:
        return None
    quiet = quiet_since(snapshot, market, status, tracking) is not None
    if tracking is not None and (tracking.latest_estimate or tracking.first_estimate):
        latest = tracking.latest_estimate or tracking.first_estimate
        first = tracking.first_estimate or latest
        assert latest is not None and first is not None
        revised = latest != first
        if quiet and not revised:
            return None
        return Eta(latest, latest, revised, first if revised else None, EtaSource.CARRIER)
    if status in NOT_SHIPPED:
        low, high = market.transit_days
        base = record.estimated_ship_at or snapshot.order.ship_by or snapshot.now
        start = market.local(max(base, snapshot.now)).date()
        return Eta(start + timedelta(days=low), start + timedelta(days=high), False, None, EtaSource.ESTIMATE)
    promised = promised_date(snapshot, market)
    if promised is None or quiet:
        return None
    return Eta(promised, promised, False, None, EtaSource.ORDER_SERVICE)


def _intrinsic_split(record: PackageRecord, units: tuple[Unit, ...], others: list[PackageRecord],
                     market: MarketPolicy, today: date) -> Split | None:
    """Why this package had to travel on its own, from what is in it (no upstream says so directly)."""
    for unit in units:
        if unit.customization:
            return Split(SplitReason.CUSTOMISATION,
                         f"{unit.product_name} is personalised for you ({unit.customization}), so it ships "
                         "on its own once it has been made.")
    for unit in units:
        made = f" (about {unit.handling_days} days)" if unit.handling_days else ""
        if unit.sku_type is SkuType.MADE_TO_ORDER:
            return Split(SplitReason.MADE_TO_ORDER,
                         f"{unit.product_name} is made to order{made}, so it ships separately once it is ready.")
        if unit.sku_type is SkuType.BACK_ORDER:
            when = (f", expected to ship {market.day(market.local(record.estimated_ship_at).date(), today)}"
                    if record.estimated_ship_at else "")
            return Split(SplitReason.BACKORDER,
                         f"{unit.product_name} is on backorder, so it ships on its own when it is back in "
                         f"stock{when}.")
        if unit.sku_type is SkuType.PRE_ORDER:
            return Split(SplitReason.PRE_ORDER,
                         f"{unit.product_name} is a pre-order, so it ships on its own when it is released.")
    if record.authentication is not None or any(ProductTag.REQUIRES_AUTHENTICATION in u.tags for u in units):
        name = units[0].product_name if units else "This item"
        return Split(SplitReason.AUTHENTICATION,
                     f"{name} is checked by an independent authenticator before it ships, so it travels on "
                     "its own.")
    if "OVERSIZE_OVERWEIGHT" in record.must_split or any(ProductTag.OVERSIZE in u.tags for u in units):
        name = units[0].product_name if units else "This item"
        return Split(SplitReason.SIZE_OR_WEIGHT,
                     f"{name} is too large or heavy to travel with the rest of your order, so it ships "
                     "separately and may take longer.")
    if "CATEGORY_ITEM_LIMITATION" in record.must_split:
        return Split(SplitReason.CATEGORY_LIMIT,
                     "Items of this kind must be shipped in their own package.")
    if "TOTAL_COUNT_LIMITATION" in record.must_split:
        return Split(SplitReason.PACKAGE_ITEM_LIMIT,
                     f"Your order has more items than fit in one {market.word('parcel')}, so it was split.")
    if any(o.warehouse_id != record.warehouse_id for o in others):
        return Split(SplitReason.ITEM_AVAILABILITY,
                     "These items were in stock at a different warehouse, so they ship from there "
                     "separately rather than wait to travel together.")
    return None


def _companion_split(intrinsic: Split, owner: PackageRecord, units: tuple[Unit, ...]) -> Split:
    held_up = units[0].product_name if units else "another item"
    if intrinsic.reason is SplitReason.ITEM_AVAILABILITY:
        return intrinsic
    return Split(intrinsic.reason,
                 f"Your other items ship separately so they are not held up by {held_up} "
                 f"({intrinsic.reason.value.replace('_', ' ').lower()}).")


def resolve_packages(snapshot: OrderSnapshot, market: MarketPolicy) -> tuple[PackageView, ...]:
    order = snapshot.order
    cancelled = cancelled_unit_ids(snapshot)
    units_by_id = {u.id: u for u in order.units}
    records = list(order.packages)
    today = market.local(snapshot.now).date()
    live_units = {r.id: tuple(units_by_id[i] for i in r.unit_ids if i in units_by_id and i not in cancelled)
                  for r in records}
    live_records = [r for r in records if live_units[r.id]]
    intrinsic = {
        r.id: _intrinsic_split(r, live_units[r.id], [o for o in live_records if o.id != r.id], market, today)
        for r in live_records
    } if len(live_records) > 1 else {}
    views = []
    for number, record in enumerate(records, start=1):
        units = live_units[record.id]
        tracking = snapshot.trackings.get(record.id)
        status, source = _resolve_status(record, tracking)
        if not units and status not in UNDELIVERABLE:
            status, source = PackageStatus.CANCELLED, StatusSource.ORDER_SERVICE
        delivered_at = None
        if status is PackageStatus.DELIVERED:
            delivered_at = (tracking.delivered_at if tracking and tracking.delivered_at
                            else order.delivered_at or order.updated_at)
        shipped_at = tracking.events[0].time if tracking and tracking.events else record.created_at
        signature = record.signature
        if tracking is not None and tracking.signature is not Signature.NONE:
            signature = tracking.signature
        split = None
        if record.id in intrinsic:
            split = intrinsic[record.id]
            if split is None:
                owner = next((o for o in live_records if intrinsic.get(o.id)), None)
                if owner is not None:
                    found = intrinsic[owner.id]
                    assert found is not None
                    split = _companion_split(found, owner, live_units[owner.id])
                else:
                    split = Split(SplitReason.SELLER_CHOICE,
                                  f"The seller sent your items in separate {market.word('parcel')}s.")
        views.append(PackageView(
            record=record, number=number, status=status, status_source=source, tracking=tracking, units=units,
            shipped_at=shipped_at if status not in NOT_SHIPPED else None, delivered_at=delivered_at,
            signature=signature, eta=_eta(snapshot, market, record, status, tracking), split=split,
        ))
    return tuple(views)
