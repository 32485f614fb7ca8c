"""Rate limiting (issue 6): a token bucket per identity (token subject, or client address when anonymous);
past the burst the gateway answers 429 with Retry-After and RATE_LIMITED, before any upstream call."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest

from gateway.app import create_app
from gateway.ratelimit import MemoryRateLimiter
from gateway.settings import SettingsError
from tests.hardening_support import GRAPHQL_RESPONSE, JSON, assert_no_upstream_call, assert_refused
from tests.harness import ALICE, BOB, OLIVIA, Gateway, running_gateway, settings_for
from tests.upstreams import MockUpstreams

# One request a minute once the burst is spent: nothing refills while the test runs.
SLOW = {"rate_limit_per_minute": 1, "rate_limit_burst": 3}
ORDER = '{ order(id: "ord-us-in-transit") { id } }'
VIEWER = "{ viewer { id } }"


def _rate_limited(response: httpx.Response) -> None:
    body = assert_refused(response, 429, "RATE_LIMITED")
    retry = response.headers["retry-after"]
    assert retry.isdigit() and 1 <= int(retry) <= 60, retry
    assert retry in body["errors"][0]["message"]


async def test_the_burst_passes_then_429_with_retry_after_before_any_upstream_call(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, **SLOW) as gw:
        for _ in range(3):
            assert (await gw.query(VIEWER))["data"] == {"viewer": {"id": ALICE}}
        await assert_no_upstream_call(mocks)
        for accept in (GRAPHQL_RESPONSE, JSON):
            refused = await gw.client.post("/graphql", json={"query": ORDER}, headers={
                "Authorization": f"Bearer {gw.token()}", "Accept": accept})
            _rate_limited(refused)
            assert refused.headers["content-type"] == f"{accept}; charset=utf-8"
            assert refused.headers["x-request-id"]
        await assert_no_upstream_call(mocks)


async def test_a_refused_request_is_not_even_read(mocks: MockUpstreams) -> None:
    # The limit comes before the body: a malformed or oversized body is still just 429.
    async with running_gateway(mocks, **SLOW) as gw:
        for _ in range(3):
            await gw.query(VIEWER)
        auth = {"Authorization": f"Bearer {gw.token()}", "Content-Type": "application/json"}
        _rate_limited(await gw.client.post("/graphql", content=b"{not json", headers=auth))
        _rate_limited(await gw.client.post("/graphql", content=b" " * 300_000, headers=auth))
        _rate_limited(await gw.client.get("/graphql", params={"query": ORDER}, headers=auth))
        await assert_no_upstream_call(mocks)


async def test_a_different_identity_is_unaffected(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, **SLOW) as gw:
        for _ in range(3):
            await gw.query(VIEWER)
        _rate_limited(await gw.post(VIEWER))
        # Another buyer, and a seller, each have their own bucket.
        for _ in range(3):
            assert (await gw.query(VIEWER, as_=BOB))["data"] == {"viewer": {"id": BOB}}
        assert "errors" not in await gw.query(VIEWER, as_=OLIVIA)
        _rate_limited(await gw.post(VIEWER, as_=BOB))
        _rate_limited(await gw.post(VIEWER))  # Alice is still limited


async def test_a_fresh_token_for_the_same_subject_shares_the_bucket(mocks: MockUpstreams) -> None:
    # The identity is the token's subject, not the token: minting new tokens does not reset the budget.
    async with running_gateway(mocks, **SLOW) as gw:
        for _ in range(3):
            await gw.query(VIEWER)
        now = int(time.time())
        other = jwt.encode({"sub": ALICE, "role": "buyer", "iss": gw.settings.jwt_issuer,
                            "aud": gw.settings.jwt_audience, "iat": now, "exp": now + 60, "jti": "another"},
                           gw.settings.jwt_secret, algorithm="HS256")
        _rate_limited(await gw.client.post("/graphql", json={"query": VIEWER},
                                           headers={"Authorization": f"Bearer {other}"}))


@asynccontextmanager
async def _clients(mocks: MockUpstreams, *addresses: str, **overrides: Any) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One app, one client per client address (what the gateway sees as request.client)."""
    app = create_app(settings_for(mocks, **overrides))
    async with app.router.lifespan_context(app):
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                                     base_url="http://gateway.test") for address in addresses]
        try:
            yield clients
        finally:
            for client in clients:
                await client.aclose()


async def test_anonymous_requests_are_limited_per_client_address(mocks: MockUpstreams) -> None:
    async with _clients(mocks, "203.0.113.7", "203.0.113.8", **SLOW) as (first, second):
        for _ in range(3):
            response = await first.post("/graphql", json={"query": "{ __typename }"})
            assert response.json() == {"data": {"__typename": "Query"}}
        _rate_limited(await first.post("/graphql", json={"query": "{ __typename }"}))
        # A bad token does not buy a new identity: it is still this address.
        _rate_limited(await first.post("/graphql", json={"query": "{ __typename }"},
                                       headers={"Authorization": "Bearer not-a-token"}))
        # Another address has its own budget.
        for _ in range(3):
            assert (await second.post("/graphql", json={"query": "{ __typename }"})).status_code == 200
        _rate_limited(await second.post("/graphql", json={"query": "{ __typename }"}))
        await assert_no_upstream_call(mocks)


async def test_a_signed_in_buyer_is_not_limited_by_anonymous_traffic_from_the_same_address(
        mocks: MockUpstreams) -> None:
    async with _clients(mocks, "203.0.113.9", **SLOW) as (client,):
        for _ in range(4):
            await client.post("/graphql", json={"query": "{ __typename }"})
        gw = Gateway(client, settings_for(mocks, **SLOW))
        assert (await gw.query(VIEWER))["data"] == {"viewer": {"id": ALICE}}


async def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert [(await limiter.take("a")).allowed for _ in range(3)] == [True, True, False]
    refused = await limiter.take("a")
    assert not refused.allowed and refused.retry_after == 1
    now[0] += 1.0
    assert (await limiter.take("a")).allowed
    assert not (await limiter.take("a")).allowed
    now[0] += 60.0  # refills up to the burst, no further
    assert [(await limiter.take("a")).allowed for _ in range(3)] == [True, True, False]


async def test_rate_limiting_is_on_by_default_outside_the_tests(mocks: MockUpstreams) -> None:
    defaults = settings_for(mocks).with_(rate_limit_per_minute=1_200)
    assert (defaults.rate_limit_per_minute, defaults.rate_limit_burst) == (1_200, 200)
    assert isinstance(create_app(defaults).state.runtime.limiter, MemoryRateLimiter)


def test_a_zero_burst_with_a_rate_is_refused_at_start_up(mocks: MockUpstreams) -> None:
    # A bucket that can never hold a token would refuse every request forever.
    with pytest.raises(SettingsError, match="RATE_LIMIT_BURST"):
        settings_for(mocks, rate_limit_per_minute=60, rate_limit_burst=0)