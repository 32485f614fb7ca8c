"""What the shopper can do now: every after-sales entrance, with its availability, deadline and items.

This is the one rule source: the tracker lists these actions, and the mutations accept a request
exactly when the matching action is available for the items and reasons asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from gateway.domain.items import LineItem
from gateway.domain.model import CancellationStatus, ProductTag, ReturnKind, ReturnStatus, Unit
from gateway.domain.packages import NOT_SHIPPED, PackageStatus, PackageView, promised_date
from gateway.domain.policy import (
    MarketPolicy,
    ReasonCategory,
    ReasonRule,
    ReturnReason,
    WindowStart,
    offered_reasons,
)
from gateway.domain.returns import FINISHED_STATUSES, ReturnGroup, ships_free

if TYPE_CHECKING:
    from gateway.domain.view import OrderView


class ActionKind(Enum):
    CANCEL_ORDER = "CANCEL_ORDER"
    CANCEL_ITEMS = "CANCEL_ITEMS"
    CHANGE_ADDRESS = "CHANGE_ADDRESS"
    REQUEST_RETURN = "REQUEST_RETURN"
    ADD_ITEMS_TO_RETURN = "ADD_ITEMS_TO_RETURN"
    CANCEL_RETURN = "CANCEL_RETURN"
    VIEW_RETURN = "VIEW_RETURN"
    REPORT_NOT_RECEIVED = "REPORT_NOT_RECEIVED"
    REPORT_LATE = "REPORT_LATE"
    CONTACT_SELLER = "CONTACT_SELLER"
    CONTACT_SUPPORT = "CONTACT_SUPPORT"
    # The seller's side of the same order.
    APPROVE_RETURN = "APPROVE_RETURN"
    REJECT_RETURN = "REJECT_RETURN"
    RESPOND_TO_CANCELLATION = "RESPOND_TO_CANCELLATION"
    UPDATE_ADDRESS = "UPDATE_ADDRESS"
    CONTACT_BUYER = "CONTACT_BUYER"


class Unavailable(Enum):
    ORDER_CANCELLED = "ORDER_CANCELLED"
    ALREADY_SHIPPED = "ALREADY_SHIPPED"
    CANCELLATION_PENDING = "CANCELLATION_PENDING"
    SINGLE_ITEM = "SINGLE_ITEM"
    NOT_DELIVERED_YET = "NOT_DELIVERED_YET"
    WINDOW_CLOSED = "WINDOW_CLOSED"
    NOT_RETURNABLE = "NOT_RETURNABLE"
    ALREADY_IN_RETURN = "ALREADY_IN_RETURN"
    NO_RETURN = "NO_RETURN"
    RETURN_ALREADY_SHIPPED = "RETURN_ALREADY_SHIPPED"
    NOTHING_TO_ADD = "NOTHING_TO_ADD"
    NOT_LATE = "NOT_LATE"
    ALREADY_DELIVERED = "ALREADY_DELIVERED"
    ALREADY_REPORTED = "ALREADY_REPORTED"
    NOT_PAID = "NOT_PAID"
    NOTHING_PENDING = "NOTHING_PENDING"
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"
    NOT_SHIPPED = "NOT_SHIPPED"


LABELS = {
    ActionKind.CANCEL_ORDER: "Cancel order", ActionKind.CANCEL_ITEMS: "Cancel items",
    ActionKind.CHANGE_ADDRESS: "Change address", ActionKind.REQUEST_RETURN: "Return or refund",
    ActionKind.ADD_ITEMS_TO_RETURN: "Add items to return", ActionKind.CANCEL_RETURN: "Cancel return",
    ActionKind.VIEW_RETURN: "View return", ActionKind.REPORT_NOT_RECEIVED: "Didn't receive it",
    ActionKind.REPORT_LATE: "Report late delivery", ActionKind.CONTACT_SELLER: "Contact seller",
    ActionKind.CONTACT_SUPPORT: "Contact support", ActionKind.APPROVE_RETURN: "Approve return",
    ActionKind.REJECT_RETURN: "Reject return", ActionKind.RESPOND_TO_CANCELLATION: "Respond to cancellation",
    ActionKind.UPDATE_ADDRESS: "Update address", ActionKind.CONTACT_BUYER: "Contact buyer",
}


@dataclass(frozen=True, slots=True)
class ReasonOption:
    rule: ReasonRule
    deadline: datetime
    basis: str
    resolutions: tuple[ReturnKind, ...]  # what may be asked for with it, here


def resolutions_for(rule: ReasonRule) -> tuple[ReturnKind, ...]:
    """What a shopper may ask for, given why: change of mind is a return; faults may be replaced;
    an item missing from the parcel has nothing to send back."""
    if rule.reason is ReturnReason.MISSING_ITEM:
        return (ReturnKind.REFUND_ONLY,)
    if rule.category is ReasonCategory.CHANGE_OF_MIND:
        return (ReturnKind.RETURN_AND_REFUND,)
    if rule.category is ReasonCategory.FAULTY:
        return (ReturnKind.RETURN_AND_REFUND, ReturnKind.REPLACEMENT)
    return (ReturnKind.RETURN_AND_REFUND, ReturnKind.REFUND_ONLY)


@dataclass(frozen=True, slots=True)
class ActionItem:
    item: LineItem
    unit_ids: tuple[str, ...]
    deadline: datetime | None
    reasons: tuple[ReasonOption, ...] = ()
    note: str | None = None  # everything the shopper should know about returning it
    exclusion: str | None = None  # why change-of-mind reasons are not offered for it, if they aren't

    @property
    def quantity(self) -> int:
        return len(self.unit_ids)


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    label: str
    available: bool
    message: str
    unavailable: Unavailable | None = None
    deadline: datetime | None = None
    items: tuple[ActionItem, ...] = ()
    package_ids: tuple[str, ...] = ()
    return_ids: tuple[str, ...] = ()
    cancellation_ids: tuple[str, ...] = ()
    requires_approval: bool = False
    alternative: ActionKind | None = None

    def item(self, item_id: str) -> ActionItem | None:
        return next((i for i in self.items if i.item.id == item_id), None)


def _ok(kind: ActionKind, message: str, **kw: object) -> Action:
    return Action(kind, LABELS[kind], True, message, **kw)  # type: ignore[arg-type]


def _no(kind: ActionKind, why: Unavailable, message: str, **kw: object) -> Action:
    return Action(kind, LABELS[kind], False, message, unavailable=why, **kw)  # type: ignore[arg-type]


# -- return eligibility ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class UnitEligibility:
    unit: Unit
    package: PackageView | None
    options: tuple[ReasonOption, ...]
    closed_at: datetime | None  # the latest window that applied and has passed
    excluded_change_of_mind: bool


def last_delivery(view: OrderView) -> datetime | None:
    """When the order's last live package arrived; None while one is still on its way."""
    live = [p.delivered_at for p in view.packages if p.status is not PackageStatus.CANCELLED]
    if not live or any(t is None for t in live):
        return None
    return max(t for t in live if t is not None)


