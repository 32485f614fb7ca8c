"""Production mode (issue 6): no introspection, no GraphiQL, no field suggestions, no debug extensions,
unexpected errors masked behind a correlation id while expected ones keep their message, and no
development routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLError

import gateway.schema.order
from gateway.errors import NotFound
from gateway.execution import format_error
from tests.hardening_support import (
    GRAPHQL_RESPONSE,
    JSON,
    PRODUCTION,
    assert_no_leak,
    assert_no_upstream_call,
    assert_refused,
    only_error,
)
from tests.harness import Gateway, running_gateway
from tests.upstreams import MockUpstreams


@pytest.fixture
async def production(mocks: MockUpstreams) -> AsyncIterator[Gateway]:
    async with running_gateway(mocks, **PRODUCTION, upstream_retries=0) as gw:
        assert not gw.settings.development
        yield gw


INTROSPECTION = {
    "__schema": "{ __schema { queryType { name } types { name fields { name } } } }",
    "__type": '{ __type(name: "Order") { name fields { name } } }',
    "__schema in a fragment": "{ ...F } fragment F on Query { __schema { types { name } } }",
    "__type under an alias": '{ t: __type(name: "Mutation") { fields { name } } }',
}


@pytest.mark.parametrize("case", sorted(INTROSPECTION))
async def test_introspection_is_refused_in_production(mocks: MockUpstreams, production: Gateway, case: str) -> None:
    for accept in (GRAPHQL_RESPONSE, JSON):
        response = await production.client.post("/graphql", json={"query": INTROSPECTION[case]}, headers={
            "Authorization": f"Bearer {production.token()}", "Accept": accept})
        assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
        body = response.json()
        assert "data" not in body
        assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in body["errors"][0]["message"]
    await assert_no_upstream_call(mocks)


async def test_introspection_works_in_development_and_typename_in_both(gateway: Gateway,
                                                                      production: Gateway) -> None:
    body = await gateway.query(INTROSPECTION["__type"])
    assert body["data"]["__type"]["name"] == "Order"
    for gw in (gateway, production):
        assert await gw.query("{ __typename viewer { __typename } }") == {
            "data": {"__typename": "Query", "viewer": {"__typename": "Viewer"}}}


@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml,*/*;q=0.8", None])
async def test_graphiql_is_not_served_in_production(production: Gateway, gateway: Gateway,
                                                    accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    response = await production.client.get("/graphql", headers=headers)
    assert not response.headers["content-type"].startswith("text/html")
    assert "<html" not in response.text.lower() and "graphiql" not in response.text.lower()
    assert response.status_code in (400, 406)
    # The control: development serves it to a browser.
    if accept and accept.startswith("text/html"):
        dev = await gateway.client.get("/graphql", headers=headers)
        assert dev.headers["content-type"].startswith("text/html") and "graphiql" in dev.text.lower()


# A misspelt field, argument, type, enum value (literal and in variables) and input field.
MISSPELT: dict[str, tuple[str, dict[str, Any]]] = {
    "field": ("{ viewr { id } }", {}),
    "nested field": ('{ order(id: "ord-us-in-transit") { statuss } }', {}),
    "argument": ('{ order(idd: "ord-us-in-transit") { id } }', {}),
    "type in a fragment": ("{ ...F } fragment F on Querry { viewer { id } }", {}),
    "enum literal": ("{ returnReasons(market: USA) { code } }", {}),
    "enum in variables": ("query($m: Market!) { returnReasons(market: $m) { code } }", {"m": "UKK"}),
    "input field in variables": (
        "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { replayed } }",
        {"i": {"orderID": "ord-us-on-hold", "reason": "NO_LONGER_NEEDED", "idempotencyKey": "suggest-1"}}),
    "enum in an input in variables": (
        "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { replayed } }",
        {"i": {"orderId": "ord-us-on-hold", "reason": "NO_LONGER_NEEDE", "idempotencyKey": "suggest-2"}}),
    "variable type": ("query($m: Markt!) { returnReasons(market: $m) { code } }", {"m": "US"}),
}


@pytest.mark.parametrize("case", sorted(MISSPELT))
async def test_no_field_suggestions_in_production(mocks: MockUpstreams, production: Gateway, case: str) -> None:
    document, variables = MISSPELT[case]
    response = await production.post(document, variables)
    body = response.json()
    assert body.get("errors"), body
    assert "did you mean" not in response.text.lower(), body
    await assert_no_upstream_call(mocks)


async def test_development_still_suggests_so_the_check_above_means_something(gateway: Gateway) -> None:
    response = await gateway.post(*MISSPELT["field"])
    assert "Did you mean 'viewer'?" in response.text


async def test_no_debug_or_tracing_extensions_in_production_responses(production: Gateway,
                                                                     mocks: MockUpstreams) -> None:
    await mocks.fault("carrier", route="*", status=503)
    requests: list[dict[str, Any]] = [
        {"query": "{ viewer { id } }"},
        {"query": 'query($id: ID!) { order(id: $id) { id packages { trackingEvents { code } } } }',
         "variables": {"id": "ord-us-in-transit"}},  # partial data: the carrier is down
        {"query": '{ order(id: "ord-us-no-such-order") { id } }'},
        {"query": "{ nope }"},
        {"query": "{"},
        {"query": "{ " + " ".join(f"a{n}: __typename" for n in range(40)) + " }"},
    ]
    for request in requests:
        response = await production.client.post("/graphql", json=request, headers={
            "Authorization": f"Bearer {production.token()}", "Accept": GRAPHQL_RESPONSE})
        body = response.json()
        assert set(body) <= {"data", "errors"}, body
        for error in body.get("errors", []):
            assert set(error) <= {"message", "locations", "path", "extensions"}, error
            assert "stacktrace" not in error.get("extensions", {}) and "exception" not in error.get("extensions", {})
        assert_no_leak(response)
    for header in ("server-timing", "x-debug", "x-powered-by"):
        assert header not in response.headers


# -- error masking ----------------------------------------------------------------------------------

def _bug() -> GraphQLError:
    try:
        raise ValueError("password=hunter2 at /src/gateway/secret.py")
    except ValueError as exc:
        return GraphQLError(str(exc), path=["order", "packages", 0], original_error=exc)


def test_an_unexpected_error_is_masked_in_production_with_a_correlation_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway.errors"):
        masked = format_error(_bug(), mask=True, correlation_id="corr-123")
    assert "hunter2" not in str(masked) and "/src/gateway" not in str(masked) and "ValueError" not in str(masked)
    assert "corr-123" in masked["message"]
    assert masked["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "correlationId": "corr-123"}
    assert masked["path"] == ["order", "packages", 0]
    # Everything is in the log, under the same correlation id, for whoever needs to find it.
    [record] = [r for r in caplog.records if r.name == "gateway.errors"]
    assert "corr-123" in record.getMessage() and record.exc_info is not None


def test_development_keeps_the_message_and_the_internal_server_error_code() -> None:
    shown = format_error(_bug(), mask=False, correlation_id="corr-456")
    assert "hunter2" in shown["message"]
    assert shown["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "correlationId": "corr-456"}


def test_an_expected_error_is_never_masked() -> None:
    expected = GraphQLError("order x not found", path=["order"], original_error=NotFound("order x not found"))
    for mask in (True, False):
        assert format_error(expected, mask=mask, correlation_id="c") == {
            "message": "order x not found", "path": ["order"], "extensions": {"code": "NOT_FOUND"}}


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled plan", "graphql-core"])
async def test_a_resolver_that_fails_unexpectedly_is_masked_over_http_in_production(
        mocks: MockUpstreams, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        compiled: bool) -> None:
    def broken(*args: Any) -> None:
        raise ValueError("password=hunter2 at /src/gateway/secret.py")

    monkeypatch.setattr(gateway.schema.order, "promised_date", broken)
    query = '{ order(id: "ord-us-in-transit") { id promisedDeliveryDate } }'
    async with running_gateway(mocks, **PRODUCTION, compiled_execution=compiled) as gw:
        with caplog.at_level(logging.ERROR, logger="gateway.errors"):
            generated = await gw.post(query)
            given = await gw.post(query, headers={"X-Request-Id": "client-req-42", "Accept": GRAPHQL_RESPONSE})
    for response in (generated, given):
        request_id = response.headers["x-request-id"]
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] == {"order": {"id": "ord-us-in-transit", "promisedDeliveryDate": None}}
        assert only_error(body) == {
            "message": f"Unexpected error. Correlation id: {request_id}",
            "locations": [{"line": 1, "column": 39}], "path": ["order", "promisedDeliveryDate"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "correlationId": request_id}}
        assert_no_leak(response)
        for internal in ("hunter2", "ValueError", "secret.py", "promised_date", "broken"):
            assert internal not in response.text, internal
    assert given.headers["x-request-id"] == "client-req-42"
    # The log has it all, under each request's correlation id.
    logged = [r for r in caplog.records if r.name == "gateway.errors"]
    assert [r.args[0] for r in logged] == [generated.headers["x-request-id"], "client-req-42"]  # type: ignore[index]
    assert all(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in logged)


async def test_not_found_keeps_its_message_through_http_in_production(mocks: MockUpstreams,
                                                                      production: Gateway) -> None:
    body = await production.query('{ order(id: "ord-us-bob-in-transit") { id } }')
    error = only_error(body)
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert error["message"] == "order ord-us-bob-in-transit not found"
    assert body["data"] == {"order": None}


@pytest.mark.parametrize(("service", "path"), [("orders", None), ("carrier", "trackingEvents"),
                                               ("aftersales", "afterSalesActions")])
async def test_upstream_unavailable_keeps_its_message_and_service_in_production(
        mocks: MockUpstreams, production: Gateway, service: str, path: str | None) -> None:
    await mocks.fault(service, route="*", status=503)
    body = await production.query('{ order(id: "ord-us-in-transit") { id afterSalesActions { kind } '
                                  'packages { trackingEvents { code } } } }')
    [error] = [e for e in body["errors"] if e["extensions"].get("service") == service]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": service}
    assert error["message"].startswith(f"{service} service: ") and "Unexpected error" not in error["message"]
    assert path is None or path in error["path"]


# -- development routes -------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [("POST", "/dev/token"), ("GET", "/dev/token"), ("GET", "/dev/shoppers"),
                                              ("GET", "/demo"), ("GET", "/demo/"), ("GET", "/demo/index.html")])
async def test_development_routes_do_not_exist_in_production(production: Gateway, method: str, path: str) -> None:
    response = await production.client.request(method, path, json={"shopper": "buyer-us-alice"})
    assert response.status_code == 404
    assert "token" not in response.text


async def test_development_routes_exist_in_development(gateway: Gateway) -> None:
    token = await gateway.client.post("/dev/token", json={"shopper": "buyer-us-alice"})
    assert token.status_code == 200 and token.json()["subject"] == "buyer-us-alice"
    assert (await gateway.client.get("/demo/")).status_code == 200


async def test_an_unknown_path_is_a_plain_404(production: Gateway) -> None:
    for path in ("/graphiql", "/playground", "/graphql/", "/.env", "/debug"):
        response = await production.client.get(path)
        assert response.status_code in (404, 307), path
        assert_no_leak(response)


async def test_a_request_error_in_production_is_refused_like_in_development(
        mocks: MockUpstreams, production: Gateway) -> None:
    response = await production.client.post("/graphql", json={"query": "{ viewer { id } "}, headers={
        "Accept": GRAPHQL_RESPONSE})
    assert_refused(response, 400, "GRAPHQL_PARSE_FAILED")
    assert_no_leak(response)
