"""The order history over 600 generated orders: newest first, complete, no duplicates, filters that miss nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

import gateway.history
from gateway.auth import Role
from mocks.catalog import build_world
from mocks.service import MockConfig
from tests.harness import ALICE, Gateway, running_gateway
from tests.upstreams import TEST_NOW, MockUpstreams, running_mocks

GENERATED = 600
WORLD = build_world(TEST_NOW, generated=GENERATED)
THREADLINE = "shop-us-threadline"
AS_SELLER: dict[str, Any] = {"as_": "seller-threadline", "role": Role.SELLER, "shop_id": THREADLINE}

HISTORY = """query($first: Int!, $after: String, $filter: OrderHistoryFilter) {
  orders(first: $first, after: $after, filter: $filter) {
    totalCount edges { cursor node { id placedAt displayStatus } } pageInfo { hasNextPage endCursor } } }"""
SELLER_HISTORY = """query($first: Int!, $after: String, $filter: SellerOrderFilter) {
  sellerOrders(first: $first, after: $after, filter: $filter) {
    totalCount edges { cursor node { id placedAt sellerStatus seller { id } } }
    pageInfo { hasNextPage endCursor } } }"""


def _placed(order: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(order["create_time"], UTC)


ALICES = {o["id"]: o for o in WORLD.orders.values() if o["buyer_user_id"] == ALICE}
THREADLINES = {o["id"]: o for o in WORLD.orders.values() if o["shop_id"] == THREADLINE}


@dataclass
class Walk:
    nodes: list[dict[str, Any]]
    pages: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [n["id"] for n in self.nodes]


async def _walk(gw: Gateway, filter: dict[str, Any] | None = None, *, first: int = 7, seller: bool = False,
                max_pages: int = 60, **who: Any) -> Walk:
    query, field = (SELLER_HISTORY, "sellerOrders") if seller else (HISTORY, "orders")
    who = who or (AS_SELLER if seller else {"as_": ALICE})
    walk = Walk([], [])
    after = None
    for _ in range(max_pages):
        body = await gw.query(query, {"first": first, "after": after, "filter": filter}, **who)
        assert "errors" not in body, body["errors"]
        page = body["data"][field]
        walk.pages.append(page)
        walk.nodes += [e["node"] for e in page["edges"]]
        assert len(page["edges"]) <= first
        if not page["pageInfo"]["hasNextPage"]:
            return walk
        assert page["pageInfo"]["endCursor"], "a next page needs a cursor"
        after = page["pageInfo"]["endCursor"]
    raise AssertionError(f"no last page after {max_pages} requests (the cursor does not advance)")


def _assert_newest_first_without_duplicates(walk: Walk) -> None:
    placed = [datetime.fromisoformat(n["placedAt"]) for n in walk.nodes]
    assert placed == sorted(placed, reverse=True), "not newest first"
    assert len(walk.ids) == len(set(walk.ids)), "an order appeared twice"


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def upstreams() -> AsyncIterator[MockUpstreams]:
    # Read-only tests: one generated world for the module (building it is the slow part)...
    async with running_mocks(MockConfig(now=TEST_NOW, generated=GENERATED)) as mocks:
        yield mocks


@pytest_asyncio.fixture(loop_scope="module")
async def world(upstreams: MockUpstreams) -> AsyncIterator[tuple[MockUpstreams, Gateway]]:
    # ...and a fresh gateway (breakers, caches) and fresh counters for each test.
    await upstreams.reset_counters()
    async with running_gateway(upstreams) as gw:
        yield upstreams, gw


async def _display_statuses(gw: Gateway, ids: list[str], **who: Any) -> dict[str, dict[str, str]]:
    """Each order's statuses as its own page answers them (order(id)), 25 orders per request."""
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), 25):
        chunk = ids[start : start + 25]
        fields = " ".join(f'o{i}: order(id: "{oid}") {{ id displayStatus sellerStatus }}'
                          for i, oid in enumerate(chunk))
        body = await gw.query("{ " + fields + " }", **(who or {"as_": ALICE}))
        assert "errors" not in body, body["errors"]
        found.update({o["id"]: o for o in body["data"].values()})
    return found


# -- the whole history -----------------------------------------------------------------------------