def return_eligibility(view: OrderView) -> dict[str, UnitEligibility]:
    """For every delivered unit not already being returned: which reasons are open, until when."""
    market, now = view.market, view.snapshot.now
    live_packages = [p for p in view.packages if p.status is not PackageStatus.CANCELLED]
    last = last_delivery(view)
    in_return = view.units_in_live_returns
    rules = offered_reasons(market.market)
    result: dict[str, UnitEligibility] = {}
    for p in live_packages:
        if not p.delivered or p.delivered_at is None:
            continue
        for unit in p.units:
            if unit.id in in_return:
                continue
            options, closed = [], None
            excluded = False
            for rule in rules:
                deadline, basis = None, ""
                for window in market.return_windows:
                    if not window.covers(rule, unit.tags):
                        if rule.category is ReasonCategory.CHANGE_OF_MIND and rule.category in window.categories:
                            excluded = True
                        continue
                    anchor = p.delivered_at if window.start is WindowStart.EACH_PACKAGE else last
                    if anchor is None:
                        continue
                    end = anchor + timedelta(days=window.days)
                    if deadline is None or end > deadline:
                        deadline, basis = end, window.basis
                if deadline is None:
                    continue
                if now <= deadline:
                    options.append(ReasonOption(rule, deadline, basis, resolutions_for(rule)))
                elif closed is None or deadline > closed:
                    closed = deadline
            result[unit.id] = UnitEligibility(unit, p, tuple(options), closed, excluded)
    return result


