"""Mutations: thin resolvers over :mod:`gateway.commands`; user errors come back as data."""

from __future__ import annotations

import strawberry

from gateway.auth import Role
from gateway.commands import Commands, Outcome
from gateway.context import Info
from gateway.domain import decisions, returns
from gateway.domain.actions import ActionKind
from gateway.domain.model import Address as DomainAddress
from gateway.domain.model import ReturnKind as DomainReturnKind
from gateway.schema.aftersales import Cancellation, Return, ReturnInstruction
from gateway.schema.enums import CancelReason, ReturnKind, ReturnReasonCode, UserErrorCode
from gateway.schema.order import Order


@strawberry.type(description="Why a request was refused: which input, a stable code, a message to show.")
class UserError:
    field: list[str]
    code: UserErrorCode
    message: str


def _errors(outcome: Outcome) -> list[UserError]:
    return [UserError(field=list(e.field), code=e.code, message=e.message) for e in outcome.errors]


@strawberry.type
class ReturnPayload:
    return_: Return | None = strawberry.field(name="return")
    next_steps: list[ReturnInstruction]
    order: Order | None
    user_errors: list[UserError]
    replayed: bool = strawberry.field(description="True when this answers a retry with an already-used key.")

    @classmethod
    def of(cls, outcome: Outcome) -> ReturnPayload:
        view = outcome.view
        group = view.return_group(outcome.return_id) if view and outcome.return_id else None
        steps = returns.instructions(group, view.market, view.today) if view and group else ()
        return cls(return_=Return(group=group, view=view) if view and group else None,
                   next_steps=[ReturnInstruction(step=n, title=i.title, detail=i.detail, deadline=i.deadline)
                               for n, i in enumerate(steps, start=1)],
                   order=Order(view=view) if view else None, user_errors=_errors(outcome), replayed=outcome.replayed)


@strawberry.type
class CancellationPayload:
    cancellation: Cancellation | None
    order: Order | None
    user_errors: list[UserError]
    replayed: bool

    @classmethod
    def of(cls, outcome: Outcome) -> CancellationPayload:
        view = outcome.view
        record = None
        if view and outcome.cancellation_id and view.snapshot.after_sales:
            record = next((c for c in view.snapshot.after_sales.cancellations if c.id == outcome.cancellation_id),
                          None)
        return cls(cancellation=Cancellation(record=record, view=view) if view and record else None,
                   order=Order(view=view) if view else None, user_errors=_errors(outcome), replayed=outcome.replayed)


@strawberry.type
class OrderPayload:
    order: Order | None
    user_errors: list[UserError]
    replayed: bool

    @classmethod
    def of(cls, outcome: Outcome) -> OrderPayload:
        view = outcome.view
        return cls(order=Order(view=view) if view else None, user_errors=_errors(outcome), replayed=outcome.replayed)


@strawberry.input(description="One item to return: how many, and why. Each item has its own reason.")
class ReturnItemInput:
    line_item_id: strawberry.ID
    reason: ReturnReasonCode
    quantity: int = 1
    note: str | None = None


@strawberry.input
class ItemQuantityInput:
    line_item_id: strawberry.ID
    quantity: int = 1


@strawberry.input
class RequestReturnInput:
    order_id: strawberry.ID
    items: list[ReturnItemInput]
    idempotency_key: str = strawberry.field(description="Any unique string (8-128 chars) per intended request; "
                                                        "retries with the same key never create twice.")
    resolution: ReturnKind = DomainReturnKind.RETURN_AND_REFUND
    note: str | None = None
    pickup: bool = strawberry.field(default=False, description="Ask the carrier to collect it instead of a drop-off.")


@strawberry.input
class AddItemsToReturnInput:
    order_id: strawberry.ID
    return_id: strawberry.ID
    items: list[ReturnItemInput]
    idempotency_key: str


@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID
    reason: CancelReason
    idempotency_key: str


@strawberry.input
class CancelItemsInput:
    order_id: strawberry.ID
    items: list[ItemQuantityInput]
    reason: CancelReason
    idempotency_key: str


@strawberry.input
class AddressInput:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    region: str = ""
    phone: str = ""


@strawberry.input
class ChangeShippingAddressInput:
    order_id: strawberry.ID
    address: AddressInput
    idempotency_key: str


@strawberry.input
class ReportPackageInput:
    order_id: strawberry.ID
    idempotency_key: str
    package_id: strawberry.ID | None = strawberry.field(default=None, description="Null: every eligible package.")
    note: str | None = None


@strawberry.input
class ReturnChangeInput:
    order_id: strawberry.ID
    return_id: strawberry.ID
    idempotency_key: str


@strawberry.input
class RejectReturnInput:
    order_id: strawberry.ID
    return_id: strawberry.ID
    reason: str
    idempotency_key: str


@strawberry.input
class RespondToCancellationInput:
    order_id: strawberry.ID
    cancellation_id: strawberry.ID
    accept: bool
    idempotency_key: str
    reason: str | None = None


def _commands(info: Info) -> Commands:
    return Commands(info.context, info.context.idempotency)


