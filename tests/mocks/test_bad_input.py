"""Bad input on every public route: unknown ids, broken JSON, wrong types, oversized batches; never a 500.

Every error answer is also checked against the route's documented error shape and status.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from mocks.catalog import build_world
from tests.mocks.contract import Contract, Exchange, cancel_id, combined_id, return_id
from tests.upstreams import TEST_NOW, MockUpstreams

WORLD = build_world(TEST_NOW)
ALICE, OLIVIA = "buyer-us-alice", "buyer-uk-olivia"
THREADLINE, HEARTH, TEA_CO = "shop-us-threadline", "shop-us-hearth-home", "shop-uk-kettle-tea"
RETURN = "ecom_order_delivered_refund_and_return_reason_"
_PKG = WORLD.orders["ord-us-in-transit"]["packages"][0]
TRACKING = {"slug": _PKG["shipping_provider_id"], "tracking_number": _PKG["tracking_number"]}
ADDRESS = {"address_line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "region_code": "US"}
CREATE_RETURN = {"order_id": "ord-us-delivered", "buyer_user_id": ALICE, "return_type": "REFUND",
                 "return_reason": RETURN + "damaged", "order_line_item_ids": ["ord-us-delivered-l1"]}
BATCH_RETURN = {"order_id": "ord-us-delivered", "buyer_user_id": ALICE, "return_type": "REFUND",
                "groups": [{"return_reason": RETURN + "damaged", "order_line_item_ids": ["ord-us-delivered-l1"]},
                           {"return_reason": RETURN + "not_fit", "order_line_item_ids": ["ord-us-delivered-l2"]}]}
CREATE_CANCELLATION = {"order_id": "ord-us-awaiting-shipment", "role": "BUYER", "buyer_user_id": ALICE,
                       "cancel_reason": "cancel_reason_dont_want_to_wait"}

# Every POST route, with a body it accepts (on a fresh world).
POST_ROUTES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "orders.search": ("orders", "/orders/search", {"buyer_user_id": ALICE}),
    "orders.update_address": ("orders", "/orders/ord-us-on-hold/recipient_address", ADDRESS),
    "trackings.batch": ("carrier", "/trackings/batch_get", {"trackings": [TRACKING]}),
    "aftersales.batch": ("aftersales", "/aftersales/batch_get", {"order_ids": ["ord-us-refunded"]}),
    "returns.create": ("aftersales", "/returns", CREATE_RETURN),
    "returns.batch_create": ("aftersales", "/returns/batch_create", BATCH_RETURN),
    "returns.combined_action": ("aftersales", f"/combined_returns/{combined_id('ord-us-return-in-progress')}/cancel",
                                {"buyer_user_id": ALICE}),
    "returns.cancel": ("aftersales", f"/returns/{return_id('ord-us-return-in-progress')}/cancel",
                       {"buyer_user_id": ALICE}),
    "returns.approve": ("aftersales", f"/returns/{return_id('ord-us-not-received')}/approve", {"shop_id": THREADLINE}),
    "returns.reject": ("aftersales", f"/returns/{return_id('ord-uk-not-received')}/reject",
                       {"shop_id": TEA_CO, "reject_reason": "Proof of delivery attached"}),
    "cancellations.create": ("aftersales", "/cancellations", CREATE_CANCELLATION),
    "cancellations.approve": ("aftersales", f"/cancellations/{cancel_id('ord-us-cancel-requested')}/approve",
                              {"shop_id": HEARTH}),
    "cancellations.reject": ("aftersales", f"/cancellations/{cancel_id('ord-us-cancel-requested')}/reject",
                             {"shop_id": HEARTH, "reject_reason": "Already packed"}),
}
WRITES = [name for name in POST_ROUTES if not name.endswith(("search", "batch"))]


async def send(mocks: MockUpstreams, service: str, method: str, target: str, *, json: Any = None,
               data: bytes | None = None, headers: dict[str, str] | None = None) -> Exchange:
    """One request; the answer must conform to the service's document and never be a 500."""
    contract = Contract(mocks)
    exchange = await contract.raw(service, method, target, json=json, data=data, headers=headers)
    assert exchange.status < 500, exchange
    contract.check(exchange, request=False)
    return exchange


