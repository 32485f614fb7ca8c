"""The after-sales mock: TikTok-Shop-like returns/refunds and cancellations.

A return carries one reason for all its lines, as upstream does; a buyer request with several reasons
becomes several returns sharing a ``combined_return_id`` (one parcel back). A request a line's stage
does not allow (cancelling what has shipped, sending back what has not arrived, a reason the stage does
not offer) is a 409 ``NOT_ELIGIBLE``; the eligibility route gives the same answer per line. Writes
accept an ``Idempotency-Key`` header and persist until ``/_control/reset``.

Routes:
  POST /aftersales/batch_get            {"order_ids": [...]} (1-50) -> returns + cancellations per order;
                                        unknown ids are listed in ``not_found``
  GET  /orders/{order_id}/aftersales    the same for one order, 404 when unknown
  GET  /orders/{order_id}/aftersale_eligibility   per line and request type: eligible now, or why not
  GET  /returns/{return_id}
  POST /returns                          create a return (buyer)
  POST /returns/batch_create             several reasons, one parcel: one return per reason, atomically
  POST /combined_returns/{id}/cancel|approve|reject   the same for every live return of one parcel
  POST /returns/{return_id}/cancel       buyer withdraws it while it has not shipped back
  POST /returns/{return_id}/approve      seller approves (label issued for RETURN_AND_REFUND)
  POST /returns/{return_id}/reject       seller rejects, with a reason
  POST /cancellations                    cancel an order or some of its lines
  POST /cancellations/{cancel_id}/approve|reject   seller responds to a buyer's request
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from mocks.catalog import World
from mocks.catalog.reasons import (
    CANCEL_REASONS,
    RETURN_REASONS,
    SYSTEM_CANCEL_REASONS,
    reason_offered,
    return_reason_text,
)
from mocks.catalog.reference import Shop
from mocks.catalog.story import CARRIER_NAMES, money, tracking_number
from mocks.control import (
    CorruptionSpec,
    MockClock,
    bad_request,
    conflict,
    json_response,
    not_found,
    read_json_object,
)
from mocks.service import IdempotencyLedger, MockConfig, StateBox, make_app

MAX_BATCH = 50
RETURN_TYPES = frozenset({"REFUND", "RETURN_AND_REFUND", "REPLACEMENT"})
# Statuses in which a return still holds its lines (a line can be in one live return only).
LIVE_RETURN = frozenset({
    "RETURN_OR_REFUND_REQUEST_PENDING", "AWAITING_BUYER_SHIP", "BUYER_SHIPPED_ITEM",
    "RETURN_OR_REFUND_REQUEST_SUCCESS", "RETURN_OR_REFUND_REQUEST_COMPLETE", "AWAITING_BUYER_RESPONSE",
    "REPLACEMENT_REQUEST_PENDING", "REPLACEMENT_REQUEST_REFUND_SUCCESS", "REPLACEMENT_REQUEST_COMPLETE",
})
# Statuses in which the buyer can still withdraw, or add to the parcel: nothing has shipped back.
OPEN_RETURN = frozenset({"RETURN_OR_REFUND_REQUEST_PENDING", "AWAITING_BUYER_SHIP", "REPLACEMENT_REQUEST_PENDING"})
# Statuses of a return that was withdrawn by the buyer or turned down by the seller.
CLOSED_RETURN = frozenset({"RETURN_OR_REFUND_REQUEST_CANCEL", "RETURN_OR_REFUND_REQUEST_REJECT",
                           "REPLACEMENT_REQUEST_CANCEL", "REPLACEMENT_REQUEST_REJECT"})
LIVE_CANCEL = frozenset({"CANCELLATION_REQUEST_PENDING", "CANCELLATION_REQUEST_SUCCESS",
                         "CANCELLATION_REQUEST_COMPLETE"})


@dataclass
class AfterSalesState:
    clock: MockClock
    returns: dict[str, dict[str, Any]]
    cancellations: dict[str, dict[str, Any]]
    facts: dict[str, dict[str, Any]]
    shops: dict[str, Shop]
    ledger: IdempotencyLedger = field(default_factory=IdempotencyLedger)
    counter: int = 0

    @classmethod
    def load(cls, world: World, clock: MockClock) -> AfterSalesState:
        return cls(clock, copy.deepcopy(world.returns), copy.deepcopy(world.cancellations),
                   world.order_facts, dict(world.shops))

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-n{self.counter:05d}"

    def for_order(self, order_id: str) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "returns": sorted((r for r in self.returns.values() if r["order_id"] == order_id),
                              key=lambda r: (r["create_time"], r["return_id"])),
            "cancellations": sorted((c for c in self.cancellations.values() if c["order_id"] == order_id),
                                    key=lambda c: (c["create_time"], c["cancel_id"])),
        }


STATE: web.AppKey[StateBox[AfterSalesState]] = web.AppKey("aftersales_state", StateBox)


def _state(request: web.Request) -> AfterSalesState:
    return request.app[STATE].state


def _str(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise bad_request(f"{name} must be a non-empty string", field=name)
    return value


def _line_ids(body: dict[str, Any], facts: dict[str, Any], *, required: bool) -> list[str]:
    ids = body.get("order_line_item_ids")
    if ids is None and not required:
        return list(facts["lines"])
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request("order_line_item_ids must be a non-empty list of strings", field="order_line_item_ids")
    if len(set(ids)) != len(ids):
        raise bad_request("order_line_item_ids contains duplicates", field="order_line_item_ids")
    unknown = [i for i in ids if i not in facts["lines"]]
    if unknown:
        raise bad_request(f"lines not in this order: {unknown}", field="order_line_item_ids")
    return ids


def _order_facts(state: AfterSalesState, order_id: str) -> dict[str, Any]:
    facts = state.facts.get(order_id)
    if facts is None:
        raise not_found(f"order {order_id} is unknown to after-sales")
    return facts


# -- eligibility (DOMAIN 1.5, GetAftersaleEligibility) -------------------------------------------

REQUEST_TYPES = ("CANCEL", "REFUND", "RETURN_AND_REFUND", "REPLACEMENT")
# A line can be cancelled until a label is created for it; after that it is returned once delivered.
CANCELLABLE = frozenset({"UNPAID", "AWAITING_SHIPMENT"})


@dataclass(frozen=True)
class Ineligible:
    code: str
    reason: str


def _held_lines(state: AfterSalesState, order_id: str) -> tuple[set[str], set[str]]:
    """(lines in a live return or a pending cancellation, lines a completed cancellation removed)."""
    held = {line["order_line_item_id"] for r in state.returns.values() if r["order_id"] == order_id
            and r["return_status"] in LIVE_RETURN for line in r["return_line_items"]}
    cancelled: set[str] = set()
    for c in state.cancellations.values():
        if c["order_id"] == order_id and c["cancel_status"] in LIVE_CANCEL:
            done = c["cancel_status"] != "CANCELLATION_REQUEST_PENDING"
            (cancelled if done else held).update(line["order_line_item_id"] for line in c["cancel_line_items"])
    return held, cancelled


def _ineligible(stage: str, request_type: str, region: str, reason: str | None = None) -> Ineligible | None:
    """Why a line at ``stage`` cannot get this request (with this reason), or None when it can."""
    if stage == "CANCELLED":
        return Ineligible("CANCELLED", "the item was cancelled")
    if request_type == "CANCEL":
        if stage in CANCELLABLE:
            return None
        return Ineligible("ALREADY_SHIPPED", "a label was created for the item: return it once it is delivered")
    if stage == "UNPAID":
        return Ineligible("NOT_PAID", "nothing has been paid for the item: cancel it instead")
    if request_type != "REFUND" and stage != "DELIVERED":
        return Ineligible("NOT_DELIVERED", "only a delivered item can be sent back or replaced")
    stages = ({RETURN_REASONS[reason].stages} if reason is not None else
              {r.stages for r in RETURN_REASONS.values() if region in r.markets})
    if any(stage in offered for offered in stages):
        return None
    if stage == "AWAITING_SHIPMENT":
        return Ineligible("NOT_SHIPPED", "the item has not shipped: cancel it instead")
    if reason is not None:
        return Ineligible("REASON_NOT_OFFERED", f"return_reason {reason} is not offered for an item that is {stage}")
    return Ineligible("NOT_DELIVERED", "only a delivered item can be refunded")


def _line_stages(state: AfterSalesState, facts: dict[str, Any]) -> dict[str, str]:
    _, cancelled = _held_lines(state, facts["order_id"])
    return {i: "CANCELLED" if i in cancelled else line["stage"] for i, line in facts["lines"].items()}


def _require_eligible(state: AfterSalesState, facts: dict[str, Any], request_type: str, ids: list[str],
                      field: str, reason: str | None = None) -> None:
    """Refuse the whole request (409 NOT_ELIGIBLE) when any of its lines cannot get it at its stage."""
    stages = _line_stages(state, facts)
    for i in ids:
        why = _ineligible(stages[i], request_type, facts["region"], reason)
        if why is not None:
            raise conflict(f"{i} is not eligible for {request_type} while {stages[i]}: {why.reason} "
                           f"({why.code})", code="NOT_ELIGIBLE", field=field)


async def eligibility(request: web.Request) -> web.Response:
    """What the buyer may ask for each line now: the after-sales service's own answer, per request type."""
    state = _state(request)
    facts = _order_facts(state, request.match_info["order_id"])
    held, _ = _held_lines(state, facts["order_id"])
    lines = []
    for line_id, stage in _line_stages(state, facts).items():
        answers = []
        for request_type in REQUEST_TYPES:
            why = _ineligible(stage, request_type, facts["region"])
            if why is None and line_id in held:
                why = Ineligible("IN_REQUEST", "the item is already in a return or a cancellation request")
            answers.append({"request_type": request_type, "eligible": why is None,
                            "ineligible_code": why.code if why else None,
                            "ineligible_reason": why.reason if why else None})
        lines.append({"order_line_item_id": line_id, "stage": stage, "eligibility": answers})
    return json_response({"order_id": facts["order_id"], "line_items": lines})


