"""Deciding a shopper's (or seller's) request against the same rules that list the actions. Pure.

Each ``plan_*`` takes the assessed order and the request, and returns either the upstream write to
make or the user errors explaining why not, never both. A request is accepted exactly when the
matching :class:`~gateway.domain.actions.Action` is available for the items, reasons and package
asked for; the errors reuse the action's own explanation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

from gateway.domain.actions import Action, ActionItem, ActionKind, ReasonOption
from gateway.domain.model import Address, ReturnKind
from gateway.domain.policy import REASONS, ReasonRule, ReturnReason
from gateway.domain.view import OrderView

MAX_NOTE = 500


class UserErrorCode(Enum):
    NOT_AVAILABLE = "NOT_AVAILABLE"
    EMPTY_REQUEST = "EMPTY_REQUEST"
    ITEM_NOT_IN_ORDER = "ITEM_NOT_IN_ORDER"
    ITEM_NOT_ELIGIBLE = "ITEM_NOT_ELIGIBLE"
    DUPLICATE_ITEM = "DUPLICATE_ITEM"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    REASON_NOT_OFFERED = "REASON_NOT_OFFERED"
    REASON_NOT_ALLOWED = "REASON_NOT_ALLOWED"
    RESOLUTION_NOT_ALLOWED = "RESOLUTION_NOT_ALLOWED"
    RETURN_NOT_FOUND = "RETURN_NOT_FOUND"
    PACKAGE_NOT_FOUND = "PACKAGE_NOT_FOUND"
    PACKAGE_NOT_ELIGIBLE = "PACKAGE_NOT_ELIGIBLE"
    CANCELLATION_NOT_FOUND = "CANCELLATION_NOT_FOUND"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    NOTE_TOO_LONG = "NOTE_TOO_LONG"
    DUPLICATE_REQUEST = "DUPLICATE_REQUEST"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    REQUEST_IN_PROGRESS = "REQUEST_IN_PROGRESS"
    REJECTION_REASON_REQUIRED = "REJECTION_REASON_REQUIRED"


@dataclass(frozen=True, slots=True)
class UserError:
    field: tuple[str, ...]
    code: UserErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class RequestedItem:
    line_item_id: str
    quantity: int
    reason: ReturnReason | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnPart:
    """One upstream return: one reason for all its units (the after-sales service's granularity)."""

    reason: ReasonRule
    unit_ids: tuple[str, ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class ReturnPlan:
    kind: ReturnKind
    parts: tuple[ReturnPart, ...]
    combined_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelPlan:
    unit_ids: tuple[str, ...]  # empty: the whole order
    requires_approval: bool


@dataclass
class Problems:
    errors: list[UserError] = field(default_factory=list)

    def add(self, path: tuple[str, ...], code: UserErrorCode, message: str) -> None:
        self.errors.append(UserError(path, code, message))

    def __bool__(self) -> bool:
        return bool(self.errors)


def _unavailable(action: Action, path: tuple[str, ...] = ()) -> list[UserError]:
    return [UserError(path, UserErrorCode.NOT_AVAILABLE, action.message)]


def _check_note(note: str | None, path: tuple[str, ...], problems: Problems) -> None:
    if note is not None and len(note) > MAX_NOTE:
        problems.add(path, UserErrorCode.NOTE_TOO_LONG, f"Notes are limited to {MAX_NOTE} characters.")


def _choose_units(view: OrderView, action: Action, items: list[RequestedItem], problems: Problems,
                  *, with_reasons: bool) -> list[tuple[RequestedItem, tuple[str, ...], ReasonOption | None]]:
    """Match each requested item to the action's items: the same rules, item by item."""
    market = view.market.market
    known = {item.id for item in view.items}
    counts = Counter(i.line_item_id for i in items)
    chosen = []
    for n, req in enumerate(items):
        path = ("items", str(n))
        if counts[req.line_item_id] > 1:
            problems.add((*path, "lineItemId"), UserErrorCode.DUPLICATE_ITEM,
                         "Each item may appear once; give it the total quantity.")
            continue
        if req.line_item_id not in known:
            problems.add((*path, "lineItemId"), UserErrorCode.ITEM_NOT_IN_ORDER, "This item is not in the order.")
            continue
        eligible = action.item(req.line_item_id)
        if eligible is None:
            problems.add((*path, "lineItemId"), UserErrorCode.ITEM_NOT_ELIGIBLE,
                         _ineligible_message(view, action.kind, req.line_item_id))
            continue
        if not 1 <= req.quantity <= eligible.quantity:
            problems.add((*path, "quantity"), UserErrorCode.INVALID_QUANTITY,
                         f"Choose between 1 and {eligible.quantity}.")
            continue
        _check_note(req.note, (*path, "note"), problems)
        option = None
        if with_reasons:
            if req.reason is None or req.reason not in REASONS or market not in REASONS[req.reason].markets \
                    or not REASONS[req.reason].pickable:
                problems.add((*path, "reason"), UserErrorCode.REASON_NOT_OFFERED,
                             f"That reason is not offered in the {market.value}.")
                continue
            option = next((o for o in eligible.reasons if o.rule.reason is req.reason), None)
            if option is None:
                problems.add((*path, "reason"), UserErrorCode.REASON_NOT_ALLOWED,
                             _reason_refused(view, action, eligible, req.reason))
                continue
        chosen.append((req, eligible.unit_ids[: req.quantity], option))
    return chosen


def _reason_refused(view: OrderView, action: Action, item: ActionItem, reason: ReturnReason) -> str:
    if action.kind is ActionKind.ADD_ITEMS_TO_RETURN:
        alone = view.action(ActionKind.REQUEST_RETURN).item(item.item.id)
        if alone is not None and any(o.rule.reason is reason for o in alone.reasons):
            # Open for a return of its own, but not one the open return's resolution can take.
            return "That reason can't join this return: request a separate return for this item."
    return item.exclusion or "That reason can no longer be used for this item."


def _ineligible_message(view: OrderView, kind: ActionKind, item_id: str) -> str:
    item = next(i for i in view.items if i.id == item_id)
    units = {u.id for u in item.units}
    if units <= view.cancelled_unit_ids:
        return "This item was cancelled."
    if kind in (ActionKind.REQUEST_RETURN, ActionKind.ADD_ITEMS_TO_RETURN):
        if units <= view.units_in_live_returns:
            return "This item is already in a return."
        delivered = {u.id for p in view.packages if p.delivered for u in p.units}
        if not units & delivered:
            return "This item hasn't been delivered yet."
        return "This item can no longer be returned."
    if kind in (ActionKind.CANCEL_ITEMS, ActionKind.CANCEL_ORDER):
        return "This item has already shipped or is already being cancelled."
    return "This item cannot be included."


def _group_parts(chosen: list[tuple[RequestedItem, tuple[str, ...], ReasonOption | None]],
                 shared_note: str | None) -> tuple[ReturnPart, ...]:
    by_reason: dict[ReturnReason, tuple[ReasonRule, list[str], list[str]]] = {}
    for req, units, option in chosen:
        assert option is not None
        _, ids, notes = by_reason.setdefault(option.rule.reason, (option.rule, [], []))
        ids.extend(units)
        if req.note:
            notes.append(req.note)
    parts = []
    for rule, ids, notes in by_reason.values():
        note = " / ".join(n for n in [shared_note, *notes] if n)[:MAX_NOTE] or None
        parts.append(ReturnPart(rule, tuple(ids), note))
    return tuple(parts)


def plan_return(view: OrderView, items: list[RequestedItem], resolution: ReturnKind, note: str | None = None,
                *, add_to: str | None = None) -> ReturnPlan | list[UserError]:
    kind = ActionKind.ADD_ITEMS_TO_RETURN if add_to is not None else ActionKind.REQUEST_RETURN
    action = view.action(kind)
    problems = Problems()
    if add_to is not None and view.return_group(add_to) is None:
        return [UserError(("returnId",), UserErrorCode.RETURN_NOT_FOUND, "There is no such return on this order.")]
    if not action.available:
        return _unavailable(action)
    if add_to is not None and add_to not in action.return_ids:
        return [UserError(("returnId",), UserErrorCode.NOT_AVAILABLE,
                          "Items can only be added before the return is sent back.")]
    if not items:
        return [UserError(("items",), UserErrorCode.EMPTY_REQUEST, "Choose at least one item.")]
    _check_note(note, ("note",), problems)
    if add_to is not None:
        group = view.return_group(add_to)
        assert group is not None
        resolution = group.kind
    chosen = _choose_units(view, action, items, problems, with_reasons=True)
    # The resolutions the action lists with each reason (for an added item, those of the open returns).
    for n, (_, _, option) in enumerate(chosen):
        if option is not None and resolution not in option.resolutions:
            problems.add(("resolution",), UserErrorCode.RESOLUTION_NOT_ALLOWED,
                         f"'{option.rule.label}' can't be resolved as {resolution.value.replace('_', ' ').lower()} "
                         f"(item {n + 1}).")
    if problems:
        return problems.errors
    return ReturnPlan(resolution, _group_parts(chosen, note), add_to)


def plan_cancel(view: OrderView, items: list[RequestedItem] | None) -> CancelPlan | list[UserError]:
    whole = items is None
    action = view.action(ActionKind.CANCEL_ORDER if whole else ActionKind.CANCEL_ITEMS)
    if not action.available:
        return _unavailable(action)
    if whole:
        return CancelPlan((), action.requires_approval)
    assert items is not None
    if not items:
        return [UserError(("items",), UserErrorCode.EMPTY_REQUEST, "Choose at least one item.")]
    problems = Problems()
    chosen = _choose_units(view, action, items, problems, with_reasons=False)
    if problems:
        return problems.errors
    units = tuple(u for _, ids, _ in chosen for u in ids)
    remaining = {u for i in action.items for u in i.unit_ids} - set(units)
    if not remaining:
        # Cancelling everything that is left is cancelling the order: say so, the same rule applies.
        return CancelPlan((), action.requires_approval)
    return CancelPlan(units, action.requires_approval)


def plan_address(view: OrderView, address: Address, *,
                 kind: ActionKind = ActionKind.CHANGE_ADDRESS) -> list[UserError]:
    action = view.action(kind)
    if not action.available:
        return _unavailable(action)
    problems = Problems()
    market = view.market  # the market's address formats are rows of its policy, not branches here
    for name, value in (("name", address.name), ("line1", address.line1), ("city", address.city),
                        ("postalCode", address.postal_code)):
        if not value.strip():
            problems.add(("address", name), UserErrorCode.INVALID_ADDRESS, "Required.")
        elif len(value) > 120:
            problems.add(("address", name), UserErrorCode.INVALID_ADDRESS, "Too long (120 characters at most).")
    if address.country != market.country:
        problems.add(("address", "country"), UserErrorCode.INVALID_ADDRESS,
                     f"Orders placed in the {market.market.value} can only ship to {market.country}.")
    if address.postal_code.strip() and not market.postcode.match(address.postal_code.strip()):
        problems.add(("address", "postalCode"), UserErrorCode.INVALID_ADDRESS, f"Enter {market.postcode_hint}.")
    region = address.region.strip()
    if market.region_format is not None and region and not market.region_format.fullmatch(region):
        problems.add(("address", "region"), UserErrorCode.INVALID_ADDRESS, market.region_hint)
    return problems.errors


def plan_package_refund(view: OrderView, kind: ActionKind, package_id: str | None,
                        note: str | None) -> ReturnPlan | list[UserError]:
    """Report not received (a delivered package) or late (one still on its way): a refund, nothing back."""
    action = view.action(kind)
    problems = Problems()
    _check_note(note, ("note",), problems)
    if package_id is not None and view.package(package_id) is None:
        return [UserError(("packageId",), UserErrorCode.PACKAGE_NOT_FOUND, "There is no such package on this order.")]
    if not action.available:
        return _unavailable(action)
    if package_id is not None and package_id not in action.package_ids:
        return [UserError(("packageId",), UserErrorCode.PACKAGE_NOT_ELIGIBLE,
                          "This package isn't eligible: " + _package_problem(view, kind, package_id))]
    if problems:
        return problems.errors
    targets = [package_id] if package_id is not None else list(action.package_ids)
    wanted = {u.id for p in view.packages if p.id in targets for u in p.units}
    units = tuple(u for i in action.items for u in i.unit_ids if u in wanted)
    reason = ReturnReason.NOT_RECEIVED if kind is ActionKind.REPORT_NOT_RECEIVED else ReturnReason.LATE
    return ReturnPlan(ReturnKind.REFUND_ONLY, (ReturnPart(REASONS[reason], units, note),))


def _package_problem(view: OrderView, kind: ActionKind, package_id: str) -> str:
    package = view.package(package_id)
    assert package is not None
    if kind is ActionKind.REPORT_NOT_RECEIVED:
        if not package.delivered:
            return "it hasn't been marked delivered."
        if {u.id for u in package.units} <= view.units_in_live_returns:
            return "it's already in a request."
        return "its reporting window has closed."
    if package.delivered:
        return "it has been delivered."
    return "it isn't late, or it's already reported."


def plan_return_change(view: OrderView, return_id: str, kind: ActionKind,
                       reason: str | None = None) -> list[UserError]:
    """Withdraw (buyer), approve or reject (seller) a whole return group."""
    if view.return_group(return_id) is None:
        return [UserError(("returnId",), UserErrorCode.RETURN_NOT_FOUND, "There is no such return on this order.")]
    action = view.action(kind)
    if not action.available or return_id not in action.return_ids:
        return [UserError(("returnId",), UserErrorCode.NOT_AVAILABLE,
                          action.message if not action.available else "That return can't be changed any more.")]
    if kind is ActionKind.REJECT_RETURN and not (reason or "").strip():
        return [UserError(("reason",), UserErrorCode.REJECTION_REASON_REQUIRED, "Tell the buyer why.")]
    return []


def plan_cancellation_response(view: OrderView, cancellation_id: str, accept: bool,
                               reason: str | None) -> list[UserError]:
    after_sales = view.snapshot.after_sales
    if after_sales is None or not any(c.id == cancellation_id for c in after_sales.cancellations):
        return [UserError(("cancellationId",), UserErrorCode.CANCELLATION_NOT_FOUND,
                          "There is no such cancellation request on this order.")]
    action = view.action(ActionKind.RESPOND_TO_CANCELLATION)
    if not action.available or cancellation_id not in action.cancellation_ids:
        return [UserError(("cancellationId",), UserErrorCode.NOT_AVAILABLE, "That request has already been answered.")]
    if not accept and not (reason or "").strip():
        return [UserError(("reason",), UserErrorCode.REJECTION_REASON_REQUIRED, "Tell the buyer why.")]
    return []