def assert_error(exchange: Exchange, status: int, code: str, field: str | None = None) -> None:
    assert exchange.status == status, exchange
    error = exchange.body["error"]
    assert error["code"] == code, exchange
    if field is not None:
        assert error.get("field") == field, exchange


# ---- unknown ids ----------------------------------------------------------------------------------

UNKNOWN: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("orders", "GET", "/orders/ord-missing", None),
    ("orders", "POST", "/orders/ord-missing/recipient_address", ADDRESS),
    ("carrier", "GET", "/trackings/ups/1ZMISSING", None),
    ("carrier", "GET", f"/trackings/no-such-carrier/{TRACKING['tracking_number']}", None),
    ("carrier", "GET", f"/trackings/{'ups' if TRACKING['slug'] != 'ups' else 'usps'}/{TRACKING['tracking_number']}",
     None),
    ("aftersales", "GET", "/returns/ret-missing", None),
    ("aftersales", "POST", "/returns", {**CREATE_RETURN, "order_id": "ord-missing"}),
    ("aftersales", "POST", "/returns", {**CREATE_RETURN, "combined_return_id": "cmb-missing"}),
    ("aftersales", "POST", "/returns", {**CREATE_RETURN, "combined_return_id": combined_id("ord-us-return-in-progress"),
                                        "order_id": "ord-us-delivered"}),  # another order's parcel
    ("aftersales", "POST", "/returns/ret-missing/cancel", {"buyer_user_id": ALICE}),
    ("aftersales", "POST", "/returns/batch_create", {**BATCH_RETURN, "order_id": "ord-missing"}),
    ("aftersales", "POST", "/returns/batch_create", {**BATCH_RETURN, "buyer_user_id": "buyer-us-bob"}),
    ("aftersales", "POST", "/returns/batch_create", {**BATCH_RETURN, "combined_return_id": "cmb-missing"}),
    ("aftersales", "POST", "/combined_returns/cmb-missing/cancel", {"buyer_user_id": ALICE}),
    ("aftersales", "POST", f"/combined_returns/{combined_id('ord-us-return-in-progress')}/cancel",
     {"buyer_user_id": "buyer-us-bob"}),
    ("aftersales", "POST", f"/combined_returns/{combined_id('ord-us-return-in-progress')}/explode",
     {"buyer_user_id": ALICE}),
    ("aftersales", "POST", "/returns/ret-missing/approve", {"shop_id": THREADLINE}),
    ("aftersales", "POST", "/returns/ret-missing/reject", {"shop_id": THREADLINE, "reject_reason": "x"}),
    ("aftersales", "POST", "/cancellations", {**CREATE_CANCELLATION, "order_id": "ord-missing"}),
    ("aftersales", "POST", "/cancellations/cxl-missing/approve", {"shop_id": HEARTH}),
    ("aftersales", "POST", "/cancellations/cxl-missing/reject", {"shop_id": HEARTH, "reject_reason": "x"}),
    # Someone else's order, return or cancellation is as good as unknown.
    ("aftersales", "POST", "/returns", {**CREATE_RETURN, "buyer_user_id": "buyer-us-bob"}),
    ("aftersales", "POST", "/returns", {k: v for k, v in CREATE_RETURN.items() if k != "buyer_user_id"}),
    ("aftersales", "POST", f"/returns/{return_id('ord-us-return-in-progress')}/cancel",
     {"buyer_user_id": "buyer-us-bob"}),
    ("aftersales", "POST", f"/returns/{return_id('ord-us-not-received')}/approve", {"shop_id": HEARTH}),
    ("aftersales", "POST", f"/returns/{return_id('ord-us-not-received')}/reject", {"reject_reason": "x"}),
    ("aftersales", "POST", "/cancellations", {**CREATE_CANCELLATION, "buyer_user_id": "buyer-us-bob"}),
    ("aftersales", "POST", "/cancellations", {**CREATE_CANCELLATION, "role": "SELLER", "shop_id": THREADLINE}),
    ("aftersales", "POST", f"/cancellations/{cancel_id('ord-us-cancel-requested')}/approve", {"shop_id": THREADLINE}),
]


