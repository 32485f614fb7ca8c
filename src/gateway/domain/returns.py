"""Returns as the shopper sees them: one request per parcel back, a reason per item, its own tracker.

Upstream keeps one reason per return, so a request with several reasons is several upstream returns
sharing a ``combined_return_id``; here they are one :class:`ReturnGroup` again, each line with its
own reason. Adding items to an open return adds upstream returns to the same group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from gateway.domain.items import LineItem
from gateway.domain.model import Money, OrderRecord, OrderSnapshot, ReturnKind, ReturnRecord, ReturnStatus, Unit
from gateway.domain.policy import REASON_BY_UPSTREAM_CODE, REASONS, MarketPolicy, ReturnReason
from gateway.domain.tracker import StepState

# The buyer can still change the request: nothing has been sent back yet.
OPEN_STATUSES = frozenset({ReturnStatus.REQUESTED, ReturnStatus.APPROVED_AWAITING_SHIPMENT})
# Still holding its items (a unit cannot be in two live returns).
LIVE_STATUSES = frozenset(ReturnStatus) - {ReturnStatus.CANCELLED, ReturnStatus.REJECTED}
FINISHED_STATUSES = frozenset({ReturnStatus.REFUNDED, ReturnStatus.REPLACED, ReturnStatus.REJECTED,
                               ReturnStatus.CANCELLED})
_PROGRESS = [
    ReturnStatus.REQUESTED, ReturnStatus.AWAITING_BUYER_RESPONSE, ReturnStatus.IN_ARBITRATION,
    ReturnStatus.APPROVED_AWAITING_SHIPMENT, ReturnStatus.IN_RETURN_TRANSIT, ReturnStatus.RECEIVED,
    ReturnStatus.REFUND_PENDING, ReturnStatus.REFUNDED, ReturnStatus.REPLACED,
]


class ReturnStepKind(Enum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    SHIPPED_BACK = "SHIPPED_BACK"
    RECEIVED = "RECEIVED"
    REFUNDED = "REFUNDED"


class RefundState(Enum):
    NOT_STARTED = "NOT_STARTED"
    PENDING = "PENDING"
    REFUNDED = "REFUNDED"
    NONE = "NONE"  # rejected or withdrawn: nothing will be refunded


@dataclass(frozen=True, slots=True)
class ReturnLine:
    item: LineItem
    quantity: int
    reason: ReturnReason
    reason_label: str
    note: str | None
    status: ReturnStatus
    refund: Money
    record_id: str


@dataclass(frozen=True, slots=True)
class ReturnStep:
    kind: ReturnStepKind
    label: str
    state: StepState
    time: datetime | None
    description: str


@dataclass(frozen=True, slots=True)
class Instruction:
    title: str
    detail: str
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReturnGroup:
    id: str
    kind: ReturnKind
    status: ReturnStatus
    records: tuple[ReturnRecord, ...]
    lines: tuple[ReturnLine, ...]
    refund: Money
    refund_state: RefundState
    created_at: datetime
    ship_by: datetime | None
    seller_deadline: datetime | None
    document_type: str | None
    carrier_name: str | None
    tracking_number: str | None
    handover: str  # DROP_OFF, or PICKUP: the carrier collects the parcel from the shopper
    free_shipping: bool  # every item is under the market's limit for a free return label

    @property
    def pickup(self) -> bool:
        return self.handover == "PICKUP"

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def unit_ids(self) -> frozenset[str]:
        return frozenset(u for r in self.records if r.status in LIVE_STATUSES for u in r.unit_ids)

    @property
    def reasons(self) -> frozenset[ReturnReason]:
        return frozenset(line.reason for line in self.lines)


def _unit_weight_g(order: OrderRecord, unit: Unit) -> float:
    # The order service weighs packages, not items: an even share of its package's weight is the best
    # estimate of one unit's (UNCERTAIN for a package mixing light and heavy items).
    package = next((p for p in order.packages if p.id == unit.package_id), None)
    if package is None or not package.unit_ids:
        return 0.0
    return package.weight_g / len(package.unit_ids)


def ships_free(market: MarketPolicy, order: OrderRecord, unit: Unit) -> bool:
    """Whether sending this unit back is free: under the market's price and weight limit, if it has one."""
    limit = market.free_return_limit
    return limit is None or limit.covers(unit.price, _unit_weight_g(order, unit))


