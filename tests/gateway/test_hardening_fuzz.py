"""Fuzzing the GraphQL endpoint with Schemathesis (issue 6): documents generated from schema.graphql, valid
and invalid, for every query and mutation field, sent as a signed-in buyer over real HTTP to a production-mode
gateway (uvicorn, in a thread with its own event loop, over the mocks). No answer is a server error, and every
answer is a GraphQL response. Derandomized and bounded, so it is deterministic and quick."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode

from gateway.app import token_settings
from gateway.auth import Role, mint
from mocks.catalog import build_world
from tests.hardening_support import GRAPHQL_RESPONSE, JSON, PRODUCTION
from tests.harness import ALICE, settings_for
from tests.servers import running_server
from tests.upstreams import TEST_NOW, running_mocks

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
SCHEMA = schemathesis.graphql.from_path(SCHEMA_FILE)
OPERATIONS = [("Query", name) for name in ("order", "orders", "sellerOrders", "viewer", "returnReasons",
                                                                  "cancelReasons")] + [
    ("Mutation", name) for name in ("requestReturn", "addItemsToReturn", "cancelReturn", "reportNotReceived",
                                    "reportLate", "cancelOrder", "cancelItems", "changeShippingAddress",
                                    "approveReturn", "rejectReturn", "respondToCancellation",
                                    "updateShippingAddress")]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}
ALICES_ORDERS = sorted(o["id"] for o in build_world(TEST_NOW).orders.values() if o["buyer_user_id"] == ALICE)
_FIRST = re.compile(r"\bfirst: (-?\d+)")
_ORDER_ID = re.compile(r'\b(id|orderId): "((?:[^"\\]|\\.)*)"')


def _steer(body: str) -> str:
    """The same document aimed at real data: a page size in range, and Alice's order ids instead of random
    strings, so the fuzzed selections and inputs reach the resolvers and the upstreams (deterministically)."""
    def real_id(match: re.Match[str]) -> str:
        chosen = ALICES_ORDERS[zlib.crc32(match.group(2).encode()) % len(ALICES_ORDERS)]
        return f'{match.group(1)}: "{chosen}"'

    body = _FIRST.sub(lambda m: f"first: {int(m.group(1)) % 50 + 1}", body)
    return _ORDER_ID.sub(real_id, body)
SERVER_ERRORS = ("INTERNAL_SERVER_ERROR",)
SCHEMA_VIOLATION = "Cannot return null for non-nullable field"


SELLER_ONLY = {"sellerOrders", "approveReturn", "rejectReturn", "respondToCancellation", "updateShippingAddress"}


@dataclass(frozen=True)
class Live:
    url: str
    token: str  # Alice, a buyer
    seller_token: str  # Threadline's seller, for the steered requests of seller-only fields


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    """Mocks and a production gateway on a real port, in a thread of their own, for the module."""
    ready = threading.Event()
    started: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            async with running_mocks() as mocks, running_server(mocks, **PRODUCTION, upstream_retries=0) as url:
                settings = settings_for(mocks, **PRODUCTION)
                tokens = token_settings(settings)
                started["live"] = Live(url, mint(tokens, ALICE, Role.BUYER, ttl=3600, now=time.time()),
                                       mint(tokens, "seller-threadline", Role.SELLER, shop_id="shop-us-threadline",
                                            ttl=3600, now=time.time()))
                ready.set()
                await stop.wait()
        except BaseException as error:
            started["error"] = error
            ready.set()
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "the gateway did not start"
        if "error" in started:
            raise started["error"]
        yield started["live"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def _check(case: Any, response: Any) -> None:
    """No 5xx; a JSON GraphQL response (data and/or errors); no unexpected error; the schema's promises kept."""
    where = f"{case.operation.label}: {case.body!r}"
    assert response.status_code < 500, (where, response.status_code, response.text[:500])
    media = response.headers.get("content-type", [""])[0].split(";")[0]
    assert media in (JSON, GRAPHQL_RESPONSE), (where, response.status_code, response.text[:300])
    body = response.json()
    assert isinstance(body, dict) and set(body) <= {"data", "errors"}, (where, body)
    assert "data" in body or body.get("errors"), (where, body)
    for error in body.get("errors") or []:
        assert isinstance(error, dict) and isinstance(error.get("message"), str), (where, error)
        assert error.get("extensions", {}).get("code") not in SERVER_ERRORS, (where, error)
        assert SCHEMA_VIOLATION not in error["message"], (where, error)
        assert "Traceback" not in error["message"] and "/src/gateway" not in error["message"], (where, error)
    if response.status_code == 200 and "data" not in body:
        assert body["errors"], where


def test_the_fuzzed_operations_are_every_root_field_of_the_schema() -> None:
    from gateway.schema import schema

    graphql_schema = schema._schema
    assert graphql_schema.query_type is not None and graphql_schema.mutation_type is not None
    expected = {("Query", f) for f in graphql_schema.query_type.fields}
    expected |= {("Mutation", f) for f in graphql_schema.mutation_type.fields}
    assert set(OPERATIONS) == expected


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=str)
@pytest.mark.parametrize(("root", "field"), OPERATIONS, ids=[f"{r}.{f}" for r, f in OPERATIONS])
def test_fuzzing_finds_no_server_error(live: Live, root: str, field: str, mode: GenerationMode) -> None:
    operation = SCHEMA[root][field]
    accept = GRAPHQL_RESPONSE if mode is GenerationMode.POSITIVE else JSON
    headers = {"Authorization": f"Bearer {live.token}", "Accept": accept}
    seen: list[int] = []

    with requests.Session() as session:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES[mode], derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                  print_blob=False)
        def fuzz(case: Any) -> None:
            response = case.call(base_url=f"{live.url}/graphql", session=session, headers=headers, timeout=15)
            seen.append(response.status_code)
            _check(case, response)
            if mode is GenerationMode.POSITIVE and isinstance(case.body, str):
                steered = _steer(case.body)
                if steered != case.body:
                    case.body = steered
                    for token in (live.token, live.seller_token) if field in SELLER_ONLY else (live.token,):
                        response = case.call(base_url=f"{live.url}/graphql", session=session, timeout=15,
                                             headers={**headers, "Authorization": f"Bearer {token}"})
                        seen.append(response.status_code)
                        _check(case, response)

        fuzz()
    assert seen, "Schemathesis generated no request"
