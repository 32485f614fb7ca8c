"""A security probe suite in the spirit of graphql-cop (issue 6), against production mode: every probe is
refused cheaply (the right code, quickly, no upstream call) and no answer anywhere leaks a stack trace."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.app import create_app
from tests.hardening_support import (
    GRAPHQL_RESPONSE,
    JSON,
    PRODUCTION,
    assert_no_leak,
    assert_no_upstream_call,
    codes,
)
from tests.harness import Gateway, settings_for
from tests.upstreams import MockUpstreams

CHEAP = 1.0  # seconds: a refusal costs parsing at most, never an upstream round trip


@pytest.fixture
async def prod(mocks: MockUpstreams) -> AsyncIterator[Gateway]:
    # Exceptions become 500s, as a real server answers them, so a crash is seen as one (and checked for leaks).
    settings = settings_for(mocks, **PRODUCTION)
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://gateway.test") as client:
        yield Gateway(client, settings)


async def _send(gw: Gateway, method: str = "POST", *, json: Any = None, content: bytes | None = None,
                params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                anonymous: bool = False) -> tuple[httpx.Response, float]:
    all_headers = {"Accept": GRAPHQL_RESPONSE} if not anonymous else {}
    if not anonymous:
        all_headers["Authorization"] = f"Bearer {gw.token()}"
    all_headers.update(headers or {})
    if json is not None:
        content, all_headers["Content-Type"] = orjson.dumps(json), JSON
    started = time.perf_counter()
    response = await gw.client.request(method, "/graphql", content=content, params=params, headers=all_headers)
    elapsed = time.perf_counter() - started
    assert response.status_code < 500, response.text
    assert_no_leak(response)
    return response, elapsed


async def _refused(gw: Gateway, mocks: MockUpstreams, status: int, expected: set[str], **request: Any) -> Any:
    response, elapsed = await _send(gw, **request)
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body, body
    assert set(codes(body)) & expected, body
    assert elapsed < CHEAP, elapsed
    await assert_no_upstream_call(mocks)
    return body


ORDER_FIELDS = 'order(id: "ord-us-in-transit") { id status packages { trackingEvents { code } } }'


# -- denial of service -----------------------------------------------------------------------------------

async def test_alias_overloading(mocks: MockUpstreams, prod: Gateway) -> None:
    for field in ("__typename", ORDER_FIELDS):
        document = "{ " + " ".join(f"a{n}: {field}" for n in range(100)) + " }"
        # Whichever cheap limit trips first: 100 aliased order selections are also over the token limit.
        await _refused(prod, mocks, 400, {"ALIAS_LIMIT_EXCEEDED", "TOKEN_LIMIT_EXCEEDED"}, json={"query": document})


async def test_batch_abuse(mocks: MockUpstreams, prod: Gateway) -> None:
    batch = [{"query": f"{{ {ORDER_FIELDS} }}"}] * 10
    await _refused(prod, mocks, 400, {"BATCHING_DISABLED"}, json=batch)
    await _refused(prod, mocks, 400, {"BATCHING_DISABLED"}, json=[{"query": "{ __typename }"}] * 5_000)


async def test_field_duplication(mocks: MockUpstreams, prod: Gateway) -> None:
    response, _ = await _send(prod, json={"query": "{ " + " ".join(["__typename"] * 500) + " }"})
    assert response.status_code == 400 and "data" not in response.json(), response.text


async def test_field_duplication_costs_no_upstream_call_and_little_time(mocks: MockUpstreams,
                                                                        prod: Gateway) -> None:
    response, elapsed = await _send(prod, json={"query": "{ " + " ".join(["__typename"] * 500) + " }"})
    assert response.status_code in (200, 400) and elapsed < CHEAP
    await assert_no_upstream_call(mocks)
    # Within the token limit, repeated `order` fields merge into one upstream read, not hundreds.
    response, elapsed = await _send(prod, json={"query": "{ " + ' order(id: "ord-us-in-transit") { id }' * 300
                                                + " }"})
    assert (await mocks.counters("orders")).get("orders.batch", 0) <= 1
    assert elapsed < 5 * CHEAP


async def test_directive_overloading(mocks: MockUpstreams, prod: Gateway) -> None:
    for directive in ("@skip(if: false)", "@include(if: true)", "@deprecated", "@aa@aa@aa"):
        document = "{ " + " ".join([f"__typename {directive}"] * 50) + " }"
        await _refused(prod, mocks, 400, {"DIRECTIVE_LIMIT_EXCEEDED"}, json={"query": document})


async def test_circular_introspection(mocks: MockUpstreams, prod: Gateway) -> None:
    nested = "{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { " \
             "type { fields { type { fields { type { name } } } } } } } } } } } } } } } } }"
    await _refused(prod, mocks, 400, {"DEPTH_LIMIT_EXCEEDED", "GRAPHQL_VALIDATION_FAILED"}, json={"query": nested})
    shallow = "{ __schema { types { fields { type { name } } } } }"  # within the depth limit: introspection is off
    await _refused(prod, mocks, 400, {"GRAPHQL_VALIDATION_FAILED"}, json={"query": shallow})


async def test_deep_recursion_through_fragments(mocks: MockUpstreams, prod: Gateway) -> None:
    cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    await _refused(prod, mocks, 400, {"GRAPHQL_VALIDATION_FAILED"}, json={"query": cycle})
    deep = "{ order(id: \"x\") { ...P } } fragment P on Order { packages { items { lineItem { id } } } " \
           "packages { ...Q } } fragment Q on Package { items { lineItem { tags } } }"
    _, elapsed = await _send(prod, json={"query": deep})
    assert elapsed < CHEAP


def _fragment_bomb(levels: int) -> str:
    """Each fragment spreads the previous one twice: 2**levels fields from a document of ~40 * levels bytes."""
    fragments = ["fragment F0 on Query { __typename }"]
    fragments += [f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels + 1)]
    return f"{{ ...F{levels} }}\n" + "\n".join(fragments)


async def test_a_fragment_bomb_is_refused_cheaply(mocks: MockUpstreams, prod: Gateway) -> None:
    response, elapsed = await _send(prod, json={"query": _fragment_bomb(19)})
    assert codes(response.json()) == ["COST_LIMIT_EXCEEDED"]
    assert elapsed < 0.3, f"{elapsed:.2f} s"


async def test_a_small_fragment_bomb_is_refused_by_the_cost_limit(mocks: MockUpstreams, prod: Gateway) -> None:
    body = await _refused(prod, mocks, 400, {"COST_LIMIT_EXCEEDED"}, json={"query": _fragment_bomb(17)})
    assert body["errors"][0]["extensions"]["actual"] >= 2**17


async def test_a_huge_page_is_refused_by_cost_before_any_upstream_call(mocks: MockUpstreams, prod: Gateway) -> None:
    document = "{ orders(first: 100000) { nodes { id packages { trackingEvents { code message } } } } }"
    await _refused(prod, mocks, 400, {"COST_LIMIT_EXCEEDED"}, json={"query": document})
    by_variable = "query($n: Int!) { orders(first: $n) { nodes { id packages { trackingEvents { code } } } } }"
    await _refused(prod, mocks, 400, {"COST_LIMIT_EXCEEDED"}, json={"query": by_variable,
                                                                     "variables": {"n": 100000}})


async def test_oversized_and_malformed_bodies(mocks: MockUpstreams, prod: Gateway) -> None:
    await _refused(prod, mocks, 413, {"PAYLOAD_TOO_LARGE"}, content=b"{" + b" " * 1_000_000 + b"}",
                   headers={"Content-Type": JSON})
    nested_json = b'{"query": "{ __typename }", "variables": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"
    await _refused(prod, mocks, 400, {"BAD_REQUEST"}, content=nested_json, headers={"Content-Type": JSON})
    await _refused(prod, mocks, 400, {"BAD_REQUEST"}, content=b"\xff\xfe\x00{", headers={"Content-Type": JSON})
    await _refused(prod, mocks, 400, {"BAD_REQUEST", "GRAPHQL_PARSE_FAILED"}, json={"query": "{ \x00 }"})


# -- information disclosure ------------------------------------------------------------------------------

INTROSPECTION = ["{ __schema { types { name } } }", '{ __type(name: "Mutation") { fields { name } } }',
                 "query IntrospectionQuery { __schema { queryType { name } } }"]


@pytest.mark.parametrize("document", INTROSPECTION)
async def test_introspection_in_production(mocks: MockUpstreams, prod: Gateway, document: str) -> None:
    await _refused(prod, mocks, 400, {"GRAPHQL_VALIDATION_FAILED"}, json={"query": document})
    await _refused(prod, mocks, 400, {"GRAPHQL_VALIDATION_FAILED"}, method="GET", params={"query": document})


@pytest.mark.parametrize("document", ["{ viewr { id } }", '{ order(idd: "x") { id } }', "{ orders { nodez { id } } }",
                                      "{ returnReasons(market: U) { code } }", "{ __typenam }"])
async def test_field_suggestions_in_production(mocks: MockUpstreams, prod: Gateway, document: str) -> None:
    body = await _refused(prod, mocks, 400, {"GRAPHQL_VALIDATION_FAILED"}, json={"query": document})
    assert "did you mean" not in orjson.dumps(body).decode().lower()


async def test_graphiql_in_production(mocks: MockUpstreams, prod: Gateway) -> None:
    for accept in ("text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"):
        for path in ("/graphql", "/graphiql", "/playground", "/graphql/console"):
            response = await prod.client.get(path, headers={"Accept": accept})
            assert not response.headers.get("content-type", "").startswith("text/html"), path
            assert "graphiql" not in response.text.lower() and "<script" not in response.text.lower()
            assert_no_leak(response)
    await assert_no_upstream_call(mocks)


async def test_unauthenticated_access_reveals_nothing(mocks: MockUpstreams, prod: Gateway) -> None:
    response, _ = await _send(prod, json={"query": f"{{ {ORDER_FIELDS} }}"}, anonymous=True)
    body = response.json()
    assert body["data"] == {"order": None} and codes(body) == ["UNAUTHENTICATED"]
    await assert_no_upstream_call(mocks)


# -- CSRF --------------------------------------------------------------------------------------------------

MUTATION = ('mutation { cancelOrder(input: {orderId: "ord-us-on-hold", reason: NO_LONGER_NEEDED, '
            'idempotencyKey: "probe-csrf-1"}) { replayed } }')


async def test_get_based_mutation(mocks: MockUpstreams, prod: Gateway) -> None:
    body = await _refused(prod, mocks, 405, {"METHOD_NOT_ALLOWED"}, method="GET", params={"query": MUTATION})
    assert body["errors"][0]["message"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"])
async def test_urlencoded_and_other_simple_posts(mocks: MockUpstreams, prod: Gateway, content_type: str) -> None:
    await _refused(prod, mocks, 415, {"UNSUPPORTED_MEDIA_TYPE"}, content=f"query={MUTATION}".encode(),
                   headers={"Content-Type": content_type, "Origin": "https://evil.example"})


# -- no stack traces, whatever is sent -------------------------------------------------------------------

GARBAGE: list[dict[str, Any]] = [
    {"json": {"query": "query($id: ID!) { order(id: $id) { id } }", "variables": {"id": {"nested": [1, 2]}}}},
    {"content": b'{"query": "query($n: Int!) { orders(first: $n) { totalCount } }", "variables": {"n": '
                + str(2**80).encode() + b"}}", "headers": {"Content-Type": JSON}},
    {"json": {"query": "query($n: Int!) { orders(first: $n) { totalCount } }", "variables": {"n": -1}}},
    {"json": {"query": '{ orders(first: 10, after: "not-a-cursor") { totalCount } }'}},
    {"json": {"query": '{ orders(filter: {placedAfter: "yesterday"}) { totalCount } }'}},
    {"json": {"query": '{ order(id: "' + "x" * 10_000 + '") { id } }'}},
    {"json": {"query": '{ order(id: "../../etc/passwd") { id } }'}},
    {"json": {"query": "{ order(id: \"' OR 1=1 --\") { id } }"}},
    {"json": {"query": "{ viewer { id } }", "operationName": "x" * 10_000}},
    {"json": {"query": "subscription { viewer { id } }"}},
    {"json": {"query": "mutation { __typename }"}},
    {"json": {"query": "{ viewer { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "z"}}}},
    {"json": {"query": "mutation($i: RequestReturnInput!) { requestReturn(input: $i) { replayed } }",
              "variables": {"i": {"orderId": "ord-us-delivered", "idempotencyKey": "k" * 1000, "items": [
                  {"lineItemId": "li", "reason": "DAMAGED", "quantity": 2**31}]}}}},
    {"json": {"query": "mutation($i: RequestReturnInput!) { requestReturn(input: $i) { replayed } }",
              "variables": {"i": {"orderId": "ord-us-delivered", "idempotencyKey": "abcdefgh-1", "items": [
                  {"lineItemId": "li", "reason": "DAMAGED"}] * 2000}}}},
    {"content": b'{"query": "{ viewer { id } }", "variables": {"a": 1e999}}', "headers": {"Content-Type": JSON}},
    {"content": b'{"query": "\\ud800"}', "headers": {"Content-Type": JSON}},
    {"method": "GET", "params": {"query": "{ viewer { id } }", "variables": "{bad json"}},
    {"method": "GET", "params": {"query": "{ viewer { id } }", "extensions": "[]"}},
    {"method": "GET", "params": {}},
    {"headers": {"Authorization": "Bearer " + "a" * 100_000}, "json": {"query": "{ viewer { id } }"}},
    {"headers": {"Authorization": "Bearer a.b"}, "json": {"query": "{ viewer { id } }"}},
    {"headers": {"Authorization": "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.e30.AA"},
     "json": {"query": "{ viewer { id } }"}},
    {"headers": {"Accept": "application/graphql-response+json;q=abc"}, "json": {"query": "{ viewer { id } }"}},
    {"headers": {"Content-Type": "application/json; charset=\"utf-16\""}, "content": b"{}"},
]


@pytest.mark.parametrize("n", range(len(GARBAGE)))
async def test_no_answer_leaks_a_stack_trace_or_a_server_error(mocks: MockUpstreams, prod: Gateway, n: int) -> None:
    response, elapsed = await _send(prod, **GARBAGE[n])  # asserts < 500 and no leak
    body = response.json()
    assert isinstance(body, dict) and ("data" in body or body.get("errors")), body
    assert all(isinstance(e.get("message"), str) for e in body.get("errors", [])), body
    assert elapsed < 2 * CHEAP