def reason_of(record: ReturnRecord) -> ReturnReason:
    return REASON_BY_UPSTREAM_CODE.get(record.reason_code, ReturnReason.OTHER)


def _group_status(records: list[ReturnRecord]) -> ReturnStatus:
    live = [r.status for r in records if r.status in LIVE_STATUSES]
    if not live:
        return ReturnStatus.CANCELLED if any(r.status is ReturnStatus.CANCELLED for r in records) \
            else ReturnStatus.REJECTED
    # The group is only as far along as its least advanced live part: one parcel, one journey.
    return min(live, key=_PROGRESS.index)


def return_groups(snapshot: OrderSnapshot, market: MarketPolicy,
                  items: tuple[LineItem, ...]) -> tuple[ReturnGroup, ...]:
    if snapshot.after_sales is None:
        return ()
    item_of_unit = {u.id: item for item in items for u in item.units}
    unit_of_id = {u.id: u for u in snapshot.order.units}
    grouped: dict[str, list[ReturnRecord]] = {}
    for record in snapshot.after_sales.returns:
        grouped.setdefault(record.group_id, []).append(record)
    groups = []
    for group_id, records in grouped.items():
        records.sort(key=lambda r: (r.created_at, r.id))
        lines = []
        for record in records:
            reason = reason_of(record)
            rule = REASONS.get(reason)
            per_item: dict[str, tuple[LineItem, int, Money]] = {}
            for unit_id, refund in zip(record.unit_ids, record.unit_refunds, strict=True):
                item = item_of_unit.get(unit_id)
                if item is None:
                    continue
                _, n, total = per_item.get(item.id, (item, 0, Money.zero(refund.currency)))
                per_item[item.id] = (item, n + 1, total + refund)
            for item, quantity, refund in per_item.values():
                lines.append(ReturnLine(item, quantity, reason, rule.label if rule and reason is not ReturnReason.OTHER
                                        else record.reason_text, record.note, record.status, refund, record.id))
        status = _group_status(records)
        live = [r for r in records if r.status in LIVE_STATUSES]
        refund = sum((r.refund for r in live), Money.zero(snapshot.order.currency))
        if status is ReturnStatus.REFUNDED:
            refund_state = RefundState.REFUNDED
        elif status in (ReturnStatus.REJECTED, ReturnStatus.CANCELLED):
            refund_state = RefundState.NONE
        elif status in (ReturnStatus.REFUND_PENDING, ReturnStatus.RECEIVED):
            refund_state = RefundState.PENDING
        else:
            refund_state = RefundState.NOT_STARTED
        head = live[0] if live else records[0]
        kinds = {r.kind for r in records}
        groups.append(ReturnGroup(
            id=group_id, kind=head.kind if len(kinds) == 1 else ReturnKind.RETURN_AND_REFUND, status=status,
            records=tuple(records), lines=tuple(lines), refund=refund, refund_state=refund_state,
            created_at=records[0].created_at,
            ship_by=min((r.ship_by for r in live if r.ship_by), default=None),
            seller_deadline=min((r.seller_deadline for r in live if r.seller_deadline), default=None),
            document_type=next((r.document_type for r in live if r.document_type), None),
            carrier_name=next((r.carrier_name for r in live if r.carrier_name), None),
            tracking_number=next((r.tracking_number for r in live if r.tracking_number), None),
            handover=head.handover,
            free_shipping=all(ships_free(market, snapshot.order, unit_of_id[u])
                              for r in live for u in r.unit_ids if u in unit_of_id),
        ))
    groups.sort(key=lambda g: (g.created_at, g.id))
    return tuple(groups)


def _first(records: tuple[ReturnRecord, ...], field: str) -> datetime | None:
    times: list[datetime] = [t for r in records if r.status in LIVE_STATUSES
                             for t in [getattr(r, field)] if t is not None]
    return max(times) if times else None