def _items(items: list[ReturnItemInput]) -> list[decisions.RequestedItem]:
    return [decisions.RequestedItem(str(i.line_item_id), i.quantity, i.reason, i.note) for i in items]


def _address(a: AddressInput) -> DomainAddress:
    return DomainAddress(name=a.name, line1=a.line1, line2=a.line2, city=a.city, region=a.region,
                                   postal_code=a.postal_code, country=a.country.upper(), phone=a.phone)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Return or refund one or many items, each with its own reason.")
    async def request_return(self, info: Info, input: RequestReturnInput) -> ReturnPayload:
        outcome = await _commands(info).request_return(
            str(input.order_id), _items(input.items), input.resolution, input.note,
            "PICKUP" if input.pickup else "DROP_OFF", input.idempotency_key)
        return ReturnPayload.of(outcome)

    @strawberry.mutation(description="Add items to a return that has not been sent back yet.")
    async def add_items_to_return(self, info: Info, input: AddItemsToReturnInput) -> ReturnPayload:
        outcome = await _commands(info).add_items_to_return(str(input.order_id), str(input.return_id),
                                                           _items(input.items), input.idempotency_key)
        return ReturnPayload.of(outcome)

    @strawberry.mutation(description="Withdraw a return request before it is sent back.")
    async def cancel_return(self, info: Info, input: ReturnChangeInput) -> ReturnPayload:
        outcome = await _commands(info).change_return(ActionKind.CANCEL_RETURN, str(input.order_id),
                                                     str(input.return_id), None, input.idempotency_key)
        return ReturnPayload.of(outcome)

    @strawberry.mutation(description="Report a package marked delivered that never arrived.")
    async def report_not_received(self, info: Info, input: ReportPackageInput) -> ReturnPayload:
        outcome = await _commands(info).report_package(
            ActionKind.REPORT_NOT_RECEIVED, str(input.order_id),
            str(input.package_id) if input.package_id else None, input.note, input.idempotency_key)
        return ReturnPayload.of(outcome)

    @strawberry.mutation(description="Report a package that is past its promised date, asking for a refund.")
    async def report_late(self, info: Info, input: ReportPackageInput) -> ReturnPayload:
        outcome = await _commands(info).report_package(
            ActionKind.REPORT_LATE, str(input.order_id), str(input.package_id) if input.package_id else None,
            input.note, input.idempotency_key)
        return ReturnPayload.of(outcome)

    @strawberry.mutation(description="Cancel the whole order: free during the on-hold hour, then a request.")
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> CancellationPayload:
        outcome = await _commands(info).cancel(str(input.order_id), None, input.reason,
                                               input.idempotency_key)
        return CancellationPayload.of(outcome)

    @strawberry.mutation(description="Cancel some items that have not shipped yet.")
    async def cancel_items(self, info: Info, input: CancelItemsInput) -> CancellationPayload:
        items = [decisions.RequestedItem(str(i.line_item_id), i.quantity) for i in input.items]
        outcome = await _commands(info).cancel(str(input.order_id), items, input.reason,
                                               input.idempotency_key)
        return CancellationPayload.of(outcome)

    @strawberry.mutation(description="Change where the order is delivered, before it ships.")
    async def change_shipping_address(self, info: Info, input: ChangeShippingAddressInput) -> OrderPayload:
        outcome = await _commands(info).change_address(str(input.order_id), _address(input.address),
                                                      input.idempotency_key, role=Role.BUYER)
        return OrderPayload.of(outcome)

    @strawberry.mutation(description="Seller: approve a pending return (the buyer gets a label).")
    async def approve_return(self, info: Info, input: ReturnChangeInput) -> ReturnPayload:
        outcome = await _commands(info).change_return(ActionKind.APPROVE_RETURN, str(input.order_id),
                                                     str(input.return_id), None, input.idempotency_key)
        return ReturnPayload.of(outcome)

    @strawberry.mutation(description="Seller: reject a pending return, with a reason the buyer sees.")
    async def reject_return(self, info: Info, input: RejectReturnInput) -> ReturnPayload:
        outcome = await _commands(info).change_return(ActionKind.REJECT_RETURN, str(input.order_id),
                                                     str(input.return_id), input.reason, input.idempotency_key)
        return ReturnPayload.of(outcome)

    @strawberry.mutation(description="Seller: accept or decline a buyer's cancellation request.")
    async def respond_to_cancellation(self, info: Info, input: RespondToCancellationInput) -> CancellationPayload:
        outcome = await _commands(info).answer_cancellation(str(input.order_id), str(input.cancellation_id),
                                                           input.accept, input.reason, input.idempotency_key)
        return CancellationPayload.of(outcome)

    @strawberry.mutation(description="Seller: update the shipping address on the buyer's request, before shipping.")
    async def update_shipping_address(self, info: Info, input: ChangeShippingAddressInput) -> OrderPayload:
        outcome = await _commands(info).change_address(str(input.order_id), _address(input.address),
                                                      input.idempotency_key, role=Role.SELLER)
        return OrderPayload.of(outcome)
