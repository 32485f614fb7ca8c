"""The control plane: every knob under /_control, and what it does to the next request."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aiohttp
import pytest

from mocks.catalog import build_world
from mocks.control import CONTROL_KEY, MALFORMED_KINDS
from tests.mocks.contract import Contract
from tests.upstreams import SERVICES, TEST_NOW, MockUpstreams

T = TypeVar("T")
WORLD = build_world(TEST_NOW)
_PKG = WORLD.orders["ord-us-in-transit"]["packages"][0]
# One rich answer per service, used wherever a knob needs a body to act on.
SAMPLE = {
    "orders": "/orders/ord-us-in-transit",
    "carrier": f"/trackings/{_PKG['shipping_provider_id']}/{_PKG['tracking_number']}",
    "aftersales": "/orders/ord-us-return-in-progress/aftersales",
}
ADDRESS = {"address_line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "region_code": "US"}
ROUTE = {"orders": "orders.get", "carrier": "trackings.get", "aftersales": "aftersales.order"}


async def timed(awaitable: Awaitable[T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = await awaitable
    return time.perf_counter() - start, result


async def raw_get(mocks: MockUpstreams, service: str, path: str) -> tuple[int, bytes]:
    async with mocks.session.get(mocks.servers[service].make_url(path)) as response:
        return response.status, await response.read()


async def faults(mocks: MockUpstreams, service: str) -> list[dict[str, Any]]:
    body: dict[str, list[dict[str, Any]]] = await mocks.control(service, "GET", "faults")
    return body["faults"]


# ---- counters and the request log -----------------------------------------------------------------


async def test_counters_count_requests_per_route_name_and_reset_to_zero(mocks: MockUpstreams) -> None:
    await mocks.reset_counters()
    for path in ("/orders/ord-us-late", "/orders/ord-us-lost", "/orders?ids=ord-us-late", "/no/such/route"):
        await mocks.call("orders", "GET", path)
    await mocks.call("orders", "GET", "/_control/clock")  # the control plane is never counted
    body = await mocks.control("orders", "GET", "counters")
    assert body == {"routes": {"orders.get": 2, "orders.batch": 1, "unknown": 1}, "total": 4}
    assert await mocks.counters("carrier") == {}  # each service counts its own
    assert await mocks.control("orders", "DELETE", "counters") == {"routes": {}, "total": 0}
    assert await mocks.counters("orders") == {}
    assert (await mocks.control("orders", "GET", "requests"))["requests"] == []


async def test_request_log_keeps_route_method_path_and_tracing_headers(mocks: MockUpstreams) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    await mocks.call("orders", "GET", "/orders?ids=ord-us-late", headers={"x-request-id": "req-1"})
    await mocks.call("orders", "POST", "/orders/ord-us-on-hold/recipient_address", json=ADDRESS,
                     headers={"x-request-id": "req-2", "traceparent": traceparent,
                              "Idempotency-Key": "idem-2"})
    log = (await mocks.control("orders", "GET", "requests"))["requests"]
    assert [(r["route"], r["method"], r["path"]) for r in log] == [
        ("orders.batch", "GET", "/orders?ids=ord-us-late"),
        ("orders.update_address", "POST", "/orders/ord-us-on-hold/recipient_address"),
    ]
    assert log[0]["headers"]["x-request-id"] == "req-1" and "traceparent" not in log[0]["headers"]
    assert {k: log[1]["headers"][k] for k in ("x-request-id", "traceparent", "idempotency-key")} == {
        "x-request-id": "req-2", "traceparent": traceparent, "idempotency-key": "idem-2"}
    assert log[0]["time"] <= log[1]["time"]
    assert (await mocks.control("orders", "GET", "requests?limit=1"))["requests"] == log[-1:]


async def test_request_log_limit_zero_returns_nothing(mocks: MockUpstreams) -> None:
    await mocks.call("orders", "GET", "/health")
    assert (await mocks.control("orders", "GET", "requests?limit=0"))["requests"] == []


async def test_request_log_limit_must_not_be_negative(mocks: MockUpstreams) -> None:
    await mocks.call("orders", "GET", "/health")
    status, body = await mocks.call("orders", "GET", "/_control/requests?limit=-1")
    assert (status, body["error"]["field"]) == (400, "limit")


# ---- which requests a fault hits ------------------------------------------------------------------


async def test_a_fault_by_route_hits_only_that_route_of_that_service(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.get", status=503)
    assert (await mocks.call("orders", "GET", "/orders/ord-us-late"))[0] == 503
    assert (await mocks.call("orders", "GET", "/orders?ids=ord-us-late"))[0] == 200
    assert (await mocks.call("carrier", "GET", SAMPLE["carrier"]))[0] == 200
    await mocks.fault("carrier", route="*", status=502)
    assert (await mocks.call("carrier", "GET", "/health"))[0] == 502
    assert (await mocks.call("orders", "GET", "/health"))[0] == 200


async def test_a_fault_by_key_hits_only_requests_that_name_the_id(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", key="ord-us-lost", status=503)
    assert (await mocks.call("orders", "GET", "/orders/ord-us-lost"))[0] == 503  # path parameter
    assert (await mocks.call("orders", "GET", "/orders/ord-us-late"))[0] == 200
    assert (await mocks.call("orders", "GET", "/orders?ids=ord-us-late,ord-us-lost"))[0] == 503  # query value
    assert (await mocks.call("orders", "GET", "/orders?ids=ord-us-late"))[0] == 200
    await mocks.fault("aftersales", route="aftersales.batch", key="ord-us-lost", status=500)
    batch = "/aftersales/batch_get"
    both, one = {"order_ids": ["ord-us-late", "ord-us-lost"]}, {"order_ids": ["ord-us-late"]}
    assert (await mocks.call("aftersales", "POST", batch, both))[0] == 500  # a JSON string in the body
    assert (await mocks.call("aftersales", "POST", batch, one))[0] == 200
    assert (await mocks.call("aftersales", "GET", "/orders/ord-us-lost/aftersales"))[0] == 200  # other route


async def test_a_body_too_deep_to_read_names_no_key_for_a_fault(mocks: MockUpstreams) -> None:
    await mocks.fault("aftersales", route="aftersales.batch", key="ord-us-lost", status=503)
    buried: Any = "ord-us-lost"
    for _ in range(200):
        buried = [buried]
    status, body = await mocks.call("aftersales", "POST", "/aftersales/batch_get", {"order_ids": buried})
    assert (status, body["error"]["code"]) == (400, "INVALID_ARGUMENT")


async def test_the_first_matching_fault_applies(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.get", status=503)
    await mocks.fault("orders", route="*", status=429)
    assert (await mocks.call("orders", "GET", "/orders/ord-us-late"))[0] == 503
    assert (await mocks.call("orders", "GET", "/health"))[0] == 429


async def test_times_counts_down_and_the_fault_then_removes_itself(mocks: MockUpstreams) -> None:
    added = await mocks.fault("orders", route="orders.get", status=503, times=2)
    assert (added["times"], added["hits"], added["id"]) == (2, 0, "f1")
    assert (await mocks.call("orders", "GET", "/orders/ord-us-late"))[0] == 503
    assert [(f["times"], f["hits"]) for f in await faults(mocks, "orders")] == [(1, 1)]
    assert (await mocks.call("orders", "GET", "/orders/ord-us-late"))[0] == 503
    assert await faults(mocks, "orders") == []
    assert (await mocks.call("orders", "GET", "/orders/ord-us-late"))[0] == 200


async def test_one_fault_can_be_deleted_by_id(mocks: MockUpstreams) -> None:
    first = await mocks.fault("orders", route="orders.get", status=503)
    second = await mocks.fault("orders", route="orders.batch", status=503)
    assert await mocks.control("orders", "DELETE", f"faults/{first['id']}") == {"deleted": first["id"]}
    assert [f["id"] for f in await faults(mocks, "orders")] == [second["id"]]
    assert (await mocks.call("orders", "GET", "/orders/ord-us-late"))[0] == 200
    status, body = await mocks.call("orders", "DELETE", f"/_control/faults/{first['id']}")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


async def test_control_requests_are_never_faulted_or_counted(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="*", status=503, close=True, latency_ms=2000)
    elapsed, counters = await timed(mocks.counters("orders"))
    assert counters == {} and elapsed < 1.0
    assert (await mocks.call("orders", "GET", "/_control/clock"))[0] == 200


# ---- what a fault does ----------------------------------------------------------------------------


async def test_latency_delays_the_answer(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.get", latency_ms=200)
    elapsed, (status, body) = await timed(mocks.call("orders", "GET", "/orders/ord-us-late"))
    assert elapsed >= 0.2
    assert (status, body["order"]["id"]) == (200, "ord-us-late")


async def test_jitter_adds_a_bounded_random_delay_on_top_of_latency(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.get", latency_ms=50, jitter_ms=100)
    delays = [(await timed(mocks.call("orders", "GET", "/orders/ord-us-late")))[0] for _ in range(3)]
    assert all(0.05 <= d < 0.05 + 0.1 + 1.0 for d in delays), delays
    # The jitter is seeded (random.Random(0)): the first draws are 84, 76 and 42 ms.
    assert max(delays) >= 0.12, delays


async def test_status_answers_in_the_error_shape_with_retry_after(mocks: MockUpstreams) -> None:
    contract = Contract(mocks)
    await mocks.fault("orders", route="orders.get", status=503, retry_after=7, times=1)
    exchange = await contract.call("orders", "GET", "/orders/ord-us-late", expect=503)
    assert exchange.headers["Retry-After"] == "7"
    assert exchange.body["error"]["code"] == "INJECTED_FAULT"
    await mocks.fault("orders", route="orders.get", status=429, times=1)
    exchange = await contract.call("orders", "GET", "/orders/ord-us-late", expect=429)
    assert "Retry-After" not in exchange.headers


async def test_hang_holds_the_request_for_hang_ms_then_answers(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.get", hang=True, hang_ms=150)
    elapsed, (status, _) = await timed(mocks.call("orders", "GET", "/orders/ord-us-late"))
    assert elapsed >= 0.15 and status == 200


async def test_clearing_the_faults_releases_a_hanging_request(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.get", hang=True, hang_ms=5000)
    start = time.perf_counter()
    pending = asyncio.create_task(mocks.call("orders", "GET", "/orders/ord-us-late"))
    while not (await mocks.counters("orders")).get("orders.get"):
        await asyncio.sleep(0.01)
    assert not pending.done()
    await mocks.control("orders", "DELETE", "faults")
    status, body = await asyncio.wait_for(pending, 2)
    assert (status, body["order"]["id"]) == (200, "ord-us-late")
    assert time.perf_counter() - start < 2


async def test_reset_also_releases_a_hanging_request(mocks: MockUpstreams) -> None:
    await mocks.fault("carrier", hang=True, hang_ms=5000)
    pending = asyncio.create_task(mocks.call("carrier", "GET", "/health"))
    while not (await mocks.counters("carrier")).get("carrier.health"):
        await asyncio.sleep(0.01)
    await mocks.control("carrier", "POST", "reset")
    assert (await asyncio.wait_for(pending, 2))[0] == 200


async def test_trickle_sends_the_body_slowly_but_complete(mocks: MockUpstreams) -> None:
    _, whole = await raw_get(mocks, "orders", "/health")
    await mocks.fault("orders", route="orders.health", trickle_ms=30, times=1)
    start = time.perf_counter()
    async with mocks.session.get(mocks.servers["orders"].make_url("/health")) as response:
        assert response.content_length == len(whole)
        chunks = [chunk async for chunk in response.content.iter_any()]
    assert time.perf_counter() - start >= 0.06
    assert len(chunks) >= 2
    assert b"".join(chunks) == whole
    assert json.loads(whole) == {"service": "orders", "status": "ok"}


async def test_close_drops_the_connection_without_an_answer(mocks: MockUpstreams) -> None:
    search = {"buyer_user_id": "buyer-us-bob"}
    await mocks.fault("orders", route="orders.search", close=True, times=1)
    with pytest.raises(aiohttp.ClientConnectionError):
        await mocks.call("orders", "POST", "/orders/search", search)
    assert (await mocks.call("orders", "POST", "/orders/search", search))[0] == 200
    # aiohttp retries an idempotent request once on a dropped connection; a lasting fault beats that.
    await mocks.fault("orders", route="orders.get", close=True)
    with pytest.raises(aiohttp.ClientConnectionError):
        await mocks.call("orders", "GET", "/orders/ord-us-late")
    assert (await faults(mocks, "orders"))[0]["hits"] == 2


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    if isinstance(node, dict):
        out: dict[tuple[Any, ...], Any] = {}
        for key, value in node.items():
            out |= _leaves(value, (*path, key))
        return out | {path: "{}"} if path else out
    if isinstance(node, list):
        out = {}
        for i, value in enumerate(node):
            out |= _leaves(value, (*path, i))
        return out
    return {path: node}


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
@pytest.mark.parametrize("service", SERVICES)
async def test_every_malformed_kind_damages_a_successful_answer(mocks: MockUpstreams, service: str,
                                                                kind: str) -> None:
    _, intact = await raw_get(mocks, service, SAMPLE[service])
    await mocks.fault(service, route=ROUTE[service], malformed=kind, times=1)
    status, damaged = await raw_get(mocks, service, SAMPLE[service])
    assert status == 200 and damaged != intact
    if kind == "truncated":
        assert damaged == intact[: len(intact) // 2]
    if kind == "not_json":
        assert damaged.startswith(b"<html")
    if kind in ("truncated", "not_json"):
        with pytest.raises(json.JSONDecodeError):
            json.loads(damaged)
    else:
        spec = mocks.servers[service].app[CONTROL_KEY].corruption
        before, after = _leaves(json.loads(intact)), _leaves(json.loads(damaged))
        changed = {path: after.get(path, "<missing>") for path in before if before[path] != after.get(path)}
        assert changed, kind
        names = {path[-1] for path in changed}
        if kind == "missing_field":
            assert set(changed.values()) == {"<missing>"}
            dropped = {next(part for part in path if part in spec.required_fields) for path in changed}
            assert len(dropped) == 1, changed  # one required field, with everything under it
        elif kind == "unknown_enum":
            assert set(changed.values()) == {"TELEPORTED_BY_WIZARD"} and names <= set(spec.enum_fields)
        elif kind == "wrong_type":
            assert set(changed.values()) == {12345} and names <= set(spec.enum_fields)
        else:
            assert set(changed.values()) == {spec.bad_date} and names <= set(spec.date_fields)
    # Whatever the damage, the contract notices it.
    exchange = await Contract(mocks).raw(service, "GET", SAMPLE[service])
    assert exchange.raw == intact  # times=1: the next answer is whole again
    exchange.raw = damaged
    assert Contract(mocks).violations(exchange)


async def test_malformed_leaves_error_answers_alone(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.get", malformed="not_json")
    exchange = await Contract(mocks).call("orders", "GET", "/orders/ord-missing", expect=404)
    assert exchange.body["error"]["code"] == "NOT_FOUND"


# ---- reset and clock ------------------------------------------------------------------------------


async def test_reset_forgets_writes_faults_counters_and_idempotency_keys(mocks: MockUpstreams) -> None:
    body = {"order_id": "ord-us-delivered", "buyer_user_id": "buyer-us-alice", "return_type": "REFUND",
            "return_reason": "ecom_order_delivered_refund_and_return_reason_damaged",
            "order_line_item_ids": ["ord-us-delivered-l1"]}
    key = {"Idempotency-Key": "r1"}
    status, created = await mocks.call("aftersales", "POST", "/returns", body, headers=key)
    assert status == 201
    return_id = created["return"]["return_id"]
    await mocks.fault("aftersales", route="aftersales.order", status=503)
    assert await mocks.control("aftersales", "POST", "reset") == {"reset": "aftersales",
                                                                  "now": TEST_NOW.isoformat()}
    assert await faults(mocks, "aftersales") == []
    assert await mocks.counters("aftersales") == {}
    assert (await mocks.call("aftersales", "GET", f"/returns/{return_id}"))[0] == 404
    status, record = await mocks.call("aftersales", "GET", "/orders/ord-us-delivered/aftersales")
    assert (status, record["returns"]) == (200, [])
    # The ledger is gone too: the same key may now carry another body.
    other = {**body, "order_line_item_ids": ["ord-us-delivered-l2"]}
    assert (await mocks.call("aftersales", "POST", "/returns", other, headers=key))[0] == 201


async def test_reset_of_the_order_service_undoes_an_address_change(mocks: MockUpstreams) -> None:
    await mocks.call("orders", "POST", "/orders/ord-us-on-hold/recipient_address", ADDRESS)
    order = (await mocks.call("orders", "GET", "/orders/ord-us-on-hold"))[1]["order"]
    assert order["has_updated_recipient_address"] is True
    await mocks.control("orders", "POST", "reset")
    order = (await mocks.call("orders", "GET", "/orders/ord-us-on-hold"))[1]["order"]
    assert order["has_updated_recipient_address"] is False
    assert order["recipient_address"]["address_line1"] == "123 Maple Street"


async def test_clock_get_reports_the_pinned_now(mocks: MockUpstreams) -> None:
    for service in SERVICES:
        assert await mocks.control(service, "GET", "clock") == {
            "now": TEST_NOW.isoformat(), "anchor": TEST_NOW.isoformat(), "pinned": True}


async def test_clock_put_reanchors_the_world_of_that_service(mocks: MockUpstreams) -> None:
    before = (await mocks.call("orders", "GET", "/orders/ord-us-on-hold"))[1]["order"]
    tracking_before = (await mocks.call("carrier", "GET", SAMPLE["carrier"]))[1]["tracking"]
    later = TEST_NOW + timedelta(days=1, hours=3)
    moved = await mocks.control("orders", "PUT", "clock", {"now": "2026-11-21T10:00:00-05:00"})
    assert moved == {"now": later.isoformat(), "anchor": later.isoformat()}
    after = (await mocks.call("orders", "GET", "/orders/ord-us-on-hold"))[1]["order"]
    shift = int(timedelta(days=1, hours=3).total_seconds())
    for field in ("create_time", "paid_time", "update_time", "rts_sla_time", "delivery_sla_time"):
        assert after[field] - before[field] == shift, field
    assert after["status"] == before["status"] == "ON_HOLD"  # the story is told relative to now
    # Each service keeps its own clock.
    assert (await mocks.control("carrier", "GET", "clock"))["now"] == TEST_NOW.isoformat()
    assert (await mocks.call("carrier", "GET", SAMPLE["carrier"]))[1]["tracking"] == tracking_before
    await mocks.control("carrier", "PUT", "clock", {"now": "2026-11-21T15:00:00Z"})
    tracking_after = (await mocks.call("carrier", "GET", SAMPLE["carrier"]))[1]["tracking"]
    assert tracking_after["checkpoints"][-1]["checkpoint_time"] != tracking_before["checkpoints"][-1][
        "checkpoint_time"]
    assert len(tracking_after["checkpoints"]) == len(tracking_before["checkpoints"])


async def test_clock_put_drops_writes_like_a_reset(mocks: MockUpstreams) -> None:
    assert (await mocks.call("orders", "POST", "/orders/ord-us-on-hold/recipient_address", ADDRESS))[0] == 200
    await mocks.control("orders", "PUT", "clock", {"now": TEST_NOW.isoformat()})
    order = (await mocks.call("orders", "GET", "/orders/ord-us-on-hold"))[1]["order"]
    assert order["has_updated_recipient_address"] is False


async def test_clock_put_null_follows_the_wall_clock_again(mocks: MockUpstreams) -> None:
    body = await mocks.control("orders", "PUT", "clock", {"now": None})
    clock = await mocks.control("orders", "GET", "clock")
    assert clock["pinned"] is False and clock["anchor"] == body["anchor"]
    drift = abs((datetime.fromisoformat(clock["now"]) - datetime.now(UTC)).total_seconds())
    assert drift < 60


# ---- bad control input ----------------------------------------------------------------------------

BAD_FAULTS: list[tuple[Any, str | None]] = [
    ({"bogus": 1}, None),
    ({"id": "f9"}, None),
    ({"hits": 3}, None),
    ({"route": ""}, "route"),
    ({"route": 5}, "route"),
    ({"key": 5}, "key"),
    ({"latency_ms": -1}, "latency_ms"),
    ({"latency_ms": "slow"}, "latency_ms"),
    ({"latency_ms": 1.5}, "latency_ms"),
    ({"jitter_ms": True}, "jitter_ms"),
    ({"status": 200}, "status"),
    ({"status": 600}, "status"),
    ({"retry_after": -1}, "retry_after"),
    ({"hang": "yes"}, "hang"),
    ({"hang_ms": 0}, "hang_ms"),
    ({"trickle_ms": -5}, "trickle_ms"),
    ({"close": 1}, "close"),
    ({"malformed": "gibberish"}, "malformed"),
    ({"times": 0}, "times"),
    ({"times": "twice"}, "times"),
    ([], None),
    ("not an object", None),
]


async def test_a_bad_fault_is_a_400_naming_the_field_and_adds_nothing(mocks: MockUpstreams) -> None:
    for fault, field in BAD_FAULTS:
        status, body = await mocks.call("orders", "POST", "/_control/faults", fault)
        assert (status, body["error"]["code"], body["error"].get("field")) == (400, "INVALID_ARGUMENT", field), fault
    assert await faults(mocks, "orders") == []


async def test_other_bad_control_input_is_a_400(mocks: MockUpstreams) -> None:
    contract = Contract(mocks)
    for target, method, payload in (
        ("/_control/faults", "POST", b"{not json"),
        ("/_control/clock", "PUT", b"{not json"),
        ("/_control/clock", "PUT", b'{"now": "tomorrow"}'),
        ("/_control/clock", "PUT", b'{"now": 1795262400}'),
        ("/_control/clock", "PUT", b'{"now": "2026-11-20T12:00:00"}'),  # no UTC offset
        ("/_control/clock", "PUT", b'["2026-11-20T12:00:00Z"]'),
        ("/_control/requests?limit=ten", "GET", b""),
    ):
        exchange = await contract.raw("carrier", method, target, data=payload)
        contract.check(exchange, document_name="control", request=False)
        assert exchange.status == 400, exchange
    assert (await mocks.control("carrier", "GET", "clock"))["now"] == TEST_NOW.isoformat()


async def test_a_clock_put_without_now_is_a_400(mocks: MockUpstreams) -> None:
    status, body = await mocks.call("orders", "PUT", "/_control/clock", {"nwo": "2026-11-20T12:00:00Z"})
    assert (status, body["error"]["field"]) == (400, "now")
    assert (await mocks.control("orders", "GET", "clock"))["pinned"] is True  # still pinned