@pytest.mark.parametrize(("service", "method", "target", "body"), UNKNOWN,
                         ids=[f"{m} {t}" for _, m, t, _ in UNKNOWN])
async def test_an_unknown_id_is_a_404(mocks: MockUpstreams, service: str, method: str, target: str,
                                      body: dict[str, Any] | None) -> None:
    assert_error(await send(mocks, service, method, target, json=body), 404, "NOT_FOUND")


async def test_an_unknown_order_has_no_aftersales_record(mocks: MockUpstreams) -> None:
    assert_error(await send(mocks, "aftersales", "GET", "/orders/ord-missing/aftersales"), 404, "NOT_FOUND")


async def test_batch_routes_list_unknown_ids_instead_of_failing(mocks: MockUpstreams) -> None:
    exchange = await send(mocks, "orders", "GET", "/orders?ids=ord-missing,ord-us-late,ord-missing,,ord-gone")
    assert [o["id"] for o in exchange.body["orders"]] == ["ord-us-late"]
    assert exchange.body["not_found"] == ["ord-missing", "ord-gone"]  # once each, in request order
    missing = {"slug": "ups", "tracking_number": "1ZMISSING"}
    exchange = await send(mocks, "carrier", "POST", "/trackings/batch_get",
                          json={"trackings": [missing, TRACKING, missing]})
    assert len(exchange.body["trackings"]) == 1 and exchange.body["not_found"] == [missing]


async def test_the_aftersales_batch_lists_unknown_orders_in_not_found(mocks: MockUpstreams) -> None:
    exchange = await send(mocks, "aftersales", "POST", "/aftersales/batch_get",
                          json={"order_ids": ["ord-us-refunded", "ord-missing"]})
    assert [entry["order_id"] for entry in exchange.body["orders"]] == ["ord-us-refunded"]
    assert exchange.body["not_found"] == ["ord-missing"]
    exchange = await send(mocks, "aftersales", "POST", "/aftersales/batch_get",
                          json={"order_ids": ["ord-gone", "ord-us-refunded", "ord-gone", "ord-missing"]})
    assert [entry["order_id"] for entry in exchange.body["orders"]] == ["ord-us-refunded"]
    assert exchange.body["not_found"] == ["ord-gone", "ord-missing"]  # once each, in request order


@pytest.mark.parametrize("service", ["orders", "carrier", "aftersales"])
async def test_unknown_routes_and_methods_answer_in_the_shared_error_shape(mocks: MockUpstreams,
                                                                           service: str) -> None:
    contract = Contract(mocks)
    exchange = await contract.raw(service, "GET", "/no/such/route")
    assert_error(exchange, 404, "NOT_FOUND")
    exchange = await contract.raw(service, "DELETE", "/health")
    assert_error(exchange, 405, "METHOD_NOT_ALLOWED")
    assert set(exchange.body["error"]) == {"code", "message"}


# ---- malformed JSON -------------------------------------------------------------------------------

MALFORMED_BODIES = [b"", b"{", b'{"order_id": }', b"[]", b'"text"', b"null", b"42", b"\xff\xfe{}", b"NaN",
                    b'{"a": 1} trailing']


