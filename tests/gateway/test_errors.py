"""Errors a client sees: not found, bad arguments, and partial answers when an upstream fails, over real HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.auth import Role
from tests.harness import ALICE, BOB, Gateway, running_gateway
from tests.upstreams import MockUpstreams

ORDER = """query($id: ID!) { order(id: $id) {
  id status displayStatus statusLabel trackingAvailable afterSalesAvailable
  lineItems { id name quantity }
  tracker { headline }
  packages { id status statusSource trackingAvailable trackingEvents { code } tracker { kind state } }
  afterSalesActions { kind available }
  returns { id status }
} }"""
HISTORY = """query($first: Int!, $after: String, $filter: OrderHistoryFilter) {
  orders(first: $first, after: $after, filter: $filter) { edges { cursor node { id } } pageInfo { endCursor } } }"""
SELLER_HISTORY = """query($first: Int!, $after: String, $filter: SellerOrderFilter) {
  sellerOrders(first: $first, after: $after, filter: $filter) { edges { node { id } } } }"""
TWO_PACKAGES = "ord-us-split-size"  # one delivered, one in transit: both upstream reads happen
# Anything that betrays the implementation: a traceback, a source file, an absolute path, a Python repr.
LEAKS = re.compile(r"Traceback|File \"|\.py\b|/src/|/work/|site-packages|<[a-z_.]+ object at 0x|"
                   r"\b(KeyError|AttributeError|TypeError|AssertionError)\b")


def _errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = body.get("errors", [])
    return errors


def _assert_no_leaks(body: dict[str, Any]) -> None:
    for error in _errors(body):
        assert not LEAKS.search(error["message"]), error
        assert set(error.get("extensions", {})) <= {"code", "service", "argument"}, error


async def _search_calls(mocks: MockUpstreams) -> int:
    return (await mocks.counters("orders")).get("orders.search", 0)


# -- not found -------------------------------------------------------------------------------------

async def test_an_unknown_order_is_null_with_not_found_at_its_path(gateway: Gateway) -> None:
    response = await gateway.post('{ order(id: "ord-does-not-exist") { id status } }')
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"order": None}
    [error] = _errors(body)
    assert error["path"] == ["order"]
    assert error["extensions"] == {"code": "NOT_FOUND"}
    _assert_no_leaks(body)


async def test_one_unknown_order_does_not_spoil_the_others_in_the_same_request(gateway: Gateway) -> None:
    body = await gateway.query('{ a: order(id: "ord-us-in-transit") { id } b: order(id: "nope") { id } }')
    assert body["data"] == {"a": {"id": "ord-us-in-transit"}, "b": None}
    [error] = _errors(body)
    assert (error["path"], error["extensions"]["code"]) == (["b"], "NOT_FOUND")


# -- bad arguments ---------------------------------------------------------------------------------

BAD_HISTORY_ARGS: dict[str, tuple[dict[str, Any], str]] = {
    "first: 0": ({"first": 0}, "first"),
    "first: -1": ({"first": -1}, "first"),
    "first: 1000": ({"first": 1000}, "first"),
    "first: max + 1": ({"first": 51}, "first"),
    "after: garbage": ({"first": 5, "after": "garbage"}, "after"),
    "after: not base64 JSON": ({"first": 5, "after": "bm90IGpzb24"}, "after"),
    "after: JSON of the wrong shape": ({"first": 5, "after": "WzEsMiwzXQ"}, "after"),  # [1,2,3]
    "placedAfter == placedBefore": ({"first": 5, "filter": {"placedAfter": "2026-11-10T00:00:00Z",
                                                            "placedBefore": "2026-11-10T00:00:00Z"}}, "filter"),
    "placedAfter > placedBefore": ({"first": 5, "filter": {"placedAfter": "2026-11-10T00:00:00Z",
                                                           "placedBefore": "2026-11-01T00:00:00Z"}}, "filter"),
    "placedAfter without offset": ({"first": 5, "filter": {"placedAfter": "2026-11-10T00:00:00"}}, "placedAfter"),
}


@pytest.mark.parametrize("case", list(BAD_HISTORY_ARGS))
async def test_bad_history_arguments_are_bad_user_input_without_an_upstream_search(
        mocks: MockUpstreams, gateway: Gateway, case: str) -> None:
    variables, argument = BAD_HISTORY_ARGS[case]
    response = await gateway.post(HISTORY, variables)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = _errors(body)
    assert error["path"] == ["orders"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    _assert_no_leaks(body)
    assert await _search_calls(mocks) == 0


@pytest.mark.parametrize("variables", [
    {"first": 0},
    {"first": 5, "after": "garbage"},
    {"first": 5, "filter": {"placedAfter": "2026-11-10T00:00:00Z", "placedBefore": "2026-11-01T00:00:00Z"}},
])
async def test_bad_seller_history_arguments_are_bad_user_input_too(
        mocks: MockUpstreams, gateway: Gateway, variables: dict[str, Any]) -> None:
    body = await gateway.query(SELLER_HISTORY, variables, as_="seller-threadline", role=Role.SELLER,
                               shop_id="shop-us-threadline")
    [error] = _errors(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await _search_calls(mocks) == 0


async def test_a_cursor_reused_with_another_filter_or_by_another_buyer_is_rejected(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    first = await gateway.query(HISTORY, {"first": 2})
    cursor = first["data"]["orders"]["pageInfo"]["endCursor"]
    assert cursor
    # The control: the cursor works where it was issued.
    again = await gateway.query(HISTORY, {"first": 2, "after": cursor})
    assert "errors" not in again and len(again["data"]["orders"]["edges"]) == 2
    await mocks.reset_counters()
    misuses = [
        ({"first": 2, "after": cursor, "filter": {"displayStatus": ["DELIVERED"]}}, ALICE),
        ({"first": 2, "after": cursor, "filter": {"placedAfter": "2026-01-01T00:00:00Z"}}, ALICE),
        ({"first": 2, "after": cursor}, BOB),
    ]
    for variables, who in misuses:
        body = await gateway.query(HISTORY, variables, as_=who)
        assert body["data"] is None, variables
        [error] = _errors(body)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}, variables
    assert await _search_calls(mocks) == 0


# -- degradation -----------------------------------------------------------------------------------

async def test_carrier_down_still_answers_the_order_without_tracking(mocks: MockUpstreams, gateway: Gateway) -> None:
    await mocks.fault("carrier", route="trackings.batch", status=503)
    response = await gateway.post(ORDER, {"id": TWO_PACKAGES})
    assert response.status_code == 200
    body = response.json()
    order = body["data"]["order"]
    assert order["status"] == "PARTIALLY_DELIVERED"  # the order service alone still says one arrived
    assert order["lineItems"] and order["tracker"]["headline"]
    assert order["afterSalesActions"] and order["afterSalesAvailable"] is True
    assert order["trackingAvailable"] is False
    assert len(order["packages"]) == 2
    for package in order["packages"]:
        assert package["trackingAvailable"] is False
        assert package["trackingEvents"] is None
        assert package["statusSource"] == "ORDER_SERVICE"
        assert package["tracker"], "the tracker is drawn from the order service"
    errors = _errors(body)
    assert sorted(tuple(e["path"]) for e in errors) == [("order", "packages", 0, "trackingEvents"),
                                                          ("order", "packages", 1, "trackingEvents")]
    assert all(e["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": "carrier"} for e in errors)
    _assert_no_leaks(body)


async def test_carrier_answering_malformed_json_is_bad_data_from_the_carrier(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    await mocks.fault("carrier", route="trackings.batch", malformed="truncated")
    body = await gateway.query(ORDER, {"id": TWO_PACKAGES})
    order = body["data"]["order"]
    assert order["trackingAvailable"] is False and order["lineItems"]
    assert [p["trackingEvents"] for p in order["packages"]] == [None, None]
    assert {e["extensions"]["code"] for e in _errors(body)} == {"UPSTREAM_BAD_DATA"}
    assert {e["extensions"]["service"] for e in _errors(body)} == {"carrier"}
    assert (await mocks.counters("carrier"))["trackings.batch"] == 1, "bad data is not retried"
    _assert_no_leaks(body)


async def test_after_sales_down_nulls_actions_and_returns_but_keeps_tracking(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    await mocks.fault("aftersales", route="aftersales.batch", status=503)
    response = await gateway.post(ORDER, {"id": "ord-us-return-in-progress"})
    assert response.status_code == 200
    body = response.json()
    order = body["data"]["order"]
    assert order["afterSalesAvailable"] is False
    assert order["afterSalesActions"] is None and order["returns"] is None
    assert order["trackingAvailable"] is True
    assert order["packages"][0]["trackingEvents"], "tracking is still there"
    assert order["packages"][0]["statusSource"] == "CARRIER"
    errors = {tuple(e["path"]): e["extensions"] for e in _errors(body)}
    assert errors == {("order", "afterSalesActions"): {"code": "UPSTREAM_UNAVAILABLE", "service": "aftersales"},
                      ("order", "returns"): {"code": "UPSTREAM_UNAVAILABLE", "service": "aftersales"}}
    _assert_no_leaks(body)


async def test_order_service_down_is_a_null_order_with_an_error_naming_it(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    await mocks.fault("orders", route="orders.batch", status=503)
    response = await gateway.post(ORDER, {"id": "ord-us-in-transit"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"order": None}
    [error] = _errors(body)
    assert error["path"] == ["order"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": "orders"}
    assert "trackings.batch" not in await mocks.counters("carrier")
    _assert_no_leaks(body)


async def test_order_service_down_fails_the_history_with_an_error_naming_it(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    await mocks.fault("orders", route="orders.search", status=503)
    response = await gateway.post(HISTORY, {"first": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = _errors(body)
    assert error["path"] == ["orders"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": "orders"}
    _assert_no_leaks(body)


async def test_a_degraded_answer_is_not_sticky(mocks: MockUpstreams, gateway: Gateway) -> None:
    # The carrier fails every attempt of one request (the first try and each retry), then recovers.
    attempts = 1 + gateway.settings.upstream_retries
    await mocks.fault("carrier", route="trackings.batch", status=503, times=attempts)
    degraded = await gateway.query(ORDER, {"id": TWO_PACKAGES})
    assert degraded["data"]["order"]["trackingAvailable"] is False
    recovered = await gateway.query(ORDER, {"id": TWO_PACKAGES})
    assert "errors" not in recovered, recovered["errors"]
    order = recovered["data"]["order"]
    assert order["trackingAvailable"] is True
    assert all(p["trackingEvents"] and p["statusSource"] == "CARRIER" for p in order["packages"])
    assert (await mocks.counters("carrier"))["trackings.batch"] == attempts + 1


@pytest.mark.parametrize(("service", "route", "fault"), [
    ("orders", "orders.batch", {"malformed": "unknown_enum"}),
    ("orders", "orders.batch", {"malformed": "bad_date"}),
    ("orders", "orders.batch", {"close": True}),
    ("carrier", "trackings.batch", {"malformed": "wrong_type"}),
    ("carrier", "trackings.batch", {"malformed": "not_json"}),
    ("aftersales", "aftersales.batch", {"malformed": "missing_field"}),
    ("aftersales", "aftersales.batch", {"status": 500}),
])
async def test_no_error_message_ever_shows_a_stack_trace_or_a_path(
        mocks: MockUpstreams, gateway: Gateway, service: str, route: str, fault: dict[str, Any]) -> None:
    await mocks.fault(service, route=route, **fault)
    response = await gateway.post(ORDER, {"id": TWO_PACKAGES})
    assert response.status_code == 200
    body = response.json()
    errors = _errors(body)
    assert errors, "the fault must show up as an error"
    assert {e["extensions"].get("service") for e in errors} == {service}
    _assert_no_leaks(body)


@pytest.mark.parametrize("compiled", [True, False])
async def test_an_unreadable_order_is_left_out_of_the_history_and_said_at_its_alias(
        mocks: MockUpstreams, compiled: bool) -> None:
    await mocks.fault("orders", route="orders.search", malformed="unknown_enum")
    async with running_gateway(mocks, compiled_execution=compiled) as gw:
        body = await gw.query("{ mine: orders(first: 5) { edges { node { id statusLabel } } } }", as_=ALICE)
    nodes = [e["node"] for e in body["data"]["mine"]["edges"]]
    assert len(nodes) == 5 and all(n["statusLabel"] for n in nodes)
    (error,) = _errors(body)
    assert error["path"] == ["mine"]
    assert error["extensions"] == {"code": "UPSTREAM_BAD_DATA", "service": "orders"}
    assert "could not be read and is left out of this page" in error["message"]
    _assert_no_leaks(body)
