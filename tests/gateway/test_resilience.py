"""The fault matrix: every upstream through every fault the mocks inject, for the key queries; and the
policies behind it (retries, breaker, bulkhead, pools) one by one."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from yarl import URL

from gateway.errors import UpstreamUnavailable
from gateway.upstream import RequestScope, Transport
from gateway.upstream.base import Response
from gateway.upstream.resilience import BreakerState, CircuitBreaker, RetryPolicy, parse_retry_after
from tests.harness import ALICE, Gateway, running_gateway
from tests.upstreams import SERVICES, MockUpstreams

TIGHT = {"upstream_timeout": 0.3, "request_deadline": 1.0, "upstream_retries": 2, "retry_base_delay": 0.01,
         "retry_max_delay": 0.05, "breaker_threshold": 50, "breaker_cool_off": 0.5}
ORDER_PAGE = """query($id: ID!) { order(id: $id) {
  id statusLabel trackingAvailable afterSalesAvailable lineItems { name quantity }
  packages { status statusSource trackingEvents { code } tracker { kind state } }
  afterSalesActions { kind available } returns { id } } }"""
HISTORY = """{ orders(first: 10) { edges { node { id statusLabel trackingAvailable afterSalesAvailable
  packages { statusSource trackingEvents { code } } afterSalesActions { kind } } } } }"""
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
# These damage one item of a well-formed batch (the others break the whole body).
ITEM_FAULTS = {"missing_field", "unknown_enum", "bad_date", "wrong_type"}



def _error_for(body: dict[str, Any], service: str) -> dict[str, Any]:
    errors = [e for e in body.get("errors", []) if e.get("extensions", {}).get("service") == service]
    assert errors, f"no error names {service}: {body.get('errors')}"
    return errors[0]


def _check_order_page(service: str, fault: str, body: dict[str, Any]) -> None:
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


def _check_history_page(service: str, fault: str, body: dict[str, Any]) -> None:
    if service == "orders" and fault in ITEM_FAULTS:
        # One malformed order of the search: the page is answered without it, and says so.
        nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
        assert len(nodes) == 10 and all(n["statusLabel"] for n in nodes), "the next order takes its place"
        (error,) = body["errors"]
        assert error["path"] == ["orders"] and "is left out of this page" in error["message"]
        left_out = re.search(r"order (\S+) could not be read", error["message"])
        assert left_out and left_out.group(1).startswith("ord-")
        assert left_out.group(1) not in {n["id"] for n in nodes}
        assert error["extensions"] == {"code": "UPSTREAM_BAD_DATA", "service": "orders"}
        return
    if service == "orders":
        assert body["data"] is None, "without the order service there is no list to answer"
        assert len(body["errors"]) == 1 and body["errors"][0]["path"] == ["orders"]
        return
    nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
    assert len(nodes) == 10 and all(n["statusLabel"] for n in nodes), "every order of the page is answered"
    flag, other = (("trackingAvailable", "afterSalesAvailable") if service == "carrier"
                   else ("afterSalesAvailable", "trackingAvailable"))
    assert all(n[other] for n in nodes), "the other side service's part is untouched"
    degraded = {i for i, n in enumerate(nodes) if not n[flag]}
    failing = [e for e in body["errors"] if e["extensions"].get("service") == service]
    assert {e["path"][2] for e in failing} == degraded, "each error points at an order that lost its part"
    if fault in ITEM_FAULTS:
        assert len(degraded) == 1, "a malformed item costs its own order only"
    if service == "carrier":
        # Orders with nothing shipped need no tracking, so even a whole-batch failure spares them.
        assert degraded
        for i, node in enumerate(nodes):
            events = [p["trackingEvents"] for p in node["packages"]]
            if i in degraded:
                assert all(e in (None, []) for e in events)
                assert all(p["statusSource"] == "ORDER_SERVICE" for p in node["packages"])
            else:
                assert None not in events
        if fault in ITEM_FAULTS:
            assert any(p["trackingEvents"] for n in nodes for p in n["packages"]), "the neighbours keep theirs"
    else:
        assert all((n["afterSalesActions"] is None) == (i in degraded) for i, n in enumerate(nodes))
        if fault not in ITEM_FAULTS:
            assert len(degraded) == len(nodes)


@dataclass(frozen=True)
class Page:
    query: str
    variables: dict[str, Any]
    routes: dict[str, str]  # service -> the mock route the page reads it through
    check: Callable[[str, str, dict[str, Any]], None]


PAGES = {
    "order": Page(ORDER_PAGE, {"id": ORDER_ID}, ROUTES, _check_order_page),
    "history": Page(HISTORY, {}, {**ROUTES, "orders": "orders.search"}, _check_history_page),
}


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_page_degrades_with_the_failure_stated(mocks: MockUpstreams, caplog: pytest.LogCaptureFixture,
                                                       page: str, service: str, fault: str) -> None:
    spec, code, calls = FAULTS[fault]
    shape = PAGES[page]
    caplog.set_level(logging.WARNING, logger="gateway.upstream")
    await mocks.fault(service, route=shape.routes[service], **spec)
    async with running_gateway(mocks, **TIGHT) as gw:
        started = time.monotonic()
        response = await gw.post(shape.query, shape.variables)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < TIGHT["request_deadline"] + 0.3, f"took {elapsed:.2f}s"
    body = response.json()
    error = _error_for(body, service)
    assert error["extensions"]["code"] == code
    assert "Traceback" not in error["message"]
    assert all(e["extensions"].get("service") in (service, None) for e in body["errors"]), "no other service"
    shape.check(service, fault, body)
    assert (await mocks.counters(service)).get(shape.routes[service]) == calls
    if code == "UPSTREAM_BAD_DATA":
        reasons = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected at the border: ")]
        assert reasons, "every rejection at the border is logged with its reason"


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("service", SERVICES)
async def test_an_upstream_that_refuses_connections(mocks: MockUpstreams, page: str, service: str) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    shape = PAGES[page]
    async with running_gateway(mocks, **TIGHT, **{f"{service}_url": f"http://127.0.0.1:{port}/"}) as gw:
        body = await gw.query(shape.query, shape.variables)
    assert _error_for(body, service)["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    shape.check(service, "connection_refused", body)


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


async def test_the_breaker_opens_fails_fast_then_probes_and_closes(mocks: MockUpstreams,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.upstream")
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
    assert _breaker_lines(caplog) == [("WARNING", "circuit breaker for carrier: closed -> open"),
                                      ("INFO", "circuit breaker for carrier: open -> half_open"),
                                      ("INFO", "circuit breaker for carrier: half_open -> closed")]


def _breaker_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.getMessage().startswith("circuit breaker")]


def test_every_breaker_transition_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.upstream")
    now = [0.0]
    breaker = CircuitBreaker("aftersales", threshold=2, cool_off=5.0, clock=lambda: now[0])
    breaker.failure()
    assert breaker.allow() and _breaker_lines(caplog) == [], "one failure below the threshold changes nothing"
    breaker.failure()
    assert not breaker.allow() and breaker.seconds_until_probe() == 5.0
    now[0] = 5.0
    assert breaker.allow(), "the cool-off is over: one probe"
    assert not breaker.allow() and "one probe is in flight" in breaker.refusal()
    breaker.failure()  # the probe failed: open again, for a whole new cool-off
    now[0] = 9.9
    assert not breaker.allow()
    now[0] = 10.0
    assert breaker.allow()
    breaker.success()
    breaker.success()
    assert _breaker_lines(caplog) == [("WARNING", "circuit breaker for aftersales: closed -> open"),
                                      ("INFO", "circuit breaker for aftersales: open -> half_open"),
                                      ("WARNING", "circuit breaker for aftersales: half_open -> open"),
                                      ("INFO", "circuit breaker for aftersales: open -> half_open"),
                                      ("INFO", "circuit breaker for aftersales: half_open -> closed")]


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 8])
def test_backoff_doubles_from_the_base_up_to_the_cap_with_full_jitter(attempt: int) -> None:
    policy = RetryPolicy(attempts=10, base=0.05, cap=1.0)
    ceiling = min(1.0, 0.05 * 2 ** (attempt - 1))
    assert policy.delay(attempt, None, rng=lambda: 0.0) == 0.0
    assert policy.delay(attempt, None, rng=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
    delays = [policy.delay(attempt, None) for _ in range(200)]
    assert all(0.0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling / 2 and min(delays) < ceiling / 2, "spread over the whole range: full jitter"


def test_retry_after_wins_over_the_backoff() -> None:
    policy = RetryPolicy(attempts=3, base=0.05, cap=1.0)
    assert policy.delay(1, 2.0, rng=lambda: 0.5) == 2.0
    assert policy.delay(2, 0.0) == 0.0


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("header", "seconds"), [
    ("7", 7.0),
    (" 0 ", 0.0),
    ("Fri, 20 Nov 2026 12:00:30 GMT", 30.0),  # an HTTP date (RFC 9110 IMF-fixdate)
    ("Friday, 20-Nov-26 12:01:00 GMT", 60.0),  # the obsolete RFC 850 form is still a date
    ("Fri, 20 Nov 2026 11:59:00 GMT", 0.0),  # a date in the past means now, never a negative wait
    ("soon", None),
    ("-5", None),
    ("", None),
    (None, None),
])
def test_retry_after_is_read_as_seconds_or_as_an_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


SHIPPED = ["ord-us-in-transit", "ord-us-carrier-delay", "ord-us-late", "ord-us-delivered", "ord-us-lost",
           "ord-us-failed-attempt"]  # one tracking each, so no two requests share a carrier read
TRACKED = """query($id: ID!) { order(id: $id) { id trackingAvailable afterSalesAvailable lineItems { name }
  packages { trackingEvents { code } } afterSalesActions { kind } } }"""


async def _until_calls(mocks: MockUpstreams, service: str, route: str, count: int) -> None:
    """Wait until the mock has seen ``count`` calls on ``route`` (they may still be hanging there)."""
    deadline = time.monotonic() + 3.0
    while (await mocks.counters(service)).get(route, 0) < count:
        assert time.monotonic() < deadline, f"{service} never saw {count} calls on {route}"
        await asyncio.sleep(0.02)


async def test_a_hanging_upstream_gets_at_most_its_cap_of_calls_and_the_excess_fails_fast(
        mocks: MockUpstreams) -> None:
    settings = {**TIGHT, "upstream_timeout": 1.0, "request_deadline": 2.0, "upstream_retries": 0,
                "upstream_max_in_flight": 2, "upstream_queue_wait": 0.05}
    await mocks.fault("carrier", route="trackings.batch", hang=True, hang_ms=5000)

    async with running_gateway(mocks, **settings) as gw:
        async def timed(order_id: str) -> tuple[float, dict[str, Any]]:
            started = time.monotonic()
            body = await gw.query(TRACKED, {"id": order_id})
            return time.monotonic() - started, body

        holders = [asyncio.create_task(timed(order_id)) for order_id in SHIPPED[:2]]
        await _until_calls(mocks, "carrier", "trackings.batch", 2)
        upstreams = (await gw.client.get("/readyz")).json()["upstreams"]
        assert {name: u["in_flight"] for name, u in upstreams.items()} == {"orders": 0, "carrier": 2,
                                                                          "aftersales": 0}
        excess = await asyncio.gather(*(timed(order_id) for order_id in SHIPPED[2:]))
        held = await asyncio.gather(*holders)
        metrics = (await gw.client.get("/metrics")).text
    assert (await mocks.counters("carrier"))["trackings.batch"] == 2, "no call beyond the cap reached the carrier"
    for seconds, body in excess:
        assert seconds < 0.5, f"the excess waited {seconds:.2f}s: it should not queue behind a hanging carrier"
        error = _error_for(body, "carrier")
        assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
        assert "2 calls already in flight" in error["message"]
    for seconds, body in held:
        assert seconds >= 1.0 and _error_for(body, "carrier")["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    for _, body in excess + held:
        order = body["data"]["order"]
        assert order["lineItems"] and order["afterSalesActions"] is not None, "the other upstreams still answer"
        assert order["trackingAvailable"] is False and order["afterSalesAvailable"] is True
        assert {e["extensions"]["service"] for e in body["errors"]} == {"carrier"}
    assert 'gateway_upstream_errors_total{kind="saturated",service="carrier"} 4.0' in metrics


async def test_each_upstream_has_its_own_connection_pool_of_the_configured_size(mocks: MockUpstreams) -> None:
    # One connection per upstream: three slow carrier reads go out one after the other, while the order
    # and after-sales reads, over their own connections, are not held up behind them.
    await mocks.fault("carrier", route="trackings.batch", latency_ms=300)
    async with running_gateway(mocks, **{**TIGHT, "upstream_timeout": 2.0, "request_deadline": 3.0,
                                         "upstream_pool_size": 1}) as gw:
        bodies = await asyncio.gather(*(gw.query(TRACKED, {"id": order_id}) for order_id in SHIPPED[:3]))
    assert all("errors" not in body for body in bodies)

    async def arrivals(service: str, route: str) -> list[float]:
        logged = (await mocks.control(service, "GET", "requests"))["requests"]
        return sorted(r["time"] for r in logged if r["route"] == route)

    carrier = await arrivals("carrier", "trackings.batch")
    assert len(carrier) == 3
    assert all(later - earlier >= 0.25 for earlier, later in itertools.pairwise(carrier)), carrier
    for service, route in (("orders", "orders.batch"), ("aftersales", "aftersales.batch")):
        times = await arrivals(service, route)
        assert len(times) == 3 and times[-1] - times[0] < 0.2, (service, times)


async def _read_tracking(transport: Transport) -> Response:
    body = {"trackings": [{"slug": "usps", "tracking_number": "9400831554563426246054"}]}
    return await transport.request(RequestScope(), "POST", "trackings/batch_get", route="trackings.batch",
                                   idempotent=True, json=body)


@asynccontextmanager
async def _half_open_carrier(mocks: MockUpstreams) -> AsyncIterator[tuple[Transport, CircuitBreaker]]:
    """A carrier transport whose breaker opened on one failure and whose cool-off is just over."""
    now = [0.0]
    breaker = CircuitBreaker("carrier", threshold=1, cool_off=5.0, clock=lambda: now[0])
    async with aiohttp.ClientSession() as session:
        transport = Transport("carrier", URL(mocks.url("carrier")), session, 2.0, retry=RetryPolicy(attempts=1),
                              breaker=breaker)
        await mocks.fault("carrier", route="trackings.batch", status=503, times=1)
        with pytest.raises(UpstreamUnavailable):
            await _read_tracking(transport)
        assert breaker.state is BreakerState.OPEN and not breaker.allow()
        now[0] = 5.0
        yield transport, breaker


async def test_a_half_open_breaker_lets_exactly_one_probe_through_however_many_arrive(
        mocks: MockUpstreams) -> None:
    async with _half_open_carrier(mocks) as (transport, breaker):
        # A slow probe, so that all the others arrive while it is out.
        await mocks.fault("carrier", route="trackings.batch", latency_ms=200, times=1)
        results = await asyncio.gather(*(_read_tracking(transport) for _ in range(20)), return_exceptions=True)
    probes = [r for r in results if isinstance(r, Response)]
    refused = [r for r in results if isinstance(r, UpstreamUnavailable)]
    assert len(probes) == 1 and len(refused) == 19
    assert all("one probe is in flight" in str(r) for r in refused)
    assert (await mocks.counters("carrier"))["trackings.batch"] == 2, "the failure, then the one probe"
    assert breaker.state is BreakerState.CLOSED


async def test_a_probe_abandoned_by_its_caller_does_not_wedge_the_breaker_half_open(mocks: MockUpstreams) -> None:
    async with _half_open_carrier(mocks) as (transport, breaker):
        await mocks.fault("carrier", route="trackings.batch", hang=True, hang_ms=5000, times=1)
        probe = asyncio.create_task(_read_tracking(transport))
        await _until_calls(mocks, "carrier", "trackings.batch", 2)
        probe.cancel()  # the request that sent it gave up (its client went away)
        with pytest.raises(asyncio.CancelledError):
            await probe
        assert breaker.state is BreakerState.HALF_OPEN
        response = await _read_tracking(transport)  # the next call is the new probe, not refused forever
    assert response.status == 200 and breaker.state is BreakerState.CLOSED


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
