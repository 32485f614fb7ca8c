"""The order service mock: TikTok-Shop-like orders with unit line items and packages.

Routes (all JSON; errors in the shared shape, see ``mocks/control.py``):
  GET  /orders?ids=a,b           batch get (1-50 ids); unknown ids are listed in ``not_found``
  GET  /orders/{order_id}        one order, 404 when unknown
  POST /orders/search            a buyer's or a shop's orders, newest first, keyset-paginated
  POST /orders/{id}/recipient_address   change the shipping address before anything ships; fields left
                                        out or null keep their current value
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from mocks.catalog import World
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

ORDER_STATUSES = frozenset({
    "UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION", "IN_TRANSIT",
    "DELIVERED", "COMPLETED", "CANCELLED",
})
ADDRESS_EDITABLE = frozenset({"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT"})
MAX_BATCH = 50
MAX_PAGE = 100


@dataclass
class OrdersState:
    clock: MockClock
    orders: dict[str, dict[str, Any]]
    by_buyer: dict[str, list[str]] = field(default_factory=dict)
    by_shop: dict[str, list[str]] = field(default_factory=dict)
    ledger: IdempotencyLedger = field(default_factory=IdempotencyLedger)

    @classmethod
    def load(cls, world: World, clock: MockClock) -> OrdersState:
        state = cls(clock, copy.deepcopy(world.orders))
        newest_first = sorted(state.orders.values(), key=lambda o: (-o["create_time"], o["id"]))
        for order in newest_first:
            state.by_buyer.setdefault(order["buyer_user_id"], []).append(order["id"])
            state.by_shop.setdefault(order["shop_id"], []).append(order["id"])
        return state


STATE: web.AppKey[StateBox[OrdersState]] = web.AppKey("orders_state", StateBox)


def _state(request: web.Request) -> OrdersState:
    return request.app[STATE].state


async def batch_get(request: web.Request) -> web.Response:
    raw = request.query.get("ids", "")
    ids = [i for i in raw.split(",") if i]
    if not ids:
        raise bad_request("ids is required: a comma-separated list of order ids", field="ids")
    if len(ids) > MAX_BATCH:
        raise bad_request(f"at most {MAX_BATCH} ids per request", field="ids")
    orders = _state(request).orders
    found = [orders[i] for i in dict.fromkeys(ids) if i in orders]
    missing = [i for i in dict.fromkeys(ids) if i not in orders]
    return json_response({"orders": found, "not_found": missing})


async def get_one(request: web.Request) -> web.Response:
    order = _state(request).orders.get(request.match_info["order_id"])
    if order is None:
        raise not_found(f"order {request.match_info['order_id']} does not exist")
    return json_response({"order": order})


def _encode_token(order: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([order["create_time"], order["id"]])).decode()


def _decode_token(token: str) -> tuple[int, str]:
    try:
        create_time, order_id = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise bad_request("page_token is not one this service issued", field="page_token") from exc
    if not isinstance(create_time, int) or not isinstance(order_id, str):
        raise bad_request("page_token is not one this service issued", field="page_token")
    return create_time, order_id


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(f"{name} must be an integer (unix seconds)", field=name)
    return value


async def search(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    state = _state(request)
    buyer, shop = body.get("buyer_user_id"), body.get("shop_id")
    if (buyer is None) == (shop is None):
        raise bad_request("exactly one of buyer_user_id or shop_id is required")
    for name, value in (("buyer_user_id", buyer), ("shop_id", shop)):
        if value is not None and not isinstance(value, str):
            raise bad_request(f"{name} must be a string", field=name)
    statuses = body.get("order_status")
    if statuses is not None:
        if not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses):
            raise bad_request("order_status must be a list of strings", field="order_status")
        unknown = set(statuses) - ORDER_STATUSES
        if unknown:
            raise bad_request(f"unknown order_status {sorted(unknown)}", field="order_status")
    page_size = body.get("page_size", 20)
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= MAX_PAGE:
        raise bad_request(f"page_size must be an integer from 1 to {MAX_PAGE}", field="page_size")
    ge, lt = _optional_int(body, "create_time_ge"), _optional_int(body, "create_time_lt")
    token = body.get("page_token")
    if token is not None and not isinstance(token, str):
        raise bad_request("page_token must be a string", field="page_token")
    after = _decode_token(token) if token else None

    ids = state.by_buyer.get(buyer, []) if buyer else state.by_shop.get(shop or "", [])
    matching = []
    for oid in ids:
        order = state.orders[oid]
        if statuses is not None and order["status"] not in statuses:
            continue
        if ge is not None and order["create_time"] < ge:
            continue
        if lt is not None and order["create_time"] >= lt:
            continue
        matching.append(order)
    start = 0
    if after is not None:
        # Keyset: the first order strictly after the cursor in (create_time desc, id asc) order.
        start = next((i for i, o in enumerate(matching) if (-o["create_time"], o["id"]) > (-after[0], after[1])),
                     len(matching))
    page = matching[start : start + page_size]
    more = start + page_size < len(matching)
    return json_response({
        "orders": page,
        "next_page_token": _encode_token(page[-1]) if more and page else None,
        "total_count": len(matching),
    })


ADDRESS_FIELDS = {
    "name": False, "phone_number": False, "address_line1": True, "address_line2": False, "city": True,
    "state": False, "postal_code": True, "region_code": True,
}


async def update_address(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    state = _state(request)
    write = state.ledger.begin(request, body)
    if write.replayed is not None:
        return write.replayed
    order = state.orders.get(request.match_info["order_id"])
    if order is None:
        raise not_found(f"order {request.match_info['order_id']} does not exist")
    unknown = set(body) - set(ADDRESS_FIELDS) - {"requested_by"}
    if unknown:
        raise bad_request(f"unknown fields {sorted(unknown)}")
    for name, required in ADDRESS_FIELDS.items():
        value = body.get(name)
        if required and (not isinstance(value, str) or not value.strip()):
            raise bad_request(f"{name} is required", field=name)
        if value is not None and not isinstance(value, str):
            raise bad_request(f"{name} must be a string", field=name)
    if body["region_code"] != order["region"]:
        raise bad_request("the new address must be in the order's region", field="region_code")
    if order["status"] not in ADDRESS_EDITABLE or any(p["status"] != "TO_FULFILL" for p in order["packages"]):
        raise conflict("unable to change address: the order has shipped or is being shipped",
                       code="ADDRESS_LOCKED")
    current = order["recipient_address"]
    # A field left out or sent as null keeps its current value; "" clears an optional one.
    order["recipient_address"] = {
        k: body[k] if body.get(k) is not None else current.get(k) or "" for k in ADDRESS_FIELDS}
    order["has_updated_recipient_address"] = True
    order["update_time"] = int(state.clock.now().timestamp())
    return write.remember(json_response({"order": order}))


def _routes(app: web.Application) -> None:
    app.router.add_get("/orders", batch_get, name="orders.batch")
    app.router.add_post("/orders/search", search, name="orders.search")
    app.router.add_get("/orders/{order_id}", get_one, name="orders.get")
    app.router.add_post("/orders/{order_id}/recipient_address", update_address, name="orders.update_address")


def create_app(config: MockConfig | None = None) -> web.Application:
    box: StateBox[OrdersState] = StateBox()
    corruption = CorruptionSpec(required_fields=("line_items", "orders"), enum_fields=("status",),
                                date_fields=("create_time",), bad_date=-62_135_596_801)
    app = make_app("orders", config or MockConfig(), OrdersState.load, box, _routes, corruption)
    app[STATE] = box
    return app