def return_steps(group: ReturnGroup, market: MarketPolicy, today: date) -> tuple[ReturnStep, ...]:
    """The return's own tracker. A refund without sending anything back skips the parcel steps."""
    records = group.records
    ships = group.kind is not ReturnKind.REFUND_ONLY
    kinds = [ReturnStepKind.REQUESTED, ReturnStepKind.APPROVED]
    if ships:
        kinds += [ReturnStepKind.SHIPPED_BACK, ReturnStepKind.RECEIVED]
    kinds.append(ReturnStepKind.REFUNDED)
    times = {
        ReturnStepKind.REQUESTED: group.created_at,
        ReturnStepKind.APPROVED: _first(records, "approved_at"),
        ReturnStepKind.SHIPPED_BACK: _first(records, "shipped_back_at"),
        ReturnStepKind.RECEIVED: _first(records, "received_at"),
        ReturnStepKind.REFUNDED: _first(records, "refunded_at"),
    }
    reached = {
        ReturnStatus.REQUESTED: ReturnStepKind.REQUESTED,
        ReturnStatus.AWAITING_BUYER_RESPONSE: ReturnStepKind.REQUESTED,
        ReturnStatus.IN_ARBITRATION: ReturnStepKind.REQUESTED,
        ReturnStatus.APPROVED_AWAITING_SHIPMENT: ReturnStepKind.APPROVED,
        ReturnStatus.IN_RETURN_TRANSIT: ReturnStepKind.SHIPPED_BACK,
        ReturnStatus.RECEIVED: ReturnStepKind.RECEIVED,
        ReturnStatus.REFUND_PENDING: ReturnStepKind.RECEIVED if ships else ReturnStepKind.APPROVED,
        ReturnStatus.REFUNDED: ReturnStepKind.REFUNDED,
        ReturnStatus.REPLACED: ReturnStepKind.REFUNDED,
    }.get(group.status)
    stopped = group.status in (ReturnStatus.REJECTED, ReturnStatus.CANCELLED)
    if reached is None:  # rejected or withdrawn: stop after the last step that happened
        reached = max((k for k in kinds if times.get(k) is not None), key=kinds.index)
    current = kinds.index(reached)
    finished = group.status in (ReturnStatus.REFUNDED, ReturnStatus.REPLACED)
    labels = {
        ReturnStepKind.REQUESTED: "Requested", ReturnStepKind.APPROVED: "Approved",
        ReturnStepKind.SHIPPED_BACK: "Sent back", ReturnStepKind.RECEIVED: "Received by seller",
        ReturnStepKind.REFUNDED: "Refunded" if group.kind is not ReturnKind.REPLACEMENT else "Replaced",
    }
    steps = []
    floor: datetime | None = None
    for i, kind in enumerate(kinds):
        time = times.get(kind)
        if time is not None and floor is not None and time < floor:
            time = floor
        if finished or i < current:
            state = StepState.DONE if time is not None else StepState.SKIPPED
        elif i == current:
            state = StepState.BLOCKED if stopped else StepState.CURRENT
        else:
            state, time = StepState.UPCOMING, None
        if time is not None:
            floor = time
        steps.append(ReturnStep(kind, labels[kind], state, time,
                                _step_text(group, market, kind, state, time, today)))
    return tuple(steps)


def _step_text(group: ReturnGroup, market: MarketPolicy, kind: ReturnStepKind, state: StepState, time: datetime | None,
               today: date) -> str:
    at = market.moment(time, today) if time else ""
    if kind is ReturnStepKind.REQUESTED:
        if group.status is ReturnStatus.CANCELLED:
            return f"You withdrew this request{(' (' + at + ')') if at else ''}."
        return f"Requested {at}."
    if kind is ReturnStepKind.APPROVED:
        if group.status is ReturnStatus.REJECTED:
            reason = next((r.rejected_reason for r in group.records if r.rejected_reason), None)
            return "The seller declined the request" + (f": {reason}" if reason else "") + "."
        if state is StepState.UPCOMING:
            due = f" by {market.moment(group.seller_deadline, today)}" if group.seller_deadline else ""
            return f"The seller reviews it{due}."
        return f"Approved {at}." if at else "Approved."
    if kind is ReturnStepKind.SHIPPED_BACK:
        if state is StepState.UPCOMING:
            due = f" by {market.day(market.local(group.ship_by).date(), today)}" if group.ship_by else ""
            return f"Send the items back{due}."
        return f"Sent back {at}." if at else "Sent back."
    if kind is ReturnStepKind.RECEIVED:
        return f"The seller received it {at}." if at else "The seller checks the items when they arrive."
    if state is StepState.UPCOMING:
        return _refund_timing(group, market)
    if group.status is ReturnStatus.REPLACED:
        return f"Replacement sent {at}." if at else "Replacement sent."
    return f"{market.money(group.refund)} refunded {at}." if at else f"{market.money(group.refund)} refunded."


