"""Abnormal situations, explained before the shopper has to ask: cause, what happens next, what to do.

One rule per kind, each reading one package (and the order's promise) at one ``now``. Delay alerts
name their cause (carrier, weather, holiday volume, customs); a bare LATE_DELIVERY is raised only
when the promised date has passed and no more specific cause is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from gateway.domain.model import CancellationStatus, OrderSnapshot, ReturnStatus, Signature
from gateway.domain.packages import (
    NOT_SHIPPED,
    UNDELIVERABLE,
    PackageStatus,
    PackageView,
    authentication_overdue,
    promised_date,
    quiet_since,
)
from gateway.domain.policy import REASON_BY_UPSTREAM_CODE, MarketPolicy, ReturnReason


class AlertKind(Enum):
    LATE_DELIVERY = "LATE_DELIVERY"
    CARRIER_DELAY = "CARRIER_DELAY"
    WEATHER_DELAY = "WEATHER_DELAY"
    HOLIDAY_VOLUME = "HOLIDAY_VOLUME"
    CUSTOMS_HOLD = "CUSTOMS_HOLD"
    DUTIES_DUE = "DUTIES_DUE"
    ADDRESS_ISSUE = "ADDRESS_ISSUE"
    FAILED_ATTEMPT = "FAILED_ATTEMPT"
    RETURNING_TO_SENDER = "RETURNING_TO_SENDER"
    RETURNED_TO_SENDER = "RETURNED_TO_SENDER"
    LOST = "LOST"
    DAMAGED = "DAMAGED"
    DELIVERED_NOT_RECEIVED = "DELIVERED_NOT_RECEIVED"
    AUTHENTICATION_DELAY = "AUTHENTICATION_DELAY"
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"
    TRACKING_STALLED = "TRACKING_STALLED"


class Severity(Enum):
    INFO = "INFO"
    WARNING = "WARNING"
    ACTION_REQUIRED = "ACTION_REQUIRED"


class Suggestion(Enum):
    """What the page should offer next to the alert (an after-sales entrance, or the carrier's page)."""

    REPORT_LATE = "REPORT_LATE"
    REPORT_NOT_RECEIVED = "REPORT_NOT_RECEIVED"
    CONTACT_SELLER = "CONTACT_SELLER"
    CONTACT_SUPPORT = "CONTACT_SUPPORT"
    TRACK_WITH_CARRIER = "TRACK_WITH_CARRIER"
    VIEW_RETURN = "VIEW_RETURN"
    WAIT = "WAIT"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    severity: Severity
    package_id: str | None
    title: str
    cause: str
    next_step: str
    suggestion: Suggestion
    revised_date: date | None = None
    since: datetime | None = None
    # The parcel is stuck or its journey has ended: its tracker shows the current step as BLOCKED.
    blocking: bool = False


# Also the order's status label, and what its tracker's authentication step says while it lasts.
AUTHENTICATION_DELAY_TITLE = "Authentication is taking longer than expected"
_DELAY_KINDS = frozenset({AlertKind.CARRIER_DELAY, AlertKind.WEATHER_DELAY, AlertKind.HOLIDAY_VOLUME,
                          AlertKind.CUSTOMS_HOLD, AlertKind.FAILED_ATTEMPT, AlertKind.ADDRESS_ISSUE,
                          AlertKind.DUTIES_DUE})
_SEVERITY_ORDER = {Severity.ACTION_REQUIRED: 0, Severity.WARNING: 1, Severity.INFO: 2}
_CLOSED_RETURN = (ReturnStatus.CANCELLED, ReturnStatus.REJECTED)
_REFUND_APPROVED = (ReturnStatus.REFUND_PENDING, ReturnStatus.REFUNDED)


def package_alerts(snapshot: OrderSnapshot, market: MarketPolicy, p: PackageView) -> list[Alert]:
    alerts: list[Alert] = []
    tracking = p.tracking
    last = tracking.events[-1] if tracking and tracking.events else None
    today = market.local(snapshot.now).date()
    carrier = p.record.carrier_name or "The carrier"
    parcel = market.word("parcel")
    revised = p.eta.latest if p.eta and p.eta.revised else None

    def add(kind: AlertKind, severity: Severity, title: str, cause: str, next_step: str, suggestion: Suggestion,
            *, revised_date: date | None = None, since: datetime | None = None, blocking: bool = False) -> None:
        alerts.append(Alert(kind, severity, p.id, title, cause, next_step, suggestion, revised_date, since, blocking))

    when = market.day(market.local(last.time).date(), today) if last else ""
    refunded = _refunded(snapshot, market, p)
    if p.status is PackageStatus.LOST:
        add(AlertKind.LOST, Severity.WARNING, f"Your {parcel} was lost",
            f"{carrier} reported it lost on {when}.",
            refunded or "You don't need to do anything: you'll get a full refund or a replacement. Contact "
            "support to choose a replacement instead.", Suggestion.CONTACT_SUPPORT,
            since=last.time if last else None, blocking=True)
    elif p.status is PackageStatus.DAMAGED:
        add(AlertKind.DAMAGED, Severity.WARNING, f"Your {parcel} was damaged in transit",
            f"{carrier} reported it damaged on {when}.",
            refunded or "It won't be delivered. You'll get a full refund or a replacement.",
            Suggestion.CONTACT_SUPPORT, since=last.time if last else None, blocking=True)
    elif p.status is PackageStatus.RETURNED_TO_SENDER:
        add(AlertKind.RETURNED_TO_SENDER, Severity.WARNING, "Returned to the seller",
            f"{carrier} couldn't deliver it and returned it to the seller on {when}.",
            (refunded + " Contact the seller if you still want them.") if refunded else
            f"Your refund is issued once the seller confirms the {parcel} is back. Contact the seller if you "
            "still want the items.", Suggestion.CONTACT_SELLER, since=last.time if last else None, blocking=True)
    elif p.status is PackageStatus.RETURNING_TO_SENDER:
        add(AlertKind.RETURNING_TO_SENDER, Severity.WARNING, "On its way back to the seller",
            f"{carrier} couldn't deliver it ({last.message.lower() if last else 'undeliverable'}).",
            f"Once the {parcel} is back with the seller you'll be refunded.", Suggestion.CONTACT_SELLER,
            since=last.time if last else None, blocking=True)
    elif p.status is PackageStatus.DELIVERY_ATTEMPTED and last is not None:
        needs_signature = p.signature is not Signature.NONE
        attempts = tracking.failed_attempts if tracking else 1
        add(AlertKind.FAILED_ATTEMPT, Severity.ACTION_REQUIRED if needs_signature else Severity.WARNING,
            "Delivery attempted",
            f"{carrier} tried to deliver on {when}: {last.message.lower()}"
            + (f" ({attempts} attempts so far)." if attempts > 1 else "."),
            (f"{carrier} will try again" + (f" on {market.day(revised, today)}" if revised else "") + ". "
             + ("Someone must be there to sign for it." if needs_signature else "")).strip(),
            Suggestion.TRACK_WITH_CARRIER, revised_date=revised, since=last.time, blocking=True)

    if last is not None and p.status not in (PackageStatus.DELIVERED,) and p.status in (
            PackageStatus.IN_TRANSIT, PackageStatus.OUT_FOR_DELIVERY, PackageStatus.LABEL_CREATED):
        sub = last.subtag
        customs_waiting = (sub == "InTransit_006" and snapshot.now - last.time > market.customs_hold_after)
        if sub in ("Exception_004", "Exception_018") or customs_waiting:
            add(AlertKind.CUSTOMS_HOLD, Severity.WARNING, "Held at customs",
                f"Your {parcel} is waiting for customs clearance since {when}.",
                "Customs checks usually take 2-5 days; it will continue automatically once cleared."
                + (f" New estimate: {market.day(revised, today)}." if revised else ""),
                Suggestion.WAIT, revised_date=revised, since=last.time, blocking=True)
        elif sub == "Exception_006":
            add(AlertKind.DUTIES_DUE, Severity.ACTION_REQUIRED, "Import charges to pay",
                f"{carrier} is holding the {parcel} until import duties are paid.",
                f"Pay the charges on {carrier}'s page to release it.", Suggestion.TRACK_WITH_CARRIER,
                since=last.time, blocking=True)
        elif sub in ("Exception_002", "Exception_007"):
            add(AlertKind.ADDRESS_ISSUE, Severity.ACTION_REQUIRED, "Problem with the address",
                f"{carrier} couldn't deliver to the address on the order.",
                "Contact the seller to confirm the address so the carrier can try again.",
                Suggestion.CONTACT_SELLER, since=last.time, blocking=True)
        elif sub == "Exception_017":
            add(AlertKind.WEATHER_DELAY, Severity.WARNING, "Delayed by weather",
                f"Extreme weather is slowing {carrier} down.",
                "It's still on its way" + (f"; new estimate {market.day(revised, today)}." if revised else "."),
                Suggestion.WAIT, revised_date=revised, since=last.time)

    delayed_here = any(a.kind in _DELAY_KINDS for a in alerts)
    ended = p.delivered or p.will_not_arrive
    extension = snapshot.order.sla_extension
    if not ended and not delayed_here and extension is not None:
        add(AlertKind.HOLIDAY_VOLUME, Severity.INFO, "Busy holiday period",
            "Holiday volumes are slowing deliveries, so the delivery date was extended.",
            f"It should arrive by {market.day(revised or market.local(extension.extended).date(), today)}.",
            Suggestion.WAIT, revised_date=revised or market.local(extension.extended).date())
        delayed_here = True
    carrier_delay = last is not None and last.subtag in ("Exception_005", "Exception_016")
    if not ended and not delayed_here and (carrier_delay or revised is not None):
        add(AlertKind.CARRIER_DELAY, Severity.WARNING, "Delayed by the carrier",
            f"{carrier} reported a delay" + (f" ({last.message.lower()})" if carrier_delay and last else "")
            + (f" and moved the estimate from {market.day(p.eta.original, today)}"
               if p.eta and p.eta.original else "") + ".",
            "It's still on its way" + (f"; new estimate {market.day(revised, today)}." if revised else "."),
            Suggestion.WAIT, revised_date=revised, since=last.time if carrier_delay and last else None)
        delayed_here = True

    promised = promised_date(snapshot, market)
    if not ended and promised is not None and today > promised and not delayed_here:
        reported = _reported(snapshot, p)
        # Once every unit of the parcel is in a request, REPORT_LATE is no longer offered (the action says
        # ALREADY_REPORTED): point at the request instead of an action the page cannot show. Nor is it
        # before the parcel ships (the late reason is a shipped one, DOMAIN 1.5): the seller owes a date.
        if p.status in NOT_SHIPPED:
            what_next, suggestion = "", Suggestion.CONTACT_SELLER
        elif reported is None:
            what_next, suggestion = " You can report it late and ask for a refund.", Suggestion.REPORT_LATE
        elif reported:
            what_next, suggestion = " You reported it late, and your refund was approved.", Suggestion.VIEW_RETURN
        else:
            what_next = " You reported it late; the seller is reviewing your refund request."
            suggestion = Suggestion.VIEW_RETURN
        later = p.eta is not None and p.eta.latest > promised
        on_its_way = ("It's still on its way" + (f"; latest estimate {market.day(p.eta.latest, today)}."
                                                 if p.eta and later else ".")
                      if p.status not in NOT_SHIPPED else "It hasn't shipped yet: ask the seller when it will.")
        add(AlertKind.LATE_DELIVERY, Severity.WARNING, "Running late",
            f"It was due by {market.day(promised, today)}.", on_its_way + what_next,
            suggestion, revised_date=p.eta.latest if p.eta and later else None)

    quiet = quiet_since(snapshot, market, p.status, tracking)
    if quiet is not None and not alerts:
        add(AlertKind.TRACKING_STALLED, Severity.WARNING, "No tracking updates",
            f"{carrier} hasn't scanned the {parcel} since {when}.",
            "This usually resolves itself; contact support if there's no update in 2 days.",
            Suggestion.CONTACT_SUPPORT, since=quiet)

    auth = p.record.authentication
    overdue = authentication_overdue(p.record, p.status, snapshot.now)
    if auth is not None and p.failed_authentication:
        add(AlertKind.AUTHENTICATION_FAILED, Severity.WARNING, "Item failed authentication",
            f"{auth.provider} could not confirm the item is authentic.",
            f"The order will be {market.word('cancelled')} and fully refunded.", Suggestion.CONTACT_SUPPORT,
            blocking=True)
    elif overdue is not None:
        add(AlertKind.AUTHENTICATION_DELAY, Severity.WARNING, AUTHENTICATION_DELAY_TITLE,
            "The seller's certificate of authenticity wasn't approved in time.",
            f"If it isn't approved soon the order is {market.word('cancelled')} and refunded automatically.",
            Suggestion.WAIT, since=overdue)

    if p.status is PackageStatus.DELIVERED and snapshot.after_sales is not None:
        unit_ids = {u.id for u in p.units}
        for ret in snapshot.after_sales.returns:
            if REASON_BY_UPSTREAM_CODE.get(ret.reason_code) is not ReturnReason.NOT_RECEIVED:
                continue
            if not unit_ids & set(ret.unit_ids) or ret.status in _CLOSED_RETURN:
                continue
            resolved = ret.status in _REFUND_APPROVED
            add(AlertKind.DELIVERED_NOT_RECEIVED, Severity.INFO,
                "Reported as not received" if not resolved else "Refunded: not received",
                f"{carrier} marked it delivered on "
                f"{market.day(market.local(p.delivered_at).date(), today) if p.delivered_at else 'an earlier day'},"
                f" and you told us it never arrived.",
                ("Your refund has been approved." if resolved else
                 "The seller is looking into it"
                 + (f" and must respond by {market.moment(ret.seller_deadline, today)}"
                    if ret.seller_deadline else "")
                 + "; if they don't, the refund is approved automatically."),
                Suggestion.VIEW_RETURN, since=ret.created_at)
    return alerts


def _refunded(snapshot: OrderSnapshot, market: MarketPolicy, p: PackageView) -> str | None:
    """Once the platform has cancelled an undeliverable parcel's items (DOMAIN 1.4), the refund it made."""
    if p.units or p.status not in UNDELIVERABLE:
        return None
    unit_ids = set(p.record.unit_ids)
    done = [c.refund for c in snapshot.after_sales.cancellations
            if c.status is CancellationStatus.CANCELLED and unit_ids & set(c.unit_ids)] if snapshot.after_sales else []
    amount = market.money(sum(done[1:], done[0])) if done else "the full amount"
    return f"Its items were {market.word('cancelled')} and {amount} was refunded to your original payment method."


def _reported(snapshot: OrderSnapshot, p: PackageView) -> bool | None:
    """None while some unit of the parcel is in no live request (so it can still be reported); else
    whether the requests holding its units have had their refund approved. The same test as the
    REPORT_LATE action's, which offers a parcel only while one of its units is in no live return."""
    after_sales = snapshot.after_sales
    if after_sales is None:
        return None
    live = [r for r in after_sales.returns if r.status not in _CLOSED_RETURN]
    held = {u for r in live for u in r.unit_ids}
    if any(u.id not in held for u in p.units):
        return None
    unit_ids = {u.id for u in p.units}
    return all(r.status in _REFUND_APPROVED for r in live if unit_ids & set(r.unit_ids))


def order_alerts(snapshot: OrderSnapshot, market: MarketPolicy, packages: tuple[PackageView, ...]) -> list[Alert]:
    found = [a for p in packages for a in package_alerts(snapshot, market, p)]
    numbers = {p.id: p.number for p in packages}
    return sorted(found, key=lambda a: (_SEVERITY_ORDER[a.severity], numbers.get(a.package_id or "", 0)))