_REASON_ORDER = {reason: n for n, reason in enumerate(ReturnReason)}
_EXCLUSION_NOTES = {
    ProductTag.FINAL_SALE: "Final-sale item: it can only be returned if it's faulty.",
    ProductTag.PERSONALISED: "Personalised item: it can only be returned if it's faulty.",
    ProductTag.PERISHABLE: "Perishable item: it can only be returned if it's faulty.",
    ProductTag.HYGIENE_SEALED: "Sealed for hygiene: it can only be returned if it's faulty.",
}


def _return_items(view: OrderView, eligible: dict[str, UnitEligibility]) -> tuple[ActionItem, ...]:
    items = []
    limit = view.market.free_return_limit
    for item in view.items:
        units = [eligible[u.id] for u in item.units if u.id in eligible and eligible[u.id].options]
        if not units:
            continue
        best: dict[ReturnReason, ReasonOption] = {}
        for e in units:
            for option in e.options:
                kept = best.get(option.rule.reason)
                if kept is None or option.deadline > kept.deadline:
                    best[option.rule.reason] = option
        reasons = tuple(sorted(best.values(), key=lambda o: _REASON_ORDER[o.rule.reason]))
        exclusion = None
        if any(e.excluded_change_of_mind for e in units):
            exclusion = next((n for tag, n in _EXCLUSION_NOTES.items() if tag in item.tags), None)
        shipping = None
        if limit is not None and not all(ships_free(view.market, view.snapshot.order, e.unit) for e in units):
            shipping = f"Return shipping may not be free for this item: free return labels are only for items " \
                       f"{limit.described}."
        note = " ".join(n for n in (exclusion, shipping) if n) or None
        items.append(ActionItem(item, tuple(e.unit.id for e in units), max(o.deadline for o in reasons),
                                reasons, note, exclusion))
    return tuple(items)


def _request_return(view: OrderView, eligible: dict[str, UnitEligibility], items: tuple[ActionItem, ...]) -> Action:
    kind = ActionKind.REQUEST_RETURN
    market, today = view.market, view.today
    if view.cancelled:
        return _no(kind, Unavailable.ORDER_CANCELLED, f"The order was {market.word('cancelled')}.")
    if items:
        deadline = max(i.deadline for i in items if i.deadline)
        packages = [eligible[u].package for i in items for u in i.unit_ids]
        return _ok(kind, "Choose the items, and a reason for each.", deadline=deadline, items=items,
                   package_ids=tuple(dict.fromkeys(p.id for p in packages if p is not None)))
    delivered = [p for p in view.packages if p.delivered]
    if not delivered:
        eta = view.latest_eta
        when = f" (expected {market.day(eta, today)})" if eta else ""
        return _no(kind, Unavailable.NOT_DELIVERED_YET, f"You can return items once they're delivered{when}.")
    if not eligible:
        return _no(kind, Unavailable.ALREADY_IN_RETURN, "Every delivered item is already in a return.",
                   return_ids=tuple(g.id for g in view.returns if g.live))
    closed = [e.closed_at for e in eligible.values() if e.closed_at]
    if closed:
        return _no(kind, Unavailable.WINDOW_CLOSED,
                   f"The return window closed on {market.day(market.local(max(closed)).date(), today)}.",
                   deadline=max(closed))
    return _no(kind, Unavailable.NOT_RETURNABLE, "These items can't be returned.")


def _open_groups(view: OrderView) -> list[ReturnGroup]:
    return [g for g in view.returns if g.open and ReturnReason.NOT_RECEIVED not in g.reasons
            and ReturnReason.LATE not in g.reasons]