def instructions(group: ReturnGroup, market: MarketPolicy, today: date) -> tuple[Instruction, ...]:
    """What the shopper does next, in order: no guesswork, unlike the old batch-return flow."""
    if group.status in (ReturnStatus.CANCELLED, ReturnStatus.REJECTED):
        return ()
    if group.status is ReturnStatus.REPLACED:
        return (Instruction("All done", "Your replacement has been sent."),)
    if group.status is ReturnStatus.REFUNDED:
        return (Instruction("All done", f"{market.money(group.refund)} was refunded to your original payment "
                                        "method."),)
    steps: list[Instruction] = []
    if group.status in (ReturnStatus.REQUESTED, ReturnStatus.AWAITING_BUYER_RESPONSE, ReturnStatus.IN_ARBITRATION):
        due = f" by {market.moment(group.seller_deadline, today)}" if group.seller_deadline else ""
        steps.append(Instruction("Wait for the seller to review", f"The seller responds{due}; if they don't, "
                                 "the request is approved automatically.", group.seller_deadline))
    if group.kind is ReturnKind.REFUND_ONLY:
        steps.append(Instruction("Keep the items", "You don't need to send anything back."))
    elif group.status in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED_AWAITING_SHIPMENT,
                          ReturnStatus.AWAITING_BUYER_RESPONSE, ReturnStatus.IN_ARBITRATION):
        names = ", ".join(f"{line.quantity} x {line.item.first.product_name}" for line in group.lines)
        doc = "QR code" if group.document_type == "QR_CODE" else "prepaid label"
        steps.append(Instruction("Pack the items", f"Pack {names} securely, in one {market.word('parcel')}."))
        if group.status is ReturnStatus.APPROVED_AWAITING_SHIPMENT:
            carrier = group.carrier_name or "the carrier"
            steps.append(Instruction(f"Show the {doc}" if doc == "QR code" else "Print the label",
                                     f"Your {carrier} {doc} is ready in the app"
                                     + (f" (tracking {group.tracking_number})" if group.tracking_number else "")
                                     + "."))
            ship_by = market.day(market.local(group.ship_by).date(), today) if group.ship_by else None
            by = f" by {ship_by}" if ship_by else ""
            if group.pickup:
                steps.append(Instruction("Hand it to the driver",
                                         f"{group.carrier_name or 'The carrier'} collects the {market.word('parcel')} "
                                         f"from your address{by}; have it packed and ready.", group.ship_by))
            else:
                steps.append(Instruction("Drop it off", f"Take it to {market.return_drop_off or 'a drop-off point'}"
                                         f"{by}.", group.ship_by))
        else:
            steps.append(Instruction("Get your return label", _label_text(group, market)))
    elif group.status is ReturnStatus.IN_RETURN_TRANSIT:
        steps.append(Instruction("On its way back", "The seller checks the items when they arrive."))
    last = "Get your replacement" if group.kind is ReturnKind.REPLACEMENT else "Get your refund"
    steps.append(Instruction(last, _refund_timing(group, market)))
    return tuple(steps)


def _label_text(group: ReturnGroup, market: MarketPolicy) -> str:
    limit = market.free_return_limit
    label = "a free QR code or label" if group.free_shipping else "a QR code or label"
    then = " and the carrier's pickup is booked" if group.pickup else ""
    text = f"Once approved, {label} appears here{then}."
    if not group.free_shipping and limit is not None:
        text += f" Return shipping is free only for items {limit.described}, so you may pay for this one."
    return text


def _refund_timing(group: ReturnGroup, market: MarketPolicy) -> str:
    """Nothing travels back for a refund-only request, so its clock starts at approval; a replacement
    is shipped rather than refunded."""
    if group.kind is ReturnKind.REPLACEMENT:
        return "The seller ships a replacement once they receive the return."
    if group.kind is ReturnKind.REFUND_ONLY:
        return market.refund_only_timing
    return market.refund_timing