@pytest.mark.parametrize("route", list(POST_ROUTES))
async def test_malformed_json_on_every_post_route_is_a_400(mocks: MockUpstreams, route: str) -> None:
    service, target, _ = POST_ROUTES[route]
    for payload in MALFORMED_BODIES:
        exchange = await send(mocks, service, "POST", target, data=payload,
                              headers={"Content-Type": "application/json"})
        assert_error(exchange, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("route", list(POST_ROUTES))
async def test_a_body_over_one_mebibyte_is_a_413(mocks: MockUpstreams, route: str) -> None:
    service, target, _ = POST_ROUTES[route]
    exchange = await send(mocks, service, "POST", target, data=b'{"pad": "' + b"x" * (1 << 20) + b'"}')
    assert_error(exchange, 413, "HTTP_ERROR")


# ---- wrong types and bad values -------------------------------------------------------------------

US_ONLY, GB_ONLY = RETURN + "not_fit", RETURN + "too_big"
BAD_VALUES: list[tuple[str, dict[str, Any], str | None]] = [
    # orders.search
    ("orders.search", {"buyer_user_id": 5}, "buyer_user_id"),
    ("orders.search", {"shop_id": ["shop-us-threadline"]}, "shop_id"),
    ("orders.search", {}, None),
    ("orders.search", {"buyer_user_id": ALICE, "shop_id": THREADLINE}, None),
    ("orders.search", {"buyer_user_id": ALICE, "order_status": "IN_TRANSIT"}, "order_status"),
    ("orders.search", {"buyer_user_id": ALICE, "order_status": [1]}, "order_status"),
    ("orders.search", {"buyer_user_id": ALICE, "order_status": ["TELEPORTED"]}, "order_status"),
    ("orders.search", {"buyer_user_id": ALICE, "page_size": "20"}, "page_size"),
    ("orders.search", {"buyer_user_id": ALICE, "page_size": True}, "page_size"),
    ("orders.search", {"buyer_user_id": ALICE, "page_size": 0}, "page_size"),
    ("orders.search", {"buyer_user_id": ALICE, "page_size": 101}, "page_size"),
    ("orders.search", {"buyer_user_id": ALICE, "page_size": 2.5}, "page_size"),
    ("orders.search", {"buyer_user_id": ALICE, "create_time_ge": "yesterday"}, "create_time_ge"),
    ("orders.search", {"buyer_user_id": ALICE, "create_time_lt": 1.5}, "create_time_lt"),
    ("orders.search", {"buyer_user_id": ALICE, "create_time_lt": False}, "create_time_lt"),
    ("orders.search", {"buyer_user_id": ALICE, "page_token": 5}, "page_token"),
    ("orders.search", {"buyer_user_id": ALICE, "page_token": "not-a-token!"}, "page_token"),
    ("orders.search", {"buyer_user_id": ALICE, "page_token": "W10="}, "page_token"),  # base64 of []
    ("orders.search", {"buyer_user_id": ALICE, "page_token": "eyJhIjoxfQ=="}, "page_token"),  # {"a":1}
    ("orders.search", {"buyer_user_id": ALICE, "page_token": "WyJ4IiwxXQ=="}, "page_token"),  # ["x",1]
    # orders.update_address
    ("orders.update_address", {**ADDRESS, "city": 5}, "city"),
    ("orders.update_address", {**ADDRESS, "address_line1": "   "}, "address_line1"),
    ("orders.update_address", {k: v for k, v in ADDRESS.items() if k != "postal_code"}, "postal_code"),
    ("orders.update_address", {**ADDRESS, "region_code": "GB"}, "region_code"),
    ("orders.update_address", {**ADDRESS, "region_code": None}, "region_code"),
    ("orders.update_address", {**ADDRESS, "name": 7}, "name"),
    ("orders.update_address", {**ADDRESS, "address_line2": ["flat 2"]}, "address_line2"),
    ("orders.update_address", {**ADDRESS, "country": "US"}, None),
    # trackings.batch
    ("trackings.batch", {}, "trackings"),
    ("trackings.batch", {"trackings": "ups/1Z"}, "trackings"),
    ("trackings.batch", {"trackings": []}, "trackings"),
    ("trackings.batch", {"trackings": ["ups/1Z"]}, "trackings[0]"),
    ("trackings.batch", {"trackings": [TRACKING, {"slug": 1, "tracking_number": "x"}]}, "trackings[1]"),
    ("trackings.batch", {"trackings": [{"slug": "ups"}]}, "trackings[0]"),
    # aftersales.batch
    ("aftersales.batch", {}, "order_ids"),
    ("aftersales.batch", {"order_ids": "ord-us-refunded"}, "order_ids"),
    ("aftersales.batch", {"order_ids": []}, "order_ids"),
    ("aftersales.batch", {"order_ids": [""]}, "order_ids"),
    ("aftersales.batch", {"order_ids": [None]}, "order_ids"),
    # returns.create
    ("returns.create", {**CREATE_RETURN, "order_id": 5}, "order_id"),
    ("returns.create", {**CREATE_RETURN, "order_id": ""}, "order_id"),
    ("returns.create", {**CREATE_RETURN, "return_type": 5}, "return_type"),
    ("returns.create", {**CREATE_RETURN, "return_type": "EXCHANGE"}, "return_type"),
    ("returns.create", {**CREATE_RETURN, "return_reason": None}, "return_reason"),
    ("returns.create", {**CREATE_RETURN, "return_reason": "changed_my_mind"}, "return_reason"),
    ("returns.create", {**CREATE_RETURN, "return_reason": GB_ONLY}, "return_reason"),  # a US order
    ("returns.create", {**CREATE_RETURN, "buyer_note": 5}, "buyer_note"),
    ("returns.create", {**CREATE_RETURN, "buyer_note": "x" * 501}, "buyer_note"),
    ("returns.create", {**CREATE_RETURN, "handover_method": "DRONE"}, "handover_method"),
    ("returns.create", {**CREATE_RETURN, "handover_method": None}, "handover_method"),
    ("returns.create", {**CREATE_RETURN, "order_line_item_ids": "ord-us-delivered-l1"}, "order_line_item_ids"),
    ("returns.create", {**CREATE_RETURN, "order_line_item_ids": []}, "order_line_item_ids"),
    ("returns.create", {**CREATE_RETURN, "order_line_item_ids": [1]}, "order_line_item_ids"),
    ("returns.create", {**CREATE_RETURN, "order_line_item_ids": ["ord-us-delivered-l1"] * 2},
     "order_line_item_ids"),
    ("returns.create", {**CREATE_RETURN, "order_line_item_ids": ["ord-us-late-l1"]}, "order_line_item_ids"),
    ("returns.create", {**CREATE_RETURN, "combined_return_id": 5}, "combined_return_id"),
    # returns.batch_create
    ("returns.batch_create", {**BATCH_RETURN, "groups": "all"}, "groups"),
    ("returns.batch_create", {**BATCH_RETURN, "groups": []}, "groups"),
    ("returns.batch_create", {**BATCH_RETURN, "groups": BATCH_RETURN["groups"] * 11}, "groups"),
    ("returns.batch_create", {**BATCH_RETURN, "groups": [5]}, "groups[0]"),
    ("returns.batch_create", {**BATCH_RETURN, "groups": [{"return_reason": "bored",
                                                          "order_line_item_ids": ["ord-us-delivered-l1"]}]},
     "groups[0].return_reason"),
    ("returns.batch_create", {**BATCH_RETURN, "groups": [{"return_reason": GB_ONLY,
                                                          "order_line_item_ids": ["ord-us-delivered-l1"]}]},
     "groups[0].return_reason"),
    ("returns.batch_create", {**BATCH_RETURN, "groups": [{**BATCH_RETURN["groups"][0], "buyer_note": "x" * 501}]},
     "groups[0].buyer_note"),
    ("returns.batch_create", {**BATCH_RETURN, "groups": [BATCH_RETURN["groups"][0]] * 2}, "groups"),
    ("returns.batch_create", {**BATCH_RETURN, "groups": [{"return_reason": RETURN + "damaged"}]},
     "order_line_item_ids"),
    ("returns.batch_create", {**BATCH_RETURN, "return_type": "SWAP"}, "return_type"),
    # return transitions
    ("returns.reject", {"shop_id": TEA_CO}, "reject_reason"),
    ("returns.reject", {"shop_id": TEA_CO, "reject_reason": ""}, "reject_reason"),
    ("returns.reject", {"shop_id": TEA_CO, "reject_reason": 5}, "reject_reason"),
    # cancellations
    ("cancellations.create", {**CREATE_CANCELLATION, "order_id": None}, "order_id"),
    ("cancellations.create", {**CREATE_CANCELLATION, "role": "ADMIN"}, "role"),
    ("cancellations.create", {**CREATE_CANCELLATION, "role": "SYSTEM"}, "role"),
    ("cancellations.create", {**CREATE_CANCELLATION, "role": None}, "role"),
    ("cancellations.create", {**CREATE_CANCELLATION, "cancel_reason": 5}, "cancel_reason"),
    ("cancellations.create", {**CREATE_CANCELLATION, "cancel_reason": "bored"}, "cancel_reason"),
    ("cancellations.create", {**CREATE_CANCELLATION, "order_line_item_ids": []}, "order_line_item_ids"),
    ("cancellations.create", {**CREATE_CANCELLATION, "order_line_item_ids": ["nope"]}, "order_line_item_ids"),
    ("cancellations.reject", {"shop_id": HEARTH}, "reject_reason"),
    ("cancellations.reject", {"shop_id": HEARTH, "reject_reason": ["late"]}, "reject_reason"),
]


@pytest.mark.parametrize("route", sorted({route for route, _, _ in BAD_VALUES}))
async def test_a_wrong_type_or_bad_value_is_a_400_naming_the_field(mocks: MockUpstreams, route: str) -> None:
    service, target, _ = POST_ROUTES[route]
    wrong = []
    for name, body, field in BAD_VALUES:
        if name != route:
            continue
        exchange = await send(mocks, service, "POST", target, json=body)
        error = exchange.body.get("error", {}) if isinstance(exchange.body, dict) else {}
        if (exchange.status, error.get("code"), error.get("field")) != (400, "INVALID_ARGUMENT", field):
            wrong.append(f"{body} -> {exchange!r}")
    assert not wrong, "\n".join(wrong)


async def test_a_return_reason_is_checked_against_the_orders_market(mocks: MockUpstreams) -> None:
    uk = {"order_id": "ord-uk-delivered", "buyer_user_id": OLIVIA, "return_type": "REFUND",
          "order_line_item_ids": ["ord-uk-delivered-l1"]}
    exchange = await send(mocks, "aftersales", "POST", "/returns", json={**uk, "return_reason": US_ONLY})
    assert_error(exchange, 400, "INVALID_ARGUMENT", "return_reason")
    exchange = await send(mocks, "aftersales", "POST", "/returns", json={**uk, "return_reason": GB_ONLY})
    assert exchange.status == 201


async def test_path_oddities_are_404s_not_500s(mocks: MockUpstreams) -> None:
    for target in ("/orders/" + "x" * 4000, "/orders/%00", "/orders/%E2%9C%93", "/orders/ord-us-late%2Fx",
                   "/returns/%20", "/trackings/ups/%25"):
        service = "orders" if target.startswith("/orders") else "carrier" if "track" in target else "aftersales"
        assert_error(await send(mocks, service, "GET", target), 404, "NOT_FOUND")


# ---- too-large batches ----------------------------------------------------------------------------


async def test_too_large_batches_are_400s_and_the_limit_itself_is_fine(mocks: MockUpstreams) -> None:
    ids = [o for o in WORLD.orders][:50]
    exchange = await send(mocks, "orders", "GET", "/orders?ids=" + ",".join(ids))
    assert exchange.status == 200 and len(exchange.body["orders"]) == 50
    exchange = await send(mocks, "orders", "GET", "/orders?ids=" + ",".join([*ids, "ord-one-more"]))
    assert_error(exchange, 400, "INVALID_ARGUMENT", "ids")
    keys = [{"slug": "ups", "tracking_number": f"1Z{i:06d}"} for i in range(101)]
    exchange = await send(mocks, "carrier", "POST", "/trackings/batch_get", json={"trackings": keys[:100]})
    assert exchange.status == 200 and len(exchange.body["not_found"]) == 100
    exchange = await send(mocks, "carrier", "POST", "/trackings/batch_get", json={"trackings": keys})
    assert_error(exchange, 400, "INVALID_ARGUMENT", "trackings")
    exchange = await send(mocks, "aftersales", "POST", "/aftersales/batch_get", json={"order_ids": ids})
    assert exchange.status == 200 and len(exchange.body["orders"]) == 50
    exchange = await send(mocks, "aftersales", "POST", "/aftersales/batch_get",
                          json={"order_ids": [*ids, "ord-one-more"]})
    assert_error(exchange, 400, "INVALID_ARGUMENT", "order_ids")
    exchange = await send(mocks, "orders", "GET", "/orders?ids=,,,")
    assert_error(exchange, 400, "INVALID_ARGUMENT", "ids")


# ---- never a 500 ----------------------------------------------------------------------------------

ODD_VALUES: list[Any] = [None, True, 0, -1, 2**63, 1.5, "", "x" * 5000, "ord-us-late", [], {}, [None], [[[]]],
                         {"a": {"b": 1}}, "\u0000", "☃"]


@pytest.mark.parametrize("route", list(POST_ROUTES))
async def test_no_field_value_makes_a_post_route_fail_with_a_500(mocks: MockUpstreams, route: str) -> None:
    service, target, base = POST_ROUTES[route]
    statuses = set()
    for name, value in itertools.product([*base, "unexpected"], ODD_VALUES):
        exchange = await send(mocks, service, "POST", target, json={**base, name: value})
        statuses.add(exchange.status)
    assert statuses <= {200, 201, 400, 404, 409}


async def test_a_deeply_nested_body_is_a_400_not_a_500(mocks: MockUpstreams) -> None:
    deep = b"[" * 1000 + b"]" * 1000
    exchange = await Contract(mocks).raw("orders", "POST", "/orders/search", data=deep)
    assert_error(exchange, 400, "INVALID_ARGUMENT")


async def test_an_idempotent_write_with_a_deeply_nested_extra_field_is_not_a_500(mocks: MockUpstreams) -> None:
    nested = json.loads("[" * 300 + "]" * 300)
    exchange = await Contract(mocks).raw("aftersales", "POST", "/returns", json={**CREATE_RETURN, "extra": nested},
                                         headers={"Idempotency-Key": "deep"})
    assert_error(exchange, 400, "INVALID_ARGUMENT")
    # Refused before the write: nothing was created, and the key is still free.
    record = await send(mocks, "aftersales", "GET", "/orders/ord-us-delivered/aftersales")
    assert record.body["returns"] == []
    exchange = await Contract(mocks).raw("aftersales", "POST", "/returns", json=CREATE_RETURN,
                                         headers={"Idempotency-Key": "deep"})
    assert exchange.status == 201, exchange


def nested_list(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize("service", ["orders", "carrier", "aftersales"])
async def test_a_body_may_nest_64_levels_but_not_65(mocks: MockUpstreams, service: str) -> None:
    routes: dict[str, tuple[str, dict[str, Any]]] = {
        "orders": ("/orders/search", {"buyer_user_id": ALICE}),
        "carrier": ("/trackings/batch_get", {"trackings": [TRACKING]}),
        "aftersales": ("/aftersales/batch_get", {"order_ids": ["ord-us-refunded"]}),
    }
    target, body = routes[service]
    # The body object is level 1, so an extra field holding n nested lists reaches level n + 1.
    exchange = await send(mocks, service, "POST", target, json={**body, "extra": nested_list(63)})
    assert exchange.status == 200, exchange
    exchange = await send(mocks, service, "POST", target, json={**body, "extra": nested_list(64)})
    assert_error(exchange, 400, "INVALID_ARGUMENT")


# ---- idempotency ----------------------------------------------------------------------------------


NAMED = sorted(o for o in WORLD.orders if not o.startswith("ord-g-"))
# Sent again without the key, the same write is a new request: what it meets the second time.
SECOND_TIME = {
    "orders.update_address": None,  # still editable: it simply applies again
    "returns.create": "DUPLICATE_REQUEST", "cancellations.create": "DUPLICATE_REQUEST",
    "returns.batch_create": "DUPLICATE_REQUEST", "returns.combined_action": "RETURN_NOT_OPEN",
    "returns.cancel": "RETURN_NOT_OPEN", "returns.approve": "NOT_PENDING", "returns.reject": "NOT_PENDING",
    "cancellations.approve": "NOT_PENDING", "cancellations.reject": "NOT_PENDING",
}


async def _snapshot(mocks: MockUpstreams, service: str) -> Any:
    """Everything a write could have changed, read back."""
    if service == "orders":
        return [(await mocks.call("orders", "GET", "/orders?ids=" + ",".join(NAMED[i : i + 50])))[1]
                for i in range(0, len(NAMED), 50)]
    return [(await mocks.call("aftersales", "POST", "/aftersales/batch_get",
                              {"order_ids": NAMED[i : i + 50]}))[1] for i in range(0, len(NAMED), 50)]


async def _prepare(mocks: MockUpstreams, route: str) -> tuple[str, str, dict[str, Any]]:
    """A route and a body that will succeed once."""
    service, target, body = POST_ROUTES[route]
    if route == "returns.cancel":  # withdraw a return made for the occasion
        status, created = await mocks.call("aftersales", "POST", "/returns", CREATE_RETURN)
        assert status == 201
        target = f"/returns/{created['return']['return_id']}/cancel"
    return service, target, body


@pytest.mark.parametrize("route", WRITES)
async def test_the_same_key_and_body_replays_the_first_answer_and_writes_once(mocks: MockUpstreams,
                                                                              route: str) -> None:
    service, target, body = await _prepare(mocks, route)
    headers = {"Idempotency-Key": f"key-{route}"}
    first = await send(mocks, service, "POST", target, json=body, headers=headers)
    assert first.status in (200, 201), first
    assert "Idempotent-Replayed" not in first.headers
    after_first = await _snapshot(mocks, service)
    replay = await send(mocks, service, "POST", target, json=body, headers=headers)
    assert (replay.status, replay.raw) == (first.status, first.raw)
    assert replay.headers["Idempotent-Replayed"] == "true"
    # Key order in the body does not matter: it is the same request.
    shuffled = dict(reversed(list(body.items())))
    again = await send(mocks, service, "POST", target, json=shuffled, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true" and again.raw == first.raw
    assert await _snapshot(mocks, service) == after_first  # nothing written twice
    # Without the key, the same request is a new one.
    fresh = await send(mocks, service, "POST", target, json=body)
    if SECOND_TIME[route] is None:
        assert fresh.status == 200 and "Idempotent-Replayed" not in fresh.headers
    else:
        assert_error(fresh, 409, SECOND_TIME[route])


@pytest.mark.parametrize("route", WRITES)
async def test_the_same_key_with_another_body_or_route_is_a_409(mocks: MockUpstreams, route: str) -> None:
    service, target, body = await _prepare(mocks, route)
    headers = {"Idempotency-Key": f"key-{route}"}
    first = await send(mocks, service, "POST", target, json=body, headers=headers)
    assert first.status in (200, 201), first
    before = await _snapshot(mocks, service)
    changed = {**body, "note": "changed"}
    assert_error(await send(mocks, service, "POST", target, json=changed, headers=headers), 409,
                 "IDEMPOTENCY_KEY_REUSED")
    if route == "orders.update_address":
        other_target, other_body = "/orders/ord-us-awaiting-shipment/recipient_address", body
    elif route == "returns.create":
        other_target, other_body = "/cancellations", CREATE_CANCELLATION
    else:
        other_target, other_body = "/returns", CREATE_RETURN
    exchange = await send(mocks, service, "POST", other_target, json=other_body, headers=headers)
    assert_error(exchange, 409, "IDEMPOTENCY_KEY_REUSED")
    assert await _snapshot(mocks, service) == before


async def test_a_failed_write_does_not_burn_its_idempotency_key(mocks: MockUpstreams) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    bad = await send(mocks, "aftersales", "POST", "/returns", json={**CREATE_RETURN, "return_type": "SWAP"},
                     headers=headers)
    assert_error(bad, 400, "INVALID_ARGUMENT", "return_type")
    good = await send(mocks, "aftersales", "POST", "/returns", json=CREATE_RETURN, headers=headers)
    assert good.status == 201 and "Idempotent-Replayed" not in good.headers