async def test_alices_whole_history_is_newest_first_complete_and_counted(
        world: tuple[MockUpstreams, Gateway]) -> None:
    mocks, gw = world
    assert len(ALICES) > 40, "the generated world should give Alice a history worth paging"
    walk = await _walk(gw, first=7)
    _assert_newest_first_without_duplicates(walk)
    assert set(walk.ids) == set(ALICES)
    assert len(walk.pages) == -(-len(ALICES) // 7)
    assert [len(p["edges"]) for p in walk.pages[:-1]] == [7] * (len(walk.pages) - 1)
    assert {p["totalCount"] for p in walk.pages} == {len(ALICES)}
    # The listing carries whole orders: a page never goes back to the order service one batch at a time.
    assert "orders.batch" not in await mocks.counters("orders")


async def test_page_size_does_not_change_the_history(world: tuple[MockUpstreams, Gateway]) -> None:
    _, gw = world
    one_page = await _walk(gw, first=50)  # the largest page
    assert len(one_page.pages) == -(-len(ALICES) // 50) and one_page.pages[-1]["pageInfo"]["hasNextPage"] is False
    for first in (1, 13):
        walk = await _walk(gw, first=first)
        assert walk.ids == one_page.ids, first


# -- filters ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("statuses", [["DELIVERED"], ["CANCELLED", "REFUNDED"], ["SHIPPED", "DELAYED"]])
async def test_a_display_status_filter_keeps_exactly_the_matching_orders(
        world: tuple[MockUpstreams, Gateway], statuses: list[str]) -> None:
    _, gw = world
    everything = await _walk(gw, first=50)
    detail = await _display_statuses(gw, everything.ids)
    expected = [oid for oid in everything.ids if detail[oid]["displayStatus"] in statuses]
    assert len(expected) >= 2, "pick statuses the world has"
    walk = await _walk(gw, {"displayStatus": statuses}, first=2)
    assert walk.ids == expected
    assert {n["displayStatus"] for n in walk.nodes} <= set(statuses)
    assert {p["totalCount"] for p in walk.pages} == {None}, "null when filtering on a derived status"


async def test_a_status_filter_spanning_many_upstream_pages_misses_nothing(
        world: tuple[MockUpstreams, Gateway], monkeypatch: pytest.MonkeyPatch) -> None:
    # Small upstream pages and a small scan budget, so one answer takes several pages and runs out of budget.
    monkeypatch.setattr(gateway.history, "FILTERED_PAGE_SIZE", 4)
    monkeypatch.setattr(gateway.history, "MAX_SCAN_PAGES", 2)
    _, gw = world
    everything = await _walk(gw, first=50)
    detail = await _display_statuses(gw, everything.ids)
    for statuses in (["AWAITING_PAYMENT"], ["DELIVERED", "REFUNDED"]):
        expected = [oid for oid in everything.ids if detail[oid]["displayStatus"] in statuses]
        walk = await _walk(gw, {"displayStatus": statuses}, first=2)
        assert walk.ids == expected, statuses


async def test_a_one_page_scan_budget_still_makes_progress(
        world: tuple[MockUpstreams, Gateway], monkeypatch: pytest.MonkeyPatch) -> None:
    _, gw = world
    everything = await _walk(gw, first=50)
    detail = await _display_statuses(gw, everything.ids)
    expected = [oid for oid in everything.ids if detail[oid]["displayStatus"] == "AWAITING_PAYMENT"]
    assert expected
    monkeypatch.setattr(gateway.history, "FILTERED_PAGE_SIZE", 5)
    monkeypatch.setattr(gateway.history, "MAX_SCAN_PAGES", 1)
    walk = await _walk(gw, {"displayStatus": ["AWAITING_PAYMENT"]}, first=2, max_pages=2 * len(ALICES))
    assert walk.ids == expected


async def test_date_filters_are_pushed_down_and_counted(world: tuple[MockUpstreams, Gateway]) -> None:
    mocks, gw = world
    after, before = TEST_NOW - timedelta(days=10, seconds=30), TEST_NOW - timedelta(days=2, seconds=30)
    assert all(_placed(o) not in (after, before) for o in ALICES.values()), "boundaries must not be ambiguous"
    cases: list[tuple[dict[str, Any], Callable[[datetime], bool]]] = [
        ({"placedAfter": after.isoformat()}, lambda t: t >= after),
        ({"placedBefore": before.isoformat()}, lambda t: t < before),
        ({"placedAfter": after.isoformat(), "placedBefore": before.isoformat()}, lambda t: after <= t < before),
    ]
    for filter, keep in cases:
        expected = {oid for oid, o in ALICES.items() if keep(_placed(o))}
        assert 0 < len(expected) < len(ALICES), filter
        await mocks.reset_counters()
        walk = await _walk(gw, filter, first=5)
        _assert_newest_first_without_duplicates(walk)
        assert set(walk.ids) == expected, filter
        # totalCount is the order service's own count: equal means the filter was pushed down to it.
        assert {p["totalCount"] for p in walk.pages} == {len(expected)}, filter
        searches = (await mocks.counters("orders"))["orders.search"]
        assert searches <= 2 * len(walk.pages), "a page costs at most two searches (resume, then continue)"


async def test_date_and_status_filters_combine(world: tuple[MockUpstreams, Gateway]) -> None:
    _, gw = world
    after = TEST_NOW - timedelta(days=30)
    everything = await _walk(gw, {"placedAfter": after.isoformat()}, first=50)
    detail = await _display_statuses(gw, everything.ids)
    expected = [oid for oid in everything.ids if detail[oid]["displayStatus"] in ("SHIPPED", "DELIVERED")]
    assert expected
    walk = await _walk(gw, {"placedAfter": after.isoformat(), "displayStatus": ["SHIPPED", "DELIVERED"]}, first=3)
    assert walk.ids == expected


async def test_date_filters_respect_fractions_of_a_second(world: tuple[MockUpstreams, Gateway]) -> None:
    _, gw = world
    placed = _placed(ALICES["ord-us-on-hold"])
    half = (placed + timedelta(milliseconds=500)).isoformat()
    later = await _walk(gw, {"placedAfter": half}, first=50)
    earlier = await _walk(gw, {"placedBefore": half}, first=50)
    assert "ord-us-on-hold" not in later.ids, "placed before placedAfter"
    assert "ord-us-on-hold" in earlier.ids, "placed before placedBefore"


# -- sellers ---------------------------------------------------------------------------------------

async def test_a_sellers_orders_are_its_shops_newest_first(world: tuple[MockUpstreams, Gateway]) -> None:
    _, gw = world
    walk = await _walk(gw, first=7, seller=True)
    _assert_newest_first_without_duplicates(walk)
    assert set(walk.ids) == set(THREADLINES)
    assert {n["seller"]["id"] for n in walk.nodes} == {THREADLINE}
    assert {p["totalCount"] for p in walk.pages} == {len(THREADLINES)}


@pytest.mark.parametrize("statuses", [["TO_SHIP"], ["COMPLETED"], ["PENDING", "CANCELLED"]])
async def test_seller_status_filters_keep_exactly_the_matching_orders(
        world: tuple[MockUpstreams, Gateway], statuses: list[str]) -> None:
    _, gw = world
    everything = await _walk(gw, first=50, seller=True)
    detail = await _display_statuses(gw, everything.ids, **AS_SELLER)
    expected = [oid for oid in everything.ids if detail[oid]["sellerStatus"] in statuses]
    assert expected, "pick statuses the shop has"
    assert [n["sellerStatus"] for n in everything.nodes] == [detail[i]["sellerStatus"] for i in everything.ids]
    walk = await _walk(gw, {"status": statuses}, first=2, seller=True)
    assert walk.ids == expected
    assert {p["totalCount"] for p in walk.pages} == {None}


# -- cursors ---------------------------------------------------------------------------------------

async def test_a_cursor_from_one_filter_is_rejected_on_another(world: tuple[MockUpstreams, Gateway]) -> None:
    mocks, gw = world
    issued = {"displayStatus": ["SHIPPED"]}
    body = await gw.query(HISTORY, {"first": 1, "filter": issued})
    cursor = body["data"]["orders"]["pageInfo"]["endCursor"]
    assert cursor and body["data"]["orders"]["pageInfo"]["hasNextPage"]
    accepted = await gw.query(HISTORY, {"first": 1, "after": cursor, "filter": issued})
    assert "errors" not in accepted
    assert accepted["data"]["orders"]["edges"][0]["node"]["id"] != body["data"]["orders"]["edges"][0]["node"]["id"]
    await mocks.reset_counters()
    for other in ({"displayStatus": ["DELIVERED"]}, {"displayStatus": ["SHIPPED", "DELIVERED"]}, None,
                  {"displayStatus": ["SHIPPED"], "placedAfter": "2026-01-01T00:00:00Z"}):
        rejected = await gw.query(HISTORY, {"first": 1, "after": cursor, "filter": other})
        assert rejected["data"] is None, other
        assert [e["extensions"] for e in rejected["errors"]] == [{"code": "BAD_USER_INPUT", "argument": "after"}]
    assert await mocks.counters("orders") == {}
    seller = await gw.query(SELLER_HISTORY, {"first": 1, "after": cursor}, **AS_SELLER)
    assert seller["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