def _joining(items: tuple[ActionItem, ...], kinds: set[ReturnKind]) -> tuple[ActionItem, ...]:
    """The items and reasons that can join a return resolved as one of ``kinds``: an added item takes its
    return's resolution, so a reason that cannot be resolved that way (a missing item in a parcel going
    back) is not offered, and each reason keeps only the resolutions it can join."""
    joining = []
    for item in items:
        reasons = tuple(replace(o, resolutions=tuple(k for k in o.resolutions if k in kinds))
                        for o in item.reasons if kinds.intersection(o.resolutions))
        if reasons:
            joining.append(replace(item, reasons=reasons, deadline=max(o.deadline for o in reasons)))
    return tuple(joining)


def _add_items(view: OrderView, items: tuple[ActionItem, ...]) -> Action:
    kind = ActionKind.ADD_ITEMS_TO_RETURN
    if not view.returns:
        return _no(kind, Unavailable.NO_RETURN, "There is no return to add items to.")
    groups = _open_groups(view)
    if not groups:
        return _no(kind, Unavailable.RETURN_ALREADY_SHIPPED,
                   "Items can only be added before the return is sent back.",
                   return_ids=tuple(g.id for g in view.returns))
    open_ids = tuple(g.id for g in groups)
    joining = _joining(items, {g.kind for g in groups})
    if not joining:
        return _no(kind, Unavailable.NOTHING_TO_ADD, "No other items can be returned.", return_ids=open_ids)
    return _ok(kind, "Add more items to the same parcel, each with its own reason.",
               deadline=max(i.deadline for i in joining if i.deadline), items=joining, return_ids=open_ids)


def _cancel_return(view: OrderView) -> Action:
    kind = ActionKind.CANCEL_RETURN
    if not view.returns:
        return _no(kind, Unavailable.NO_RETURN, "There is no return to cancel.")
    open_ids = [g.id for g in view.returns if g.open]
    if not open_ids:
        return _no(kind, Unavailable.RETURN_ALREADY_SHIPPED,
                   "A return can only be withdrawn before it is sent back.",
                   return_ids=tuple(g.id for g in view.returns))
    return _ok(kind, "Withdraw the request; nothing will be refunded.", return_ids=tuple(open_ids))


def _view_return(view: OrderView) -> Action:
    if not view.returns:
        return _no(ActionKind.VIEW_RETURN, Unavailable.NO_RETURN, "There is no return for this order.")
    return _ok(ActionKind.VIEW_RETURN, "See the return's status and next steps.",
               return_ids=tuple(g.id for g in view.returns))


# -- before shipping ---------------------------------------------------------------------------

def _pending_cancellation_units(view: OrderView) -> set[str]:
    after_sales = view.snapshot.after_sales
    if after_sales is None:
        return set()
    return {u for c in after_sales.cancellations if c.status is CancellationStatus.REQUESTED for u in c.unit_ids}


def _failed_authentication_units(view: OrderView) -> set[str]:
    return {u.id for p in view.packages if p.failed_authentication for u in p.units}


def _waiting_to_ship(view: OrderView) -> set[str]:
    shipped = {u.id for p in view.packages if p.shipped for u in p.units}
    return {u.id for u in view.live_units if u.id not in shipped}


def unshipped_units(view: OrderView) -> list[Unit]:
    """Live units not yet handed to a carrier (and not already being cancelled)."""
    waiting = _waiting_to_ship(view)
    taken = _pending_cancellation_units(view) | _failed_authentication_units(view)
    return [u for u in view.live_units if u.id in waiting and u.id not in taken]


def _being_cancelled(view: OrderView, unit_ids: set[str]) -> Unavailable | None:
    """Whether every one of ``unit_ids`` is already on its way out of the order: its item failed
    authentication, which the platform answers by cancelling and refunding it (DOMAIN 1.6, TTS-COA), or
    the buyer's cancellation request is waiting for the seller (DOMAIN 1.4)."""
    failed = _failed_authentication_units(view)
    if unit_ids <= failed:
        return Unavailable.AUTHENTICATION_FAILED
    if unit_ids <= failed | _pending_cancellation_units(view):
        return Unavailable.CANCELLATION_PENDING
    return None


def _failed_authentication(market: MarketPolicy) -> str:
    return (f"The item failed authentication, so it won't ship: the order will be {market.word('cancelled')} "
            "and fully refunded automatically.")


