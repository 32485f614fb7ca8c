"""The order's statuses: lifecycle (from its packages), the buyer's display status, the seller's tab.

The display status and its label are what both the order history list and the order page show;
they are computed here, once, from the same view, so the two can never disagree.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from gateway.domain.alerts import AlertKind
from gateway.domain.model import Actor, ReturnStatus
from gateway.domain.packages import NOT_SHIPPED, PackageStatus, undelivered_cause
from gateway.domain.policy import ReturnReason
from gateway.domain.returns import OPEN_STATUSES

if TYPE_CHECKING:
    from gateway.domain.view import OrderView


class OrderStatus(Enum):
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    PLACED = "PLACED"
    PROCESSING = "PROCESSING"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    PARTIALLY_DELIVERED = "PARTIALLY_DELIVERED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class DisplayStatus(Enum):
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    PLACED = "PLACED"
    PROCESSING = "PROCESSING"
    SHIPPED = "SHIPPED"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    PARTIALLY_DELIVERED = "PARTIALLY_DELIVERED"
    DELIVERED = "DELIVERED"
    DELAYED = "DELAYED"
    DELIVERY_ISSUE = "DELIVERY_ISSUE"
    CANCELLATION_REQUESTED = "CANCELLATION_REQUESTED"
    CANCELLED = "CANCELLED"
    RETURN_IN_PROGRESS = "RETURN_IN_PROGRESS"
    REFUNDED = "REFUNDED"
    COMPLETED = "COMPLETED"


class SellerStatus(Enum):
    PENDING = "PENDING"
    TO_SHIP = "TO_SHIP"
    SHIPPED = "SHIPPED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


ISSUE_ALERTS = frozenset({
    AlertKind.FAILED_ATTEMPT, AlertKind.LOST, AlertKind.DAMAGED, AlertKind.RETURNING_TO_SENDER,
    AlertKind.RETURNED_TO_SENDER, AlertKind.ADDRESS_ISSUE, AlertKind.DUTIES_DUE, AlertKind.AUTHENTICATION_FAILED,
})
DELAY_ALERTS = frozenset({
    AlertKind.LATE_DELIVERY, AlertKind.CARRIER_DELAY, AlertKind.WEATHER_DELAY, AlertKind.HOLIDAY_VOLUME,
    AlertKind.CUSTOMS_HOLD, AlertKind.TRACKING_STALLED, AlertKind.AUTHENTICATION_DELAY,
})


def lifecycle_status(view: OrderView) -> OrderStatus:
    if view.cancelled:
        return OrderStatus.CANCELLED
    order = view.snapshot.order
    if order.paid_at is None:
        return OrderStatus.AWAITING_PAYMENT
    live = [p for p in view.packages if p.status is not PackageStatus.CANCELLED]
    shipped = [p for p in live if p.status not in NOT_SHIPPED]
    delivered = [p for p in live if p.delivered]
    if not shipped:
        return OrderStatus.PLACED if view.in_free_cancel_window else OrderStatus.PROCESSING
    unassigned = any(u.package_id is None for u in view.live_units)
    if live and len(delivered) == len(live) and not unassigned:
        return OrderStatus.COMPLETED if view.after_sales_closed else OrderStatus.DELIVERED
    if delivered:
        return OrderStatus.PARTIALLY_DELIVERED
    if len(shipped) == len(live) and not unassigned:
        return OrderStatus.SHIPPED
    return OrderStatus.PARTIALLY_SHIPPED


def display_status(view: OrderView) -> tuple[DisplayStatus, str]:
    """The one status and label a shopper sees for this order, in the list and on the order page."""
    market, today = view.market, view.today
    status = view.status
    order = view.snapshot.order
    if status is OrderStatus.CANCELLED:
        # A parcel lost or sent back is why the platform cancelled: say that rather than who did it.
        cause = undelivered_cause(market, view.packages)
        if cause is not None:
            return DisplayStatus.CANCELLED, f"{market.word('Cancelled')}: {cause}"
        who = {Actor.BUYER: " by you", Actor.SELLER: " by the seller", Actor.SYSTEM: " automatically"}.get(
            view.cancelled_by, "") if view.cancelled_by else ""
        return DisplayStatus.CANCELLED, f"{market.word('Cancelled')}{who}"
    if status is OrderStatus.AWAITING_PAYMENT:
        return DisplayStatus.AWAITING_PAYMENT, "Awaiting payment"
    groups = view.returns
    open_groups = [g for g in groups if g.live and g.status not in (ReturnStatus.REFUNDED, ReturnStatus.REPLACED)]
    if open_groups:
        reasons = {r for g in open_groups for r in g.reasons}
        if ReturnReason.NOT_RECEIVED in reasons:
            return DisplayStatus.RETURN_IN_PROGRESS, "Reported not received"
        if ReturnReason.LATE in reasons:
            return DisplayStatus.RETURN_IN_PROGRESS, "Reported late"
        shipped_back = any(g.status not in OPEN_STATUSES for g in open_groups)
        return DisplayStatus.RETURN_IN_PROGRESS, "Return on its way back" if shipped_back else "Return in progress"
    refunded = [g for g in groups if g.status is ReturnStatus.REFUNDED]
    if refunded:
        returned_units = {u for g in refunded for u in g.unit_ids}
        everything = {u.id for u in view.live_units}
        return DisplayStatus.REFUNDED, "Refunded" if everything <= returned_units else "Partially refunded"
    if view.cancellation_requested:
        return DisplayStatus.CANCELLATION_REQUESTED, "Cancellation requested"
    alerts = view.alerts
    issue = next((a for a in alerts if a.kind in ISSUE_ALERTS), None)
    if issue is not None:
        return DisplayStatus.DELIVERY_ISSUE, issue.title
    delay = next((a for a in alerts if a.kind in DELAY_ALERTS), None)
    if delay is not None:
        if delay.kind is AlertKind.CUSTOMS_HOLD:
            return DisplayStatus.DELAYED, "Held at customs"
        # A parcel the carrier stopped scanning, or an item still waiting for an overdue authentication,
        # has no date anyone can stand behind (its ETA is withheld too): say what is known instead.
        if delay.kind is AlertKind.TRACKING_STALLED and delay.since is not None:
            since = market.day(market.local(delay.since).date(), today)
            return DisplayStatus.DELAYED, f"No tracking updates since {since}"
        if delay.kind is AlertKind.AUTHENTICATION_DELAY:
            return DisplayStatus.DELAYED, delay.title
        when = delay.revised_date or (view.latest_eta if delay.kind is not AlertKind.LATE_DELIVERY else None)
        return DisplayStatus.DELAYED, f"Delayed, now arriving {market.day(when, today)}" if when else "Delayed"
    if status is OrderStatus.PLACED:
        return DisplayStatus.PLACED, "Order placed"
    if status is OrderStatus.PROCESSING:
        authenticating = any(p.status is PackageStatus.AWAITING_AUTHENTICATION for p in view.packages)
        return DisplayStatus.PROCESSING, "Authenticating" if authenticating else "Preparing to ship"
    if status is OrderStatus.PARTIALLY_DELIVERED:
        live = [p for p in view.packages if p.status is not PackageStatus.CANCELLED]
        done = sum(1 for p in live if p.delivered)
        return DisplayStatus.PARTIALLY_DELIVERED, f"{done} of {len(live)} {market.word('parcel')}s delivered"
    if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        delivered_at = max((p.delivered_at for p in view.packages if p.delivered_at), default=None)
        day = f" {market.day(market.local(delivered_at).date(), today)}" if delivered_at else ""
        kind = DisplayStatus.COMPLETED if status is OrderStatus.COMPLETED else DisplayStatus.DELIVERED
        return kind, f"Delivered{day}"
    live = [p for p in view.packages if p.status not in (PackageStatus.CANCELLED,) and not p.delivered]
    parcels = len([p for p in view.packages if p.status is not PackageStatus.CANCELLED])
    for last_mile, display, label in (
        (PackageStatus.OUT_FOR_DELIVERY, DisplayStatus.OUT_FOR_DELIVERY, "Out for delivery"),
        (PackageStatus.AVAILABLE_FOR_PICKUP, DisplayStatus.READY_FOR_PICKUP, market.word("Ready to collect")),
    ):
        n = sum(1 for p in live if p.status is last_mile)
        if n:
            return display, label if parcels == 1 else f"{label}: {n} of {parcels} {market.word('parcel')}s"
    eta = view.latest_eta
    if status is OrderStatus.PARTIALLY_SHIPPED:
        return DisplayStatus.SHIPPED, "Partially shipped"
    if all(p.status is PackageStatus.LABEL_CREATED for p in live) and not order.sla_extension:
        return DisplayStatus.SHIPPED, "Shipping soon"
    return DisplayStatus.SHIPPED, f"Arriving {market.day(eta, today)}" if eta else "Shipped"


def seller_status(view: OrderView) -> SellerStatus:
    status = view.status
    if status is OrderStatus.CANCELLED:
        return SellerStatus.CANCELLED
    if status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PLACED):
        return SellerStatus.PENDING
    live = [p for p in view.packages if p.status is not PackageStatus.CANCELLED]
    if not live or any(p.status in NOT_SHIPPED or p.status is PackageStatus.LABEL_CREATED for p in live):
        return SellerStatus.TO_SHIP
    if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return SellerStatus.COMPLETED
    return SellerStatus.SHIPPED
