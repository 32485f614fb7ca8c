"""The fault matrix: every upstream through every fault the mocks inject, for the key queries."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from tests.harness import ALICE, Gateway, running_gateway
from tests.upstreams import MockUpstreams

TIGHT = {"upstream_timeout": 0.3, "request_deadline": 1.0, "upstream_retries": 2, "retry_base_delay": 0.01,
         "retry_max_delay": 0.05, "breaker_threshold": 50, "breaker_cool_off": 0.5}
ORDER_PAGE = """query($id: ID!) { order(id: $id) {
  id statusLabel trackingAvailable afterSalesAvailable lineItems { name quantity }
  packages { status statusSource trackingEvents { code } tracker { kind state } }
  afterSalesActions { kind available } returns { id } } }"""
HISTORY = """{ orders(first: 10) { edges { node { id statusLabel trackingAvailable afterSalesAvailable
  packages { trackingEvents { code } } afterSalesActions { kind } } } } }"""
ROUTES = {"orders": "orders.batch", "carrier": "trackings.batch", "aftersales": "aftersales.batch"}
ORDER_ID = "ord-us-split-size"  # two packages: both upstream reads happen

# fault -> (extensions.code, upstream calls the policy allows: 1 + retries for outages, 1 otherwise)
FAULTS: dict[str, tuple[dict[str, Any], str, int]] = {
    "timeout": ({"latency_ms": 600}, "UPSTREAM_TIMEOUT", 1),
    "hang": ({"hang": True, "hang_ms": 5000}, "UPSTREAM_TIMEOUT", 1),
    "trickle": ({"trickle_ms": 100}, "UPSTREAM_TIMEOUT", 1),
    "http_500": ({"status": 500}, "UPSTREAM_UNAVAILABLE", 3),
    "http_503": ({"status": 503}, "UPSTREAM_UNAVAILABLE", 3),
    "http_429_retry_after_too_long": ({"status": 429, "retry_after": 30}, "UPSTREAM_UNAVAILABLE", 1),
    "connection_reset": ({"close": True}, "UPSTREAM_UNAVAILABLE", 3),
    "truncated": ({"malformed": "truncated"}, "UPSTREAM_BAD_DATA", 1),
    "not_json": ({"malformed": "not_json"}, "UPSTREAM_BAD_DATA", 1),
    "missing_field": ({"malformed": "missing_field"}, "UPSTREAM_BAD_DATA", 1),
    "unknown_enum": ({"malformed": "unknown_enum"}, "UPSTREAM_BAD_DATA", 1),
    "bad_date": ({"malformed": "bad_date"}, "UPSTREAM_BAD_DATA", 1),
    "wrong_type": ({"malformed": "wrong_type"}, "UPSTREAM_BAD_DATA", 1),
}


def _error_for(body: dict[str, Any], service: str) -> dict[str, Any]:
    errors = [e for e in body.get("errors", []) if e.get("extensions", {}).get("service") == service]
    assert errors, f"no error names {service}: {body.get('errors')}"
    return errors[0]


def _check_degraded(service: str, body: dict[str, Any]) -> None:
    order = body["data"]["order"]
    if service == "orders":
        assert order is None
        return
    assert order is not None and order["lineItems"], "the order itself is still answered"
    if service == "carrier":
        assert order["trackingAvailable"] is False
        assert all(p["trackingEvents"] is None for p in order["packages"])
        assert all(p["statusSource"] == "ORDER_SERVICE" for p in order["packages"])
        assert order["afterSalesActions"] is not None
    else:
        assert order["afterSalesAvailable"] is False
        assert order["afterSalesActions"] is None and order["returns"] is None
        assert order["trackingAvailable"] is True
        assert all(p["trackingEvents"] for p in order["packages"])


@pytest.mark.parametrize("service", ["orders", "carrier", "aftersales"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_the_order_page_degrades_with_the_failure_stated(mocks: MockUpstreams, service: str, fault: str) -> None:
    spec, code, calls = FAULTS[fault]
    await mocks.fault(service, route=ROUTES[service], **spec)
    async with running_gateway(mocks, **TIGHT) as gw:
        started = time.monotonic()
        response = await gw.post(ORDER_PAGE, {"id": ORDER_ID})
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < TIGHT["request_deadline"] + 0.3, f"took {elapsed:.2f}s"
    body = response.json()
    error = _error_for(body, service)
    assert error["extensions"]["code"] == code
    assert "Traceback" not in error["message"]
    _check_degraded(service, body)
    assert (await mocks.counters(service)).get(ROUTES[service]) == calls


@pytest.mark.parametrize("service", ["carrier", "aftersales"])
async def test_a_history_page_keeps_its_orders_when_a_side_service_fails(mocks: MockUpstreams, service: str) -> None:
    await mocks.fault(service, route=ROUTES[service], status=503)
    async with running_gateway(mocks, **TIGHT) as gw:
        body = await gw.query(HISTORY)
    edges = body["data"]["orders"]["edges"]
    assert len(edges) == 10
    assert all(e["node"]["statusLabel"] for e in edges)
    if service == "aftersales":
        assert all(e["node"]["afterSalesAvailable"] is False for e in edges)
    else:  # orders with nothing shipped needed no tracking; the others say theirs is missing
        assert any(e["node"]["trackingAvailable"] is False for e in edges)
        assert all(p["trackingEvents"] in (None, []) for e in edges for p in e["node"]["packages"])
    assert _error_for(body, service)["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert (await mocks.counters(service))[ROUTES[service]] == 3, "one batched call, retried twice, for the page"


async def test_a_history_page_without_the_order_service_is_a_clean_error(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.search", status=503)
    async with running_gateway(mocks, **TIGHT) as gw:
        response = await gw.post(HISTORY)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": "orders"}


@pytest.mark.parametrize("service", ["orders", "carrier", "aftersales"])
async def test_an_upstream_that_refuses_connections(mocks: MockUpstreams, service: str) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with running_gateway(mocks, **TIGHT, **{f"{service}_url": f"http://127.0.0.1:{port}/"}) as gw:
        body = await gw.query(ORDER_PAGE, {"id": ORDER_ID})
    assert _error_for(body, service)["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    _check_degraded(service, body)


@pytest.mark.parametrize("service", ["orders", "carrier", "aftersales"])
async def test_latency_within_the_timeout_changes_nothing(mocks: MockUpstreams, service: str) -> None:
    await mocks.fault(service, latency_ms=100, jitter_ms=50)
    async with running_gateway(mocks, **TIGHT) as gw:
        body = await gw.query(ORDER_PAGE, {"id": ORDER_ID})
    assert "errors" not in body
    assert body["data"]["order"]["trackingAvailable"] and body["data"]["order"]["afterSalesAvailable"]


@pytest.mark.parametrize("service", ["orders", "carrier", "aftersales"])
async def test_a_passing_429_is_retried_after_retry_after(mocks: MockUpstreams, service: str) -> None:
    await mocks.fault(service, route=ROUTES[service], status=429, retry_after=0, times=1)
    async with running_gateway(mocks, **TIGHT) as gw:
        body = await gw.query(ORDER_PAGE, {"id": ORDER_ID})
    assert "errors" not in body
    assert (await mocks.counters(service))[ROUTES[service]] == 2


async def test_retries_wait_as_long_as_retry_after_asks(mocks: MockUpstreams) -> None:
    await mocks.fault("carrier", route="trackings.batch", status=503, retry_after=1, times=1)
    async with running_gateway(mocks, **{**TIGHT, "request_deadline": 3.0}) as gw:
        started = time.monotonic()
        body = await gw.query(ORDER_PAGE, {"id": ORDER_ID})
        elapsed = time.monotonic() - started
    assert "errors" not in body
    assert elapsed >= 1.0
    assert (await mocks.counters("carrier"))["trackings.batch"] == 2


async def test_writes_are_never_retried(mocks: MockUpstreams) -> None:
    await mocks.fault("aftersales", route="returns.batch_create", status=503)
    async with running_gateway(mocks, **TIGHT) as gw:
        body = await gw.query("""mutation { requestReturn(input: {orderId: "ord-us-delivered",
            idempotencyKey: "no-retry-123", items: [{lineItemId: "ord-us-delivered-l1", reason: DAMAGED}]}) {
            return { id } } }""")
    assert body["errors"][0]["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": "aftersales"}
    assert (await mocks.counters("aftersales"))["returns.batch_create"] == 1


async def test_the_breaker_opens_fails_fast_then_probes_and_closes(mocks: MockUpstreams) -> None:
    settings = {**TIGHT, "breaker_threshold": 3, "upstream_retries": 0}
    fault = await mocks.fault("carrier", route="trackings.batch", status=503)
    async with running_gateway(mocks, **settings) as gw:
        for _ in range(3):
            await gw.query(ORDER_PAGE, {"id": ORDER_ID})
        assert (await mocks.counters("carrier"))["trackings.batch"] == 3
        ready = await gw.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["upstreams"]["carrier"]["breaker"] == "open"
        short_circuited = await gw.query(ORDER_PAGE, {"id": ORDER_ID})
        assert "circuit open" in _error_for(short_circuited, "carrier")["message"]
        assert (await mocks.counters("carrier"))["trackings.batch"] == 3, "an open circuit sends nothing"
        await mocks.control("carrier", "DELETE", f"faults/{fault['id']}")
        await asyncio.sleep(settings["breaker_cool_off"] + 0.05)
        probed = await gw.query(ORDER_PAGE, {"id": ORDER_ID})
        assert "errors" not in probed
        ready = await gw.client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["upstreams"]["carrier"]["breaker"] == "closed"


async def test_a_hanging_upstream_does_not_hold_up_the_rest_once_its_breaker_opens(mocks: MockUpstreams) -> None:
    """A bounded load: 60 requests, 6 at a time, with the carrier hanging. Each wave of 6 shares one
    carrier read (single-flight); the first 3 waves wait for its timeout and open the breaker; after
    that no request waits, and the carrier sees no more calls."""
    # A timeout long enough to tell "waited for the carrier" (>= 1 s) from "did not" (well under it).
    settings = {**TIGHT, "breaker_threshold": 3, "breaker_cool_off": 30.0, "upstream_timeout": 1.0,
                "request_deadline": 3.0}
    await mocks.fault("carrier", route="trackings.batch", hang=True, hang_ms=5000)
    query = """query($id: ID!) { order(id: $id) { id lineItems { name } totals { total { formatted } }
               afterSalesActions { kind available } } }"""
    async with running_gateway(mocks, **settings) as gw:
        durations: list[float] = []

        async def one() -> None:
            started = time.monotonic()
            body = await gw.query(query, {"id": ORDER_ID})
            durations.append(time.monotonic() - started)
            assert body["data"]["order"]["lineItems"]

        for _ in range(10):
            await asyncio.gather(*(one() for _ in range(6)))
    carrier_calls = (await mocks.counters("carrier"))["trackings.batch"]
    assert carrier_calls == 3, "one call per wave until the breaker opened, then none"
    after_open = durations[3 * 6 :]
    assert min(durations[:3 * 6]) >= 1.0, "the first waves waited for the carrier's timeout"
    assert max(after_open) < 0.5, "no request waited for the hanging carrier"


async def test_concurrent_requests_share_one_upstream_read(mocks: MockUpstreams, gateway: Gateway) -> None:
    for service in ("orders", "carrier", "aftersales"):
        await mocks.fault(service, latency_ms=150)
    bodies = await asyncio.gather(gateway.query(ORDER_PAGE, {"id": ORDER_ID}),
                                  gateway.query(ORDER_PAGE, {"id": ORDER_ID}),
                                  gateway.query(ORDER_PAGE, {"id": ORDER_ID}, as_="buyer-us-bob"))
    assert bodies[0]["data"] == bodies[1]["data"]
    assert bodies[2]["data"]["order"] is None, "sharing a read never shares what someone may see"
    assert bodies[2]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    counts = {**await mocks.counters("orders"), **await mocks.counters("carrier"),
              **await mocks.counters("aftersales")}
    assert counts == {"orders.batch": 1, "trackings.batch": 1, "aftersales.batch": 1}


async def test_the_optional_tracking_cache_serves_a_second_request(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, tracking_cache_ttl=60.0) as gw:
        for _ in range(3):
            assert "errors" not in await gw.query(ORDER_PAGE, {"id": ORDER_ID})
    assert (await mocks.counters("carrier"))["trackings.batch"] == 1
    assert (await mocks.counters("orders"))["orders.batch"] == 3, "orders are never cached"


async def test_a_malformed_tracking_degrades_only_its_order(mocks: MockUpstreams) -> None:
    # unknown_enum damages the first tracking of the batch; the other orders of the page keep theirs.
    await mocks.fault("carrier", route="trackings.batch", malformed="unknown_enum")
    async with running_gateway(mocks, **TIGHT) as gw:
        body = await gw.query(HISTORY)
    nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
    degraded = [n for n in nodes if not n["trackingAvailable"]]
    assert len(degraded) == 1
    assert any(n["trackingAvailable"] and n["packages"] for n in nodes)
    assert _error_for(body, "carrier")["extensions"]["code"] == "UPSTREAM_BAD_DATA"


async def test_no_request_outlives_its_deadline_whatever_the_upstreams_do(mocks: MockUpstreams) -> None:
    for service in ("orders", "carrier", "aftersales"):
        await mocks.fault(service, latency_ms=250)
    settings = {**TIGHT, "request_deadline": 0.4, "upstream_timeout": 0.3}
    async with running_gateway(mocks, **settings) as gw:
        started = time.monotonic()
        response = await gw.post(ORDER_PAGE, {"id": ORDER_ID}, as_=ALICE)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    # Without the deadline this takes 3 x 250 ms plus retries; with it, 0.4 s and a little overhead.
    assert elapsed < 0.4 + 0.35
    codes = {e["extensions"]["code"] for e in response.json().get("errors", [])}
    assert codes <= {"UPSTREAM_TIMEOUT"} and codes