def _cancel_blocked(view: OrderView, kind: ActionKind, unit_ids: set[str]) -> Action | None:
    why = _being_cancelled(view, unit_ids)
    if why is Unavailable.AUTHENTICATION_FAILED:
        return _no(kind, why, _failed_authentication(view.market))
    if why is Unavailable.CANCELLATION_PENDING:
        return _no(kind, why, "Your cancellation request is with the seller.")
    return None


def _cancellation_terms(view: OrderView) -> tuple[bool, datetime | None, str]:
    """(needs the seller's approval, deadline, message) for a buyer cancelling now."""
    order, market = view.snapshot.order, view.market
    if order.paid_at is None:
        return False, None, "Cancel now; nothing has been charged."
    if view.in_free_cancel_window:
        until = order.paid_at + market.free_cancel
        return False, until, f"Free cancellation until {market.moment(until, view.today)}."
    # After the free hour the seller decides (DOMAIN.md 1.4). No response time is promised: a shop may
    # auto-approve within 1, 3 or 5 hours, which the order service does not say, and the 24-hour
    # auto-approval is documented for SEA only. A request can be made until the order ships, which is
    # what ship_by is (once that has passed, until the label is actually created: no fixed deadline).
    ship_by = order.ship_by
    if ship_by is not None and ship_by > view.snapshot.now:
        due = market.moment(ship_by, view.today)
        return True, ship_by, f"Ask the seller to cancel before it ships (due by {due}); you're refunded once " \
                              "they accept."
    return True, None, "Ask the seller to cancel before it ships; you're refunded once they accept."


def _cancel_order(view: OrderView) -> Action:
    kind, market = ActionKind.CANCEL_ORDER, view.market
    if view.cancelled:
        return _no(kind, Unavailable.ORDER_CANCELLED, f"The order is already {market.word('cancelled')}.")
    blocked = _cancel_blocked(view, kind, {u.id for u in view.live_units})
    if blocked is not None:
        return blocked
    if any(p.shipped for p in view.packages):
        some_left = bool(unshipped_units(view))
        return _no(kind, Unavailable.ALREADY_SHIPPED,
                   ("Part of the order has shipped: cancel the remaining items instead." if some_left else
                    "It has already shipped: you can return it once it's delivered."),
                   alternative=ActionKind.CANCEL_ITEMS if some_left else ActionKind.REQUEST_RETURN)
    approval, deadline, message = _cancellation_terms(view)
    units = unshipped_units(view)
    return _ok(kind, message, deadline=deadline, requires_approval=approval,
               items=_group(view, [u.id for u in units], deadline))


def _group(view: OrderView, unit_ids: list[str], deadline: datetime | None) -> tuple[ActionItem, ...]:
    wanted = set(unit_ids)
    return tuple(ActionItem(item, tuple(u.id for u in item.units if u.id in wanted), deadline)
                 for item in view.items if any(u.id in wanted for u in item.units))


def _cancel_items(view: OrderView) -> Action:
    kind, market = ActionKind.CANCEL_ITEMS, view.market
    if view.cancelled:
        return _no(kind, Unavailable.ORDER_CANCELLED, f"The order is already {market.word('cancelled')}.")
    units = unshipped_units(view)
    if not units:
        waiting = _waiting_to_ship(view)
        blocked = _cancel_blocked(view, kind, waiting) if waiting else None
        if blocked is not None:
            return blocked
        return _no(kind, Unavailable.ALREADY_SHIPPED, "Everything has shipped: return items once delivered.",
                   alternative=ActionKind.REQUEST_RETURN)
    if len(units) < 2:
        return _no(kind, Unavailable.SINGLE_ITEM, "Only one item is left to ship: cancel the order instead.",
                   alternative=ActionKind.CANCEL_ORDER if not any(p.shipped for p in view.packages) else None)
    approval, deadline, message = _cancellation_terms(view)
    return _ok(kind, message, deadline=deadline, requires_approval=approval,
               items=_group(view, [u.id for u in units], deadline))


