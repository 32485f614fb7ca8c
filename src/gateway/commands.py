"""Running a mutation: who may, once per idempotency key, decided by the domain rules, written upstream.

The flow is the same for every command: check the role, claim the client's idempotency key (a retry
replays the first result, a racing retry waits for it, within the request's deadline), read the order fresh, let
:mod:`gateway.domain.decisions` accept or refuse it, make one upstream write (with an upstream
idempotency key derived from the client's, so a retry after a lost response is replayed upstream
rather than repeated), then forget the cached order and read it again, so the payload shows the
new state. User errors are data; only outages and bugs are GraphQL errors. Upstream writes are never
retried here: only the client's retry, with the same key, repeats one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.auth import Role, Viewer
from gateway.context import Context
from gateway.domain.actions import ActionKind
from gateway.domain.decisions import (
    CancelPlan,
    RequestedItem,
    ReturnPlan,
    UserError,
    UserErrorCode,
    plan_address,
    plan_cancel,
    plan_cancellation_response,
    plan_package_refund,
    plan_return,
    plan_return_change,
)
from gateway.domain.model import Address, ReturnKind
from gateway.domain.policy import CANCEL_REASON_CODES, CancelReason
from gateway.domain.view import OrderView
from gateway.errors import NotFound, UpstreamRejected
from gateway.idempotency import Claimed, IdempotencyStore, InProgress, Mismatch, Replay, fingerprint

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
# Of the request's deadline, what a racing retry keeps back from waiting, to read the order it answers with.
_ANSWER_RESERVE = 0.5
_UPSTREAM_KINDS = {ReturnKind.RETURN_AND_REFUND: "RETURN_AND_REFUND", ReturnKind.REFUND_ONLY: "REFUND",
                   ReturnKind.REPLACEMENT: "REPLACEMENT"}
# Upstream refusals that mean "the order changed between our read and our write". NOT_ELIGIBLE is the
# after-sales service refusing what a line's stage no longer allows (it shipped, or arrived, meanwhile):
# the same rules the gateway just checked, applied to a newer state.
_RACES = {"DUPLICATE_REQUEST": UserErrorCode.DUPLICATE_REQUEST, "RETURN_NOT_OPEN": UserErrorCode.NOT_AVAILABLE,
          "ADDRESS_LOCKED": UserErrorCode.NOT_AVAILABLE, "NOT_PENDING": UserErrorCode.NOT_AVAILABLE,
          "NOT_ELIGIBLE": UserErrorCode.NOT_AVAILABLE}


@dataclass
class Outcome:
    view: OrderView | None
    errors: list[UserError] = field(default_factory=list)
    return_id: str | None = None
    cancellation_id: str | None = None
    replayed: bool = False


Write = Callable[[OrderView, str], Awaitable[dict[str, Any]]]


def _errors_to_json(errors: list[UserError]) -> list[dict[str, Any]]:
    return [{"field": list(e.field), "code": e.code.value, "message": e.message} for e in errors]


def _errors_from_json(raw: list[dict[str, Any]]) -> list[UserError]:
    return [UserError(tuple(e["field"]), UserErrorCode(e["code"]), e["message"]) for e in raw]


class Commands:
    def __init__(self, context: Context, store: IdempotencyStore) -> None:
        self.context = context
        self.store = store

    async def _run(self, name: str, role: Role, order_id: str, key: str, request: Any, write: Write) -> Outcome:
        viewer = self.context.require_viewer(role)
        if not _KEY.match(key):
            return Outcome(None, [UserError(("idempotencyKey",), UserErrorCode.INVALID_IDEMPOTENCY_KEY,
                                            "Use 8 to 128 letters, digits, '-', '_', '.' or ':'.")])
        scoped = f"{viewer.role.value}:{viewer.subject}:{name}:{key}"
        signature = fingerprint([order_id, request])
        remaining = self.context.upstreams.orders.scope.remaining()
        outcome = await self.store.claim(scoped, signature,
                                         None if remaining is None else max(0.0, remaining - _ANSWER_RESERVE))
        loaders = self.context.loaders
        if isinstance(outcome, InProgress):
            return Outcome(None, [UserError(
                ("idempotencyKey",), UserErrorCode.REQUEST_IN_PROGRESS,
                "An earlier request with this idempotency key is still running: retry with the same key "
                "in a moment to get its result.")])
        if isinstance(outcome, Mismatch):
            return Outcome(await loaders.view(order_id), [UserError(
                ("idempotencyKey",), UserErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was already used for a different request.")])
        if isinstance(outcome, Replay):
            return self._outcome(await self._fresh(order_id), outcome.result, replayed=True)
        assert isinstance(outcome, Claimed)
        try:
            loaders.forget(order_id)
            view = await loaders.view(order_id)
            if view is None:
                raise NotFound(f"order {order_id} not found")
            upstream_key = hashlib.sha256(scoped.encode()).hexdigest()[:40]
            try:
                result = await write(view, upstream_key)
            except UpstreamRejected as rejected:
                code = _RACES.get(rejected.upstream_code or "")
                if rejected.status != 409 or code is None:
                    raise
                result = {"errors": _errors_to_json([UserError((), code, _race_message(code))])}
            await self.store.finish(scoped, signature, result)
        except BaseException:
            await self.store.release(scoped)
            raise
        return self._outcome(await self._fresh(order_id), result, replayed=False)

    async def _fresh(self, order_id: str) -> OrderView:
        self.context.loaders.forget(order_id)
        view = await self.context.loaders.view(order_id)
        if view is None:
            raise NotFound(f"order {order_id} not found")
        return view

    @staticmethod
    def _outcome(view: OrderView, result: dict[str, Any], *, replayed: bool) -> Outcome:
        return Outcome(view, _errors_from_json(result.get("errors", [])), result.get("return_id"),
                       result.get("cancellation_id"), replayed)

    def _viewer(self) -> Viewer:
        viewer = self.context.viewer
        assert viewer is not None
        return viewer

    # -- returns and refunds ---------------------------------------------------------------------

    async def _create_returns(self, view: OrderView, plan: ReturnPlan, key: str, handover: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "order_id": view.id, "buyer_user_id": self._viewer().subject,
            "return_type": _UPSTREAM_KINDS[plan.kind], "handover_method": handover,
            "groups": [{"return_reason": part.reason.upstream_code, "order_line_item_ids": list(part.unit_ids),
                        "buyer_note": part.note} for part in plan.parts],
        }
        if plan.combined_id is not None:
            body["combined_return_id"] = plan.combined_id
        created = await self.context.upstreams.aftersales.create_returns(body, key)
        return {"return_id": created[0].group_id}

    async def request_return(self, order_id: str, items: list[RequestedItem], resolution: ReturnKind,
                             note: str | None, handover: str, key: str) -> Outcome:
        async def write(view: OrderView, upstream_key: str) -> dict[str, Any]:
            plan = plan_return(view, items, resolution, note)
            if not isinstance(plan, ReturnPlan):
                return {"errors": _errors_to_json(plan)}
            return await self._create_returns(view, plan, upstream_key, handover)

        request = [[i.line_item_id, i.quantity, i.reason, i.note] for i in items]
        return await self._run("requestReturn", Role.BUYER, order_id, key,
                               [request, resolution, note, handover], write)

    async def add_items_to_return(self, order_id: str, return_id: str, items: list[RequestedItem],
                                  key: str) -> Outcome:
        async def write(view: OrderView, upstream_key: str) -> dict[str, Any]:
            plan = plan_return(view, items, ReturnKind.RETURN_AND_REFUND, None, add_to=return_id)
            if not isinstance(plan, ReturnPlan):
                return {"errors": _errors_to_json(plan)}
            group = view.return_group(return_id)
            assert group is not None, "plan_return refuses an unknown return"
            # The added items travel in the same parcel, so they go back the same way (drop-off or pickup).
            return await self._create_returns(view, plan, upstream_key, group.handover)

        request = [[i.line_item_id, i.quantity, i.reason, i.note] for i in items]
        return await self._run("addItemsToReturn", Role.BUYER, order_id, key, [return_id, request], write)

    async def report_package(self, kind: ActionKind, order_id: str, package_id: str | None, note: str | None,
                             key: str) -> Outcome:
        async def write(view: OrderView, upstream_key: str) -> dict[str, Any]:
            plan = plan_package_refund(view, kind, package_id, note)
            if not isinstance(plan, ReturnPlan):
                return {"errors": _errors_to_json(plan)}
            return await self._create_returns(view, plan, upstream_key, "DROP_OFF")

        return await self._run(kind.value, Role.BUYER, order_id, key, [package_id, note], write)

    async def change_return(self, kind: ActionKind, order_id: str, return_id: str, reason: str | None,
                            key: str) -> Outcome:
        role = Role.BUYER if kind is ActionKind.CANCEL_RETURN else Role.SELLER
        action = {ActionKind.CANCEL_RETURN: "cancel", ActionKind.APPROVE_RETURN: "approve",
                  ActionKind.REJECT_RETURN: "reject"}[kind]

        async def write(view: OrderView, upstream_key: str) -> dict[str, Any]:
            errors = plan_return_change(view, return_id, kind, reason)
            if errors:
                return {"errors": _errors_to_json(errors)}
            viewer = self._viewer()
            body: dict[str, Any] = ({"buyer_user_id": viewer.subject} if role is Role.BUYER
                                    else {"shop_id": viewer.shop_id})
            if reason:
                body["reject_reason"] = reason
            await self.context.upstreams.aftersales.change_returns(return_id, action, body, upstream_key)
            return {"return_id": return_id}

        return await self._run(kind.value, role, order_id, key, [return_id, reason], write)

    # -- before shipping ---------------------------------------------------------------------------

    async def cancel(self, order_id: str, items: list[RequestedItem] | None, reason: CancelReason,
                     key: str) -> Outcome:
        async def write(view: OrderView, upstream_key: str) -> dict[str, Any]:
            plan = plan_cancel(view, items)
            if not isinstance(plan, CancelPlan):
                return {"errors": _errors_to_json(plan)}
            body: dict[str, Any] = {"order_id": view.id, "buyer_user_id": self._viewer().subject, "role": "BUYER",
                                    "cancel_reason": CANCEL_REASON_CODES[reason]}
            if plan.unit_ids:
                body["order_line_item_ids"] = list(plan.unit_ids)
            record = await self.context.upstreams.aftersales.create_cancellation(body, upstream_key)
            return {"cancellation_id": record.id}

        request = None if items is None else [[i.line_item_id, i.quantity] for i in items]
        name = "cancelOrder" if items is None else "cancelItems"
        return await self._run(name, Role.BUYER, order_id, key, [request, reason], write)

    async def answer_cancellation(self, order_id: str, cancellation_id: str, accept: bool, reason: str | None,
                                  key: str) -> Outcome:
        async def write(view: OrderView, upstream_key: str) -> dict[str, Any]:
            errors = plan_cancellation_response(view, cancellation_id, accept, reason)
            if errors:
                return {"errors": _errors_to_json(errors)}
            body: dict[str, Any] = {"shop_id": self._viewer().shop_id}
            if not accept:
                body["reject_reason"] = reason
            record = await self.context.upstreams.aftersales.answer_cancellation(cancellation_id, accept, body,
                                                                                 upstream_key)
            return {"cancellation_id": record.id}

        return await self._run("respondToCancellation", Role.SELLER, order_id, key,
                               [cancellation_id, accept, reason], write)

    async def change_address(self, order_id: str, address: Address, key: str, *, role: Role) -> Outcome:
        kind = ActionKind.CHANGE_ADDRESS if role is Role.BUYER else ActionKind.UPDATE_ADDRESS

        async def write(view: OrderView, upstream_key: str) -> dict[str, Any]:
            errors = plan_address(view, address, kind=kind)
            if errors:
                return {"errors": _errors_to_json(errors)}
            body = {"name": address.name, "phone_number": address.phone, "address_line1": address.line1,
                    "address_line2": address.line2, "city": address.city, "state": address.region,
                    "postal_code": address.postal_code.strip().upper(), "region_code": address.country,
                    "requested_by": role.value.upper()}
            await self.context.upstreams.orders.update_address(view.id, body, upstream_key)
            return {}

        return await self._run(kind.value, role, order_id, key, [address], write)


def _race_message(code: UserErrorCode) -> str:
    if code is UserErrorCode.DUPLICATE_REQUEST:
        return "Some of these items are already in another request."
    return "The order changed in the meantime; refresh it and try again."