def _refund_lines(facts: dict[str, Any], ids: list[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    rate = Decimal(facts["tax_rate"])
    lines = []
    subtotal = Decimal(0)
    for i in ids:
        line = facts["lines"][i]
        price = Decimal(line["sale_price"])
        subtotal += price
        lines.append({"order_line_item_id": i, "sku_id": line["sku_id"], "product_name": line["product_name"],
                      "refund_amount": {"currency": facts["currency"], "refund_total": money(price * (1 + rate))}})
    tax = subtotal * rate
    total = {"currency": facts["currency"], "refund_total": money(subtotal + tax),
             "refund_subtotal": money(subtotal), "refund_shipping_fee": "0.00", "refund_tax": money(tax)}
    return lines, total


async def batch_get(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    ids = body.get("order_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise bad_request("order_ids must be a non-empty list of strings", field="order_ids")
    if len(ids) > MAX_BATCH:
        raise bad_request(f"at most {MAX_BATCH} order_ids per request", field="order_ids")
    state = _state(request)
    distinct = list(dict.fromkeys(ids))
    return json_response({"orders": [state.for_order(i) for i in distinct if i in state.facts],
                          "not_found": [i for i in distinct if i not in state.facts]})


async def for_order(request: web.Request) -> web.Response:
    state = _state(request)
    order_id = request.match_info["order_id"]
    _order_facts(state, order_id)  # 404 for an order after-sales does not know
    return json_response(state.for_order(order_id))


async def get_return(request: web.Request) -> web.Response:
    record = _state(request).returns.get(request.match_info["return_id"])
    if record is None:
        raise not_found(f"return {request.match_info['return_id']} does not exist")
    return json_response({"return": record})


def _issue_label(state: AfterSalesState, record: dict[str, Any], facts: dict[str, Any]) -> None:
    now = state.now()
    carrier = "ups" if facts["region"] == "US" else "royal-mail"
    record.update({
        "return_status": "AWAITING_BUYER_SHIP", "approve_time": now, "update_time": now,
        "return_shipping_document_type": "QR_CODE", "return_provider_name": CARRIER_NAMES[carrier],
        "return_tracking_number": tracking_number(carrier, record["combined_return_id"]),
        "ship_due_time": now + int(timedelta(days=14).total_seconds()),
        "seller_next_action_response": [],
    })


def _check_reason(reason: str | None, region: str, field: str) -> str:
    if not isinstance(reason, str) or reason not in RETURN_REASONS:
        raise bad_request(f"unknown return_reason {reason}", field=field)
    if not reason_offered(reason, region):
        raise bad_request(f"return_reason {reason} is not offered in {region}", field=field)
    return reason


def _check_note(note: Any, field: str) -> str | None:
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise bad_request("buyer_note must be a string of at most 500 characters", field=field)
    return note


def _build_returns(state: AfterSalesState, body: dict[str, Any],
                   groups: list[tuple[str, list[str], str | None]]) -> list[dict[str, Any]]:
    """Validate a whole request (one or several reason groups), then build its returns: all or nothing."""
    order_id = _str(body, "order_id")
    assert order_id is not None
    facts = _order_facts(state, order_id)
    if body.get("buyer_user_id") != facts["buyer_user_id"]:
        raise not_found(f"order {order_id} is unknown to after-sales")
    return_type = _str(body, "return_type")
    if return_type not in RETURN_TYPES:
        raise bad_request(f"return_type must be one of {sorted(RETURN_TYPES)}", field="return_type")
    handover = body.get("handover_method", "DROP_OFF")
    if handover not in ("DROP_OFF", "PICKUP"):
        raise bad_request("handover_method must be DROP_OFF or PICKUP", field="handover_method")
    all_ids = [i for _, ids, _ in groups for i in ids]
    if len(set(all_ids)) != len(all_ids):
        raise bad_request("a line can be in one group only", field="groups")
    held, cancelled = _held_lines(state, order_id)
    clash = sorted(set(all_ids) & (held | cancelled))
    if clash:
        raise conflict(f"lines already in a return or cancellation: {clash}", code="DUPLICATE_REQUEST",
                       field="order_line_item_ids")
    for n, (reason, ids, _) in enumerate(groups):
        where = f"groups[{n}].order_line_item_ids" if "groups" in body else "order_line_item_ids"
        _require_eligible(state, facts, return_type, ids, where, reason)
    combined = body.get("combined_return_id")
    group: list[dict[str, Any]] = []
    if combined is not None:
        if not isinstance(combined, str):
            raise bad_request("combined_return_id must be a string", field="combined_return_id")
        group = [r for r in state.returns.values() if r["combined_return_id"] == combined]
        if not group or group[0]["order_id"] != order_id:
            raise not_found(f"combined return {combined} does not exist for this order")
        live = [r for r in group if r["return_status"] not in CLOSED_RETURN]
        if not live or any(r["return_status"] not in OPEN_RETURN for r in live):
            raise conflict("items can only be added before the parcel ships back", code="RETURN_NOT_OPEN",
                           field="combined_return_id")
    now = state.now()
    shop = state.shops.get(facts["shop_id"])
    group_approved = any(r["return_status"] == "AWAITING_BUYER_SHIP" for r in group)
    records = []
    for reason, ids, note in groups:
        rid = state.next_id(f"ret-{order_id.removeprefix('ord-')}")
        combined = combined or f"cmb-{rid}"
        lines, total = _refund_lines(facts, ids)
        record: dict[str, Any] = {
            "return_id": rid, "order_id": order_id, "combined_return_id": combined,
            "buyer_user_id": facts["buyer_user_id"], "shop_id": facts["shop_id"], "role": "BUYER",
            "return_type": return_type,
            "return_status": "REPLACEMENT_REQUEST_PENDING" if return_type == "REPLACEMENT"
            else "RETURN_OR_REFUND_REQUEST_PENDING",
            "arbitration_status": None, "return_reason": reason, "return_reason_text": return_reason_text(reason),
            "buyer_note": note,
            "return_line_items": [{**line, "return_line_item_id": f"{rid}-{n + 1}"} for n, line in enumerate(lines)],
            "refund_amount": total, "handover_method": handover, "return_shipping_document_type": None,
            "return_provider_name": None, "return_tracking_number": None, "ship_due_time": None,
            "seller_next_action_response": [{"action": "SELLER_RESPOND_RETURN", "deadline": now + 86400}],
            "create_time": now, "update_time": now, "approve_time": None, "buyer_ship_time": None,
            "receive_time": None, "refund_time": None, "reject_reason": None,
            "can_buyer_keep_item": return_type == "REFUND",
        }
        if return_type == "RETURN_AND_REFUND" and (group_approved or (shop is not None and shop.auto_approve_returns)):
            _issue_label(state, record, facts)
        records.append(record)
    return records


async def create_return(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    state = _state(request)
    write = state.ledger.begin(request, body)
    if write.replayed is not None:
        return write.replayed
    facts = _order_facts(state, _str(body, "order_id") or "")
    reason = _check_reason(body.get("return_reason"), facts["region"], "return_reason")
    ids = _line_ids(body, facts, required=True)
    (record,) = _build_returns(state, body, [(reason, ids, _check_note(body.get("buyer_note"), "buyer_note"))])
    state.returns[record["return_id"]] = record
    return write.remember(json_response({"return": record}, status=201))


async def batch_create_returns(request: web.Request) -> web.Response:
    """Several returns, one per reason, in one parcel (one ``combined_return_id``), created atomically."""
    body = await read_json_object(request)
    state = _state(request)
    write = state.ledger.begin(request, body)
    if write.replayed is not None:
        return write.replayed
    facts = _order_facts(state, _str(body, "order_id") or "")
    raw_groups = body.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups or len(raw_groups) > 20:
        raise bad_request("groups must be a list of 1 to 20 {return_reason, order_line_item_ids}", field="groups")
    groups = []
    for n, raw in enumerate(raw_groups):
        if not isinstance(raw, dict):
            raise bad_request("each group must be an object", field=f"groups[{n}]")
        reason = _check_reason(raw.get("return_reason"), facts["region"], f"groups[{n}].return_reason")
        ids = _line_ids(raw, facts, required=True)
        groups.append((reason, ids, _check_note(raw.get("buyer_note"), f"groups[{n}].buyer_note")))
    records = _build_returns(state, body, groups)
    for record in records:
        state.returns[record["return_id"]] = record
    return write.remember(json_response({"returns": records}, status=201))


def _apply_transition(state: AfterSalesState, record: dict[str, Any], action: str, body: dict[str, Any]) -> None:
    status = record["return_status"]
    now = state.now()
    facts = state.facts[record["order_id"]]
    # A replacement keeps its own vocabulary when it is withdrawn or turned down.
    closed = "REPLACEMENT_REQUEST" if record["return_type"] == "REPLACEMENT" else "RETURN_OR_REFUND_REQUEST"
    if action == "cancel":
        if status not in OPEN_RETURN:
            raise conflict(f"a return in {status} can no longer be cancelled", code="RETURN_NOT_OPEN")
        record.update(return_status=f"{closed}_CANCEL", update_time=now, seller_next_action_response=[])
    elif status not in ("RETURN_OR_REFUND_REQUEST_PENDING", "REPLACEMENT_REQUEST_PENDING"):
        raise conflict(f"a return in {status} is not waiting for the seller", code="NOT_PENDING")
    elif action == "approve":
        if record["return_type"] == "RETURN_AND_REFUND":
            _issue_label(state, record, facts)
        else:
            record.update(return_status="RETURN_OR_REFUND_REQUEST_SUCCESS", approve_time=now, update_time=now,
                          seller_next_action_response=[])
    else:
        reason = _str(body, "reject_reason")
        record.update(return_status=f"{closed}_REJECT", reject_reason=reason, update_time=now,
                      seller_next_action_response=[])


def _actor_field(action: str) -> str:
    return "buyer_user_id" if action == "cancel" else "shop_id"


async def _transition_return(request: web.Request, action: str) -> web.Response:
    body = await read_json_object(request)
    state = _state(request)
    write = state.ledger.begin(request, body)
    if write.replayed is not None:
        return write.replayed
    record = state.returns.get(request.match_info["return_id"])
    actor = _actor_field(action)
    if record is None or body.get(actor) != record[actor]:
        raise not_found(f"return {request.match_info['return_id']} does not exist")
    _apply_transition(state, record, action, body)
    return write.remember(json_response({"return": record}))


async def cancel_return(request: web.Request) -> web.Response:
    return await _transition_return(request, "cancel")


async def approve_return(request: web.Request) -> web.Response:
    return await _transition_return(request, "approve")


async def reject_return(request: web.Request) -> web.Response:
    return await _transition_return(request, "reject")


async def transition_combined(request: web.Request) -> web.Response:
    """Cancel, approve or reject every live return of one parcel at once (all or nothing)."""
    action = request.match_info["action"]
    if action not in ("cancel", "approve", "reject"):
        raise not_found(f"no action {action}")
    body = await read_json_object(request)
    state = _state(request)
    write = state.ledger.begin(request, body)
    if write.replayed is not None:
        return write.replayed
    combined = request.match_info["combined_id"]
    actor = _actor_field(action)
    group = [r for r in state.returns.values() if r["combined_return_id"] == combined]
    if not group or body.get(actor) != group[0][actor]:
        raise not_found(f"combined return {combined} does not exist")
    live = [r for r in group if r["return_status"] in LIVE_RETURN]
    if not live:
        raise conflict("nothing in this return can change any more", code="RETURN_NOT_OPEN")
    before = copy.deepcopy(live)
    try:
        for record in live:
            _apply_transition(state, record, action, body)
    except Exception:
        for record, saved in zip(live, before, strict=True):
            record.clear()
            record.update(saved)
        raise
    return write.remember(json_response({"returns": group}))


async def create_cancellation(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    state = _state(request)
    write = state.ledger.begin(request, body)
    if write.replayed is not None:
        return write.replayed
    order_id = _str(body, "order_id")
    assert order_id is not None
    facts = _order_facts(state, order_id)
    role = body.get("role")
    if role not in ("BUYER", "SELLER"):
        raise bad_request("role must be BUYER or SELLER", field="role")
    actor = "buyer_user_id" if role == "BUYER" else "shop_id"
    if body.get(actor) != facts[actor]:
        raise not_found(f"order {order_id} is unknown to after-sales")
    reason = _str(body, "cancel_reason")
    if reason not in CANCEL_REASONS:
        raise bad_request(f"unknown cancel_reason {reason}", field="cancel_reason")
    if reason in SYSTEM_CANCEL_REASONS:
        raise bad_request(f"cancel_reason {reason} is the platform's own; a {role.lower()} cannot use it",
                          field="cancel_reason")
    ids = _line_ids(body, facts, required=False)
    taken = {line["order_line_item_id"] for c in state.cancellations.values() if c["order_id"] == order_id
             and c["cancel_status"] in LIVE_CANCEL for line in c["cancel_line_items"]}
    clash = sorted(set(ids) & taken)
    if clash:
        raise conflict(f"lines already cancelled or pending cancellation: {clash}", code="DUPLICATE_REQUEST",
                       field="order_line_item_ids")
    _require_eligible(state, facts, "CANCEL", ids, "order_line_item_ids")
    now = state.now()
    paid = facts["paid_time"]
    shop = state.shops.get(facts["shop_id"])
    grace = 3600 + 3600 * (shop.auto_approve_cancel_hours if shop else 0)
    # Unpaid orders and the free-cancel hour need nobody's approval; after that the seller decides.
    instant = role == "SELLER" or paid is None or (facts["is_on_hold_order"] and now < paid + grace)
    lines, total = _refund_lines(facts, ids)
    if paid is None:
        total = {**total, "refund_total": "0.00", "refund_subtotal": "0.00", "refund_tax": "0.00"}
    elif set(ids) == set(facts["lines"]):
        # Cancelling every line of a paid order refunds its shipping too, as the catalogue's own
        # whole-order cancellations do; a partial cancellation refunds no shipping.
        shipping = Decimal(facts["shipping_fee"])
        total = {**total, "refund_shipping_fee": money(shipping),
                 "refund_total": money(Decimal(total["refund_total"]) + shipping)}
    cid = state.next_id(f"cxl-{order_id.removeprefix('ord-')}")
    record = {
        "cancel_id": cid, "order_id": order_id, "buyer_user_id": facts["buyer_user_id"],
        "shop_id": facts["shop_id"], "role": role, "cancel_type": "BUYER_CANCEL" if role == "BUYER" else "CANCEL",
        "cancel_status": "CANCELLATION_REQUEST_COMPLETE" if instant else "CANCELLATION_REQUEST_PENDING",
        "cancel_reason": reason, "cancel_reason_text": CANCEL_REASONS[reason], "cancel_line_items": lines,
        "refund_amount": total,
        "seller_next_action_response": [] if instant else [
            {"action": "SELLER_RESPOND_CANCEL", "deadline": now + 86400}],
        "create_time": now, "update_time": now, "reject_reason": None,
    }
    state.cancellations[cid] = record
    return write.remember(json_response({"cancellation": record}, status=201))


async def _respond_cancellation(request: web.Request, approve: bool) -> web.Response:
    body = await read_json_object(request)
    state = _state(request)
    write = state.ledger.begin(request, body)
    if write.replayed is not None:
        return write.replayed
    record = state.cancellations.get(request.match_info["cancel_id"])
    if record is None or body.get("shop_id") != record["shop_id"]:
        raise not_found(f"cancellation {request.match_info['cancel_id']} does not exist")
    if record["cancel_status"] != "CANCELLATION_REQUEST_PENDING":
        raise conflict(f"cancellation is {record['cancel_status']}, not pending", code="NOT_PENDING")
    now = state.now()
    if approve:
        record.update(cancel_status="CANCELLATION_REQUEST_COMPLETE", update_time=now, seller_next_action_response=[])
    else:
        record.update(cancel_status="CANCELLATION_REQUEST_CANCEL", update_time=now, seller_next_action_response=[],
                      reject_reason=_str(body, "reject_reason"))
    return write.remember(json_response({"cancellation": record}))


async def approve_cancellation(request: web.Request) -> web.Response:
    return await _respond_cancellation(request, True)


async def reject_cancellation(request: web.Request) -> web.Response:
    return await _respond_cancellation(request, False)


def _routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/aftersales/batch_get", batch_get, name="aftersales.batch")
    r.add_get("/orders/{order_id}/aftersales", for_order, name="aftersales.order")
    r.add_get("/orders/{order_id}/aftersale_eligibility", eligibility, name="aftersales.eligibility")
    r.add_post("/returns", create_return, name="returns.create")
    r.add_post("/returns/batch_create", batch_create_returns, name="returns.batch_create")
    r.add_post("/combined_returns/{combined_id}/{action}", transition_combined, name="returns.combined_action")
    r.add_get("/returns/{return_id}", get_return, name="returns.get")
    r.add_post("/returns/{return_id}/cancel", cancel_return, name="returns.cancel")
    r.add_post("/returns/{return_id}/approve", approve_return, name="returns.approve")
    r.add_post("/returns/{return_id}/reject", reject_return, name="returns.reject")
    r.add_post("/cancellations", create_cancellation, name="cancellations.create")
    r.add_post("/cancellations/{cancel_id}/approve", approve_cancellation, name="cancellations.approve")
    r.add_post("/cancellations/{cancel_id}/reject", reject_cancellation, name="cancellations.reject")


def create_app(config: MockConfig | None = None) -> web.Application:
    box: StateBox[AfterSalesState] = StateBox()
    corruption = CorruptionSpec(required_fields=("return_status", "cancel_status", "returns"),
                                enum_fields=("return_status", "cancel_status"),
                                date_fields=("create_time",), bad_date=-62_135_596_801)
    app = make_app("aftersales", config or MockConfig(), AfterSalesState.load, box, _routes, corruption)
    app[STATE] = box
    return app