def _change_address(view: OrderView, kind: ActionKind = ActionKind.CHANGE_ADDRESS,
                    message: str = "Update where it's delivered before it ships.") -> Action:
    market = view.market
    if view.cancelled:
        return _no(kind, Unavailable.ORDER_CANCELLED, f"The order was {market.word('cancelled')}.")
    # An order on its way out has nowhere to go: the platform cancels an item that failed authentication,
    # and while the buyer's cancellation request is pending the seller answers that first (a seller
    # declining it can then change the address: "unable to change address" is one of their reasons).
    why = _being_cancelled(view, {u.id for u in view.live_units})
    if why is Unavailable.AUTHENTICATION_FAILED:
        return _no(kind, why, _failed_authentication(market))
    if why is Unavailable.CANCELLATION_PENDING:
        if kind is ActionKind.UPDATE_ADDRESS:
            return _no(kind, why, "The buyer asked to cancel: answer that request first.",
                       alternative=ActionKind.RESPOND_TO_CANCELLATION)
        return _no(kind, why, "Your cancellation request is with the seller: the address can't change while "
                   "they decide.", alternative=ActionKind.CONTACT_SELLER)
    shipped = [p for p in view.packages if p.shipped]
    if shipped:
        return _no(kind, Unavailable.ALREADY_SHIPPED,
                   "The label has been created, so the address can no longer change. Contact the seller if "
                   "there's a problem.", alternative=ActionKind.CONTACT_SELLER)
    ship_by = view.snapshot.order.ship_by
    return _ok(kind, message, deadline=ship_by)


# -- delivery problems -------------------------------------------------------------------------

def _report_not_received(view: OrderView) -> Action:
    kind, market, now = ActionKind.REPORT_NOT_RECEIVED, view.market, view.snapshot.now
    delivered = [p for p in view.packages if p.delivered and p.delivered_at]
    if not delivered:
        return _no(kind, Unavailable.NOT_DELIVERED_YET, "Available once a package is marked delivered.")
    reported = view.units_in_returns_for({ReturnReason.NOT_RECEIVED})
    in_return = view.units_in_live_returns
    last = last_delivery(view)
    until = {p.id: market.not_received_until(p.delivered_at, last) for p in delivered if p.delivered_at}
    open_packages = [p for p in delivered if now <= until[p.id] and any(u.id not in in_return for u in p.units)]
    if open_packages:
        units = [u.id for p in open_packages for u in p.units if u.id not in in_return]
        deadline = max(until[p.id] for p in open_packages)
        return _ok(kind, "Tell us if a package marked delivered never reached you.", deadline=deadline,
                   package_ids=tuple(p.id for p in open_packages), items=_group(view, units, deadline))
    if any(u.id in reported for p in delivered for u in p.units):
        return _no(kind, Unavailable.ALREADY_REPORTED, "You already reported it; we're looking into it.",
                   return_ids=tuple(g.id for g in view.returns if ReturnReason.NOT_RECEIVED in g.reasons))
    closed = max(until.values())
    if now > closed:
        return _no(kind, Unavailable.WINDOW_CLOSED,
                   f"Reports had to be made by {market.day(market.local(closed).date(), view.today)}.",
                   deadline=closed)
    return _no(kind, Unavailable.ALREADY_IN_RETURN, "These items are already in a return.")


def _report_late(view: OrderView) -> Action:
    kind, market = ActionKind.REPORT_LATE, view.market
    if view.cancelled:
        return _no(kind, Unavailable.ORDER_CANCELLED, f"The order was {market.word('cancelled')}.")
    # The late reason belongs to a parcel that has shipped (DOMAIN 1.5: AWAITING_COLLECTION or IN_TRANSIT,
    # which the after-sales service enforces); before that the seller owes a shipping date, not a refund.
    waiting = [p for p in view.packages if p.shipped and not p.delivered and not p.will_not_arrive]
    if not waiting:
        if any(p.status in NOT_SHIPPED and not p.failed_authentication for p in view.packages):
            return _no(kind, Unavailable.NOT_SHIPPED,
                       "It hasn't shipped yet: a late delivery can be reported once it's on its way.")
        if any(p.failed_authentication for p in view.packages):
            return _no(kind, Unavailable.AUTHENTICATION_FAILED, _failed_authentication(market))
        return _no(kind, Unavailable.ALREADY_DELIVERED, "Nothing is still on its way.")
    promised = promised_date(view.snapshot, market)
    if promised is None or view.today <= promised:
        when = f" It's due by {market.day(promised, view.today)}." if promised else ""
        return _no(kind, Unavailable.NOT_LATE, f"It isn't late.{when}")
    in_return = view.units_in_live_returns
    late = [p for p in waiting if any(u.id not in in_return for u in p.units)]
    if not late:
        return _no(kind, Unavailable.ALREADY_REPORTED, "You already reported it late.",
                   return_ids=tuple(g.id for g in view.returns if ReturnReason.LATE in g.reasons))
    units = [u.id for p in late for u in p.units if u.id not in in_return]
    return _ok(kind, f"It was due by {market.day(promised, view.today)}: ask for a refund for the late items.",
               package_ids=tuple(p.id for p in late), items=_group(view, units, None))


