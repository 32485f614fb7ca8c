"""After-sales entrances, returns and cancellations."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.domain import actions, model, returns
from gateway.domain.actions import resolutions_for
from gateway.domain.items import count_by_item
from gateway.domain.model import CancellationRecord
from gateway.domain.policy import ReasonRule
from gateway.domain.view import OrderView
from gateway.schema.common import Money
from gateway.schema.enums import (
    Actor,
    AfterSalesActionKind,
    CancellationStatus,
    RefundState,
    ReturnKind,
    ReturnReasonCategory,
    ReturnReasonCode,
    ReturnStatus,
    ReturnStepKind,
    TrackerStepState,
    UnavailableReason,
)
from gateway.schema.items import ItemQuantity, LineItem

RETURN_STATUS_LABELS = {
    model.ReturnStatus.REQUESTED: "Waiting for the seller",
    model.ReturnStatus.APPROVED_AWAITING_SHIPMENT: "Approved: send it back",
    model.ReturnStatus.IN_RETURN_TRANSIT: "On its way back",
    model.ReturnStatus.RECEIVED: "Received by the seller",
    model.ReturnStatus.REFUND_PENDING: "Refund on its way",
    model.ReturnStatus.REFUNDED: "Refunded",
    model.ReturnStatus.REPLACED: "Replaced",
    model.ReturnStatus.AWAITING_BUYER_RESPONSE: "Waiting for your reply",
    model.ReturnStatus.IN_ARBITRATION: "Under review by support",
    model.ReturnStatus.REJECTED: "Declined by the seller",
    model.ReturnStatus.CANCELLED: "Withdrawn",
}


@strawberry.type(description="A reason the shopper may pick for an item, and until when it is accepted.")
class ReturnReasonOption:
    code: ReturnReasonCode
    label: str
    category: ReturnReasonCategory
    deadline: datetime | None
    basis: str | None = strawberry.field(description="The policy or law that opens this window.")
    resolutions: list[ReturnKind] = strawberry.field(description="What the shopper may ask for with this reason.")

    @classmethod
    def of(cls, rule: ReasonRule, deadline: datetime | None = None, basis: str | None = None,
           resolutions: tuple[model.ReturnKind, ...] | None = None) -> ReturnReasonOption:
        return cls(code=rule.reason, label=rule.label, category=rule.category, deadline=deadline, basis=basis,
                   resolutions=list(resolutions_for(rule) if resolutions is None else resolutions))


@strawberry.type(description="An item an action applies to, how many units, and for returns the reasons allowed.")
class ActionItem:
    line_item: LineItem
    quantity: int
    deadline: datetime | None
    reasons: list[ReturnReasonOption]
    note: str | None


@strawberry.type(description="An after-sales entrance. Every action is listed, available or not, with why.")
class AfterSalesAction:
    kind: AfterSalesActionKind
    label: str
    available: bool
    message: str = strawberry.field(description="What it does when available; why not, when it isn't.")
    unavailable_reason: UnavailableReason | None
    deadline: datetime | None
    items: list[ActionItem]
    package_ids: list[strawberry.ID]
    return_ids: list[strawberry.ID]
    cancellation_ids: list[strawberry.ID] = strawberry.field(
        description="The cancellation requests it answers (RESPOND_TO_CANCELLATION).")
    requires_approval: bool = strawberry.field(description="The seller must accept the request.")
    alternative: AfterSalesActionKind | None = strawberry.field(description="What to do instead, when unavailable.")

    @classmethod
    def of(cls, a: actions.Action, view: OrderView) -> AfterSalesAction:
        return cls(
            kind=a.kind, label=view.market.word(a.label), available=a.available, message=a.message,
            unavailable_reason=a.unavailable, deadline=a.deadline,
            items=[ActionItem(line_item=LineItem(item=i.item, view=view), quantity=i.quantity, deadline=i.deadline,
                              reasons=[ReturnReasonOption.of(o.rule, o.deadline, o.basis, o.resolutions)
                                       for o in i.reasons],
                              note=i.note) for i in a.items],
            package_ids=[strawberry.ID(p) for p in a.package_ids],
            return_ids=[strawberry.ID(r) for r in a.return_ids],
            cancellation_ids=[strawberry.ID(c) for c in a.cancellation_ids], requires_approval=a.requires_approval,
            alternative=a.alternative,
        )


@strawberry.type
class ReturnLine:
    line_item: LineItem
    quantity: int
    reason: ReturnReasonCode
    reason_label: str
    note: str | None
    status: ReturnStatus
    refund: Money


@strawberry.type(description="A milestone of the return's own tracker.")
class ReturnStep:
    kind: ReturnStepKind
    label: str
    state: TrackerStepState
    time: datetime | None
    description: str


@strawberry.type(description="One thing the shopper does next, in order.")
class ReturnInstruction:
    step: int
    title: str
    detail: str
    deadline: datetime | None


@strawberry.type
class Refund:
    amount: Money
    state: RefundState
    refunded_at: datetime | None


@strawberry.type(description="How the parcel goes back: QR code or printable label, carrier, tracking number.")
class ReturnShipping:
    document: str | None
    carrier: str | None
    tracking_number: str | None
    ship_by: datetime | None


@strawberry.type(description="A return or refund request: one parcel back, a reason per item.")
class Return:
    group: strawberry.Private[returns.ReturnGroup]
    view: strawberry.Private[OrderView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.group.id)

    @strawberry.field
    def kind(self) -> ReturnKind:
        return self.group.kind

    @strawberry.field
    def status(self) -> ReturnStatus:
        return self.group.status

    @strawberry.field
    def status_label(self) -> str:
        return RETURN_STATUS_LABELS[self.group.status]

    @strawberry.field
    def requested_at(self) -> datetime:
        return self.group.created_at

    @strawberry.field(description="When the seller must respond by; unanswered requests are approved.")
    def seller_response_due(self) -> datetime | None:
        return self.group.seller_deadline if self.group.status is model.ReturnStatus.REQUESTED else None

    @strawberry.field
    def lines(self) -> list[ReturnLine]:
        market = self.view.market
        return [ReturnLine(line_item=LineItem(item=line.item, view=self.view), quantity=line.quantity,
                           reason=line.reason, reason_label=line.reason_label, note=line.note, status=line.status,
                           refund=Money.of(line.refund, market)) for line in self.group.lines]

    @strawberry.field
    def refund(self) -> Refund:
        refunded = max((r.refunded_at for r in self.group.records if r.refunded_at), default=None)
        return Refund(amount=Money.of(self.group.refund, self.view.market), state=self.group.refund_state,
                      refunded_at=refunded)

    @strawberry.field
    def shipping(self) -> ReturnShipping | None:
        g = self.group
        if g.kind is model.ReturnKind.REFUND_ONLY:
            return None
        return ReturnShipping(document=g.document_type, carrier=g.carrier_name, tracking_number=g.tracking_number,
                              ship_by=g.ship_by)

    @strawberry.field(description="The return's own tracker: requested, approved, sent back, received, refunded.")
    def steps(self) -> list[ReturnStep]:
        steps = returns.return_steps(self.group, self.view.market, self.view.today)
        return [ReturnStep(kind=s.kind, label=s.label, state=s.state, time=s.time, description=s.description)
                for s in steps]

    @strawberry.field(description="What to do next, step by step.")
    def instructions(self) -> list[ReturnInstruction]:
        found = returns.instructions(self.group, self.view.market, self.view.today)
        return [ReturnInstruction(step=n, title=i.title, detail=i.detail, deadline=i.deadline)
                for n, i in enumerate(found, start=1)]


@strawberry.type
class Cancellation:
    record: strawberry.Private[CancellationRecord]
    view: strawberry.Private[OrderView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.id)

    @strawberry.field
    def status(self) -> CancellationStatus:
        return self.record.status

    @strawberry.field
    def initiator(self) -> Actor:
        return self.record.initiator

    @strawberry.field
    def reason(self) -> str:
        return self.record.reason_text

    @strawberry.field
    def requested_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def seller_response_due(self) -> datetime | None:
        return self.record.seller_deadline if self.record.status is model.CancellationStatus.REQUESTED else None

    @strawberry.field
    def items(self) -> list[ItemQuantity]:
        return [ItemQuantity.of(c, self.view) for c in count_by_item(self.view.items, self.record.unit_ids)]

    @strawberry.field
    def refund(self) -> Money:
        return Money.of(self.record.refund, self.view.market)
