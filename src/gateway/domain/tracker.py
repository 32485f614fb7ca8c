"""The horizontal tracker: a fixed row of milestones per package, and a summary row for the order.

The current step is the latest milestone the package has reached; steps before it are DONE (or
SKIPPED when the carrier never reported them), steps after it UPCOMING. When the parcel is stuck or
its journey ended without a delivery, the current step is BLOCKED instead. A delivered package has
no current step: every step is done. Each milestone's time is taken at or after the previous one, so
times never go backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from gateway.domain.alerts import Alert
from gateway.domain.model import AuthenticationStatus, CarrierTag, DeliveryMethod, OrderSnapshot, Signature
from gateway.domain.packages import (
    NOT_SHIPPED,
    PackageStatus,
    PackageView,
    StatusSource,
    authentication_overdue,
    undelivered_cause,
)
from gateway.domain.policy import MarketPolicy


class StepKind(Enum):
    PLACED = "PLACED"
    AUTHENTICATING = "AUTHENTICATING"
    SHIPPED = "SHIPPED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    DELIVERED = "DELIVERED"


class StepState(Enum):
    DONE = "DONE"
    CURRENT = "CURRENT"
    UPCOMING = "UPCOMING"
    BLOCKED = "BLOCKED"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True, slots=True)
class TrackerStep:
    kind: StepKind
    label: str
    state: StepState
    time: datetime | None
    description: str


@dataclass(frozen=True, slots=True)
class TrackerSummary:
    total: int
    shipped: int
    delivered: int
    headline: str
    steps: tuple[TrackerStep, ...]


LABELS = {
    StepKind.PLACED: "Order placed", StepKind.AUTHENTICATING: "Authenticating", StepKind.SHIPPED: "Shipped",
    StepKind.IN_TRANSIT: "In transit", StepKind.OUT_FOR_DELIVERY: "Out for delivery",
    StepKind.READY_FOR_PICKUP: "Ready to collect", StepKind.DELIVERED: "Delivered",
}
# How far along each status is: the index into the package's step row (without AUTHENTICATING).
_REACHED = {
    PackageStatus.PENDING: StepKind.PLACED,
    PackageStatus.AWAITING_AUTHENTICATION: StepKind.AUTHENTICATING,
    PackageStatus.LABEL_CREATED: StepKind.PLACED,
    PackageStatus.IN_TRANSIT: StepKind.IN_TRANSIT,
    PackageStatus.OUT_FOR_DELIVERY: StepKind.OUT_FOR_DELIVERY,
    PackageStatus.AVAILABLE_FOR_PICKUP: StepKind.READY_FOR_PICKUP,
    PackageStatus.DELIVERY_ATTEMPTED: StepKind.OUT_FOR_DELIVERY,
    PackageStatus.DELIVERED: StepKind.DELIVERED,
}


def _kinds(snapshot: OrderSnapshot, p: PackageView) -> list[StepKind]:
    last_mile = (StepKind.READY_FOR_PICKUP if snapshot.order.delivery_method is DeliveryMethod.PICKUP_POINT
                 else StepKind.OUT_FOR_DELIVERY)
    kinds = [StepKind.PLACED]
    if p.record.authentication is not None:
        kinds.append(StepKind.AUTHENTICATING)
    return [*kinds, StepKind.SHIPPED, StepKind.IN_TRANSIT, last_mile, StepKind.DELIVERED]


def _milestone_times(snapshot: OrderSnapshot, p: PackageView, kinds: list[StepKind]) -> dict[StepKind, datetime]:
    """When each milestone was reached, from the carrier's scans (or the order service's times)."""
    order = snapshot.order
    times: dict[StepKind, datetime] = {StepKind.PLACED: order.placed_at}
    floor = order.placed_at
    auth = p.record.authentication
    if auth is not None:
        started = auth.submitted_at or order.paid_at or order.placed_at
        times[StepKind.AUTHENTICATING] = max(started, floor)
        floor = times[StepKind.AUTHENTICATING]
    events = p.tracking.events if p.tracking else ()
    wanted = {
        StepKind.SHIPPED: (CarrierTag.IN_TRANSIT,),
        StepKind.IN_TRANSIT: (CarrierTag.IN_TRANSIT,),
        StepKind.OUT_FOR_DELIVERY: (CarrierTag.OUT_FOR_DELIVERY,),
        StepKind.READY_FOR_PICKUP: (CarrierTag.AVAILABLE_FOR_PICKUP,),
        StepKind.DELIVERED: (CarrierTag.DELIVERED,),
    }
    for kind in kinds:
        if kind not in wanted:
            continue
        after_strictly = kind is StepKind.IN_TRANSIT and StepKind.SHIPPED in times
        for event in events:
            if event.tag in wanted[kind] and (event.time > floor if after_strictly else event.time >= floor):
                times[kind] = event.time
                floor = event.time
                break
    if p.status is PackageStatus.DELIVERED and StepKind.DELIVERED not in times and p.delivered_at:
        times[StepKind.DELIVERED] = max(p.delivered_at, floor)
    if StepKind.SHIPPED not in times and p.shipped and p.status_source is StatusSource.ORDER_SERVICE:
        shipped = p.record.created_at
        if shipped is not None and shipped >= times[StepKind.PLACED]:
            times[StepKind.SHIPPED] = shipped
    return times


def package_tracker(snapshot: OrderSnapshot, market: MarketPolicy, p: PackageView,
                    alerts: list[Alert]) -> tuple[TrackerStep, ...]:
    kinds = _kinds(snapshot, p)
    times = _milestone_times(snapshot, p, kinds)
    today = market.local(snapshot.now).date()
    blocked = any(a.blocking for a in alerts) or p.status is PackageStatus.CANCELLED
    finished = p.status is PackageStatus.DELIVERED
    # The latest milestone reached: by status where it is a journey status, else by the scans we have.
    reached_kind = _REACHED.get(p.status)
    if reached_kind is None:  # ended undelivered, or cancelled: stop at the furthest milestone seen
        reached_kind = max((k for k in kinds if k in times), key=kinds.index)
    if reached_kind not in kinds:
        reached_kind = StepKind.PLACED
    if p.status in (PackageStatus.PENDING, PackageStatus.LABEL_CREATED) and StepKind.AUTHENTICATING in kinds:
        reached_kind = StepKind.AUTHENTICATING
    if p.status is PackageStatus.IN_TRANSIT and StepKind.IN_TRANSIT not in times and StepKind.SHIPPED in times:
        reached_kind = StepKind.SHIPPED
    current = kinds.index(reached_kind)
    steps = []
    for i, kind in enumerate(kinds):
        time = times.get(kind)
        if finished or i < current:
            state = StepState.DONE if time is not None or p.status_source is StatusSource.ORDER_SERVICE \
                else StepState.SKIPPED
        elif i == current:
            state = StepState.BLOCKED if blocked else StepState.CURRENT
        else:
            state = StepState.UPCOMING
            time = None
        label = market.word(LABELS[kind])
        steps.append(TrackerStep(kind, label, state, time, _describe(snapshot, market, p, kind, state, time, today)))
    return tuple(steps)


def _describe(snapshot: OrderSnapshot, market: MarketPolicy, p: PackageView, kind: StepKind, state: StepState,
              time: datetime | None, today: date) -> str:
    order = snapshot.order
    carrier = p.record.carrier_name or "the carrier"
    at = market.moment(time, today) if time else ""
    last = p.tracking.events[-1] if p.tracking and p.tracking.events else None
    if kind is StepKind.PLACED:
        if state in (StepState.CURRENT, StepState.BLOCKED):
            if p.status is PackageStatus.CANCELLED:
                return f"{market.word('Cancelled')} before it shipped."
            if p.status is PackageStatus.LABEL_CREATED:
                return f"Label created; waiting for {carrier} to collect it."
            if order.paid_at is None:
                return "Waiting for payment."
            planned = p.record.estimated_ship_at or order.ship_by
            ship_by = ""
            if planned is not None and planned > snapshot.now:
                ship_by = f" Expected to ship {market.day(market.local(planned).date(), today)}."
            return "The seller is preparing your order." + ship_by
        return f"Ordered {at}."
    if kind is StepKind.AUTHENTICATING:
        auth = p.record.authentication
        assert auth is not None
        if auth.status is AuthenticationStatus.APPROVED and auth.approved_at is not None:
            approved = market.moment(auth.approved_at, today)
            suffix = " Preparing to ship." if state is StepState.CURRENT else ""
            return f"Authenticated by {auth.provider} on {approved}.{suffix}"
        if auth.status is AuthenticationStatus.REJECTED:
            return f"{auth.provider} could not confirm the item is authentic."
        if state is StepState.UPCOMING:
            return f"An independent authenticator ({auth.provider}) checks the item before it ships."
        if authentication_overdue(p.record, p.status, snapshot.now) is not None:
            return f"{auth.provider} is still checking the item: it's taking longer than expected."
        return f"{auth.provider} is checking the item is authentic before it ships."
    if kind is StepKind.SHIPPED:
        if state is StepState.UPCOMING:
            return f"{carrier.capitalize() if carrier == 'the carrier' else carrier} picks it up from the seller."
        return f"Handed to {carrier}{' on ' + at if at else ''}."
    if kind is StepKind.IN_TRANSIT:
        if state in (StepState.CURRENT, StepState.BLOCKED) and last is not None:
            return f"{last.message} - {last.location}, {market.moment(last.time, today)}."
        if state is StepState.UPCOMING:
            return "On its way to you."
        return "On its way." if not at else f"On its way since {at}."
    if kind in (StepKind.OUT_FOR_DELIVERY, StepKind.READY_FOR_PICKUP):
        pickup = kind is StepKind.READY_FOR_PICKUP
        where = p.tracking.pickup_location if p.tracking and p.tracking.pickup_location else market.word("pickup point")
        if p.status is PackageStatus.DELIVERY_ATTEMPTED and last is not None:
            out = f"Out for delivery {at}; d" if at else "D"
            return f"{out}elivery attempted {market.moment(last.time, today)}: {last.message.lower()}."
        if state is StepState.UPCOMING:
            return f"Waiting for you at {where}." if pickup else "With the driver on delivery day."
        if pickup:
            return f"Ready to collect at {where}" + (" since " + at if at else "") + "."
        sign = {Signature.SIGNATURE: " A signature is required.",
                Signature.ADULT_SIGNATURE: f" An adult ({market.adult_age}+) signature is required."}.get(
            p.signature, "")
        return ("Out for delivery" + (" " + at if at else "") + "." + sign) if state is not StepState.DONE else \
            "Out for delivery" + (f" {at}" if at else "") + "."
    # DELIVERED
    if state is StepState.UPCOMING or time is None:
        if p.will_not_arrive:
            return "It won't be delivered."
        if p.eta is not None:
            window = market.day(p.eta.latest, today) if p.eta.earliest == p.eta.latest else (
                f"{market.day(p.eta.earliest, today)} - {market.day(p.eta.latest, today)}")
            if p.eta.latest < today:
                return f"Was expected {window}; running late."
            return f"Estimated {window}."
        return "Delivery date to be confirmed."
    signed = f" Signed for by {p.tracking.signed_by}." if p.tracking and p.tracking.signed_by else ""
    return f"Delivered {at}.{signed}"


def order_summary(snapshot: OrderSnapshot, market: MarketPolicy, packages: tuple[PackageView, ...],
                  cancelled: bool) -> TrackerSummary:
    """The order's own short row: placed, shipped (all packages), delivered (all packages)."""
    order = snapshot.order
    live = [p for p in packages if p.status is not PackageStatus.CANCELLED]
    total = len(live)
    shipped = [p for p in live if p.status not in NOT_SHIPPED]
    delivered = [p for p in live if p.status is PackageStatus.DELIVERED]
    today = market.local(snapshot.now).date()
    parcel = market.word("parcel")
    if cancelled:
        cause = undelivered_cause(market, packages)
        headline = f"Order {market.word('cancelled')}" + (f": {cause}" if cause else "")
    elif order.paid_at is None:
        headline = "Waiting for payment"
    elif total == 0:
        headline = "Preparing your order"
    elif len(delivered) == total:
        headline = "Delivered" if total == 1 else f"All {total} {parcel}s delivered"
    elif delivered:
        headline = f"{len(delivered)} of {total} {parcel}s delivered"
    elif len(shipped) == total:
        headline = "Shipped" if total == 1 else f"All {total} {parcel}s shipped"
    elif shipped:
        headline = f"{len(shipped)} of {total} {parcel}s shipped"
    else:
        headline = "Preparing your order" if total == 1 else f"Preparing {total} {parcel}s"

    def last(times: list[datetime | None]) -> datetime | None:
        known = [t for t in times if t is not None]
        return max(known) if known and len(known) == len(times) else None

    all_shipped = total > 0 and len(shipped) == total
    all_delivered = total > 0 and len(delivered) == total
    ship_time = last([p.shipped_at for p in shipped]) if all_shipped else None
    delivered_time = last([p.delivered_at for p in delivered]) if all_delivered else None
    if delivered_time is not None and ship_time is not None and delivered_time < ship_time:
        delivered_time = ship_time
    rows: list[tuple[StepKind, datetime | None, bool]] = [
        (StepKind.PLACED, order.placed_at, True),
        (StepKind.SHIPPED, ship_time, all_shipped),
        (StepKind.DELIVERED, delivered_time, all_delivered),
    ]
    reached = max(i for i, (_, _, done) in enumerate(rows) if done)
    steps = []
    for i, (kind, time, _) in enumerate(rows):
        if all_delivered or i < reached:
            state = StepState.DONE
        elif i == reached:
            state = StepState.BLOCKED if cancelled else StepState.CURRENT
        else:
            state = StepState.UPCOMING
        description = {
            StepKind.PLACED: f"Ordered {market.moment(order.placed_at, today)}.",
            StepKind.SHIPPED: f"{len(shipped)} of {total} {parcel}s shipped." if total else "Nothing shipped yet.",
            StepKind.DELIVERED: f"{len(delivered)} of {total} {parcel}s delivered." if total else "",
        }[kind]
        shown = None if state is StepState.UPCOMING else time
        steps.append(TrackerStep(kind, market.word(LABELS[kind]), state, shown, description))
    return TrackerSummary(total, len(shipped), len(delivered), headline, tuple(steps))