def order_actions(view: OrderView) -> tuple[Action, ...]:
    eligible = view.return_eligibility
    items = _return_items(view, eligible)
    return (
        _cancel_order(view),
        _cancel_items(view),
        _change_address(view),
        _request_return(view, eligible, items),
        _add_items(view, items),
        _cancel_return(view),
        _view_return(view),
        _report_not_received(view),
        _report_late(view),
        _ok(ActionKind.CONTACT_SELLER, f"Message {view.snapshot.order.shop_name}."),
        _ok(ActionKind.CONTACT_SUPPORT, "Talk to customer support."),
    )


def seller_actions(view: OrderView) -> tuple[Action, ...]:
    """What the seller can do on this order: answer requests, fix the address before it ships."""
    waiting = [g for g in view.returns if g.status is ReturnStatus.REQUESTED]
    pending = tuple(g.id for g in waiting)
    shipped_back = [g for g in waiting if g.kind is not ReturnKind.REFUND_ONLY]
    if not shipped_back:
        approve = "Approve: the buyer is refunded and keeps the items."
    elif all(g.free_shipping for g in shipped_back):
        approve = "Approve: the buyer gets a free return label."
    else:
        approve = "Approve: the buyer gets a return label (not free for every item)."
    returns = [
        _ok(kind, message, return_ids=pending) if pending else
        _no(kind, Unavailable.NOTHING_PENDING, "No return is waiting for your answer.")
        for kind, message in ((ActionKind.APPROVE_RETURN, approve),
                              (ActionKind.REJECT_RETURN, "Reject, with a reason the buyer will see."))
    ]
    after_sales = view.snapshot.after_sales
    asked = tuple(c.id for c in after_sales.cancellations if c.status is CancellationStatus.REQUESTED) \
        if after_sales else ()
    respond = (_ok(ActionKind.RESPOND_TO_CANCELLATION, "Accept or decline the buyer's cancellation request.",
                   cancellation_ids=asked) if asked else
               _no(ActionKind.RESPOND_TO_CANCELLATION, Unavailable.NOTHING_PENDING,
                   "No cancellation request is waiting for your answer."))
    # The seller changes the address on the buyer's request (issue 4), but no upstream records such a
    # request: buyers ask by message, which the gateway never sees, and the order service's
    # has_updated_recipient_address flag only says that an address changed. So UPDATE_ADDRESS follows
    # the same shipping rule as the buyer's CHANGE_ADDRESS, and the write is tagged requested_by=SELLER
    # upstream; the gateway does not invent a request record it cannot check.
    update = _change_address(view, ActionKind.UPDATE_ADDRESS,
                             "Update the address when the buyer asks, before it ships.")
    return (*returns, respond, update, _ok(ActionKind.CONTACT_BUYER, "Message the buyer."))


def after_sales_closed(view: OrderView) -> bool:
    """Nothing more can happen: every window has closed and no request is still open."""
    if any(g.status not in FINISHED_STATUSES for g in view.returns):
        return False
    now, last = view.snapshot.now, last_delivery(view)
    if any(p.delivered_at and now <= view.market.not_received_until(p.delivered_at, last)
           for p in view.packages if p.delivered):
        return False
    return not any(e.options for e in view.return_eligibility.values())
