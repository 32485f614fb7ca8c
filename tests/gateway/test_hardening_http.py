"""GraphQL over HTTP (issue 6): status codes per negotiated media type, methods, media types, body size,
malformed parameters, the response's Content-Type and X-Request-Id. Every refusal costs no upstream call."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from gateway.app import create_app
from tests.hardening_support import (
    GRAPHQL_RESPONSE,
    JSON,
    PRODUCTION,
    assert_no_upstream_call,
    assert_refused,
    only_error,
)
from tests.harness import Gateway, running_gateway, settings_for
from tests.upstreams import MockUpstreams

ORDER = "query Order($id: ID!) { order(id: $id) { id status } }"
MUTATION = ('mutation { cancelOrder(input: {orderId: "ord-us-on-hold", reason: NO_LONGER_NEEDED, '
            'idempotencyKey: "get-mutation-1"}) { replayed userErrors { code } } }')

# Requests that cannot be executed: (the request, the error code every error carries, when there is one).
REQUEST_ERRORS: dict[str, tuple[dict[str, Any], str | None]] = {
    "unparsable document": ({"query": "{ order(id: "}, "GRAPHQL_PARSE_FAILED"),
    "validation failure": ({"query": '{ order(id: "ord-us-in-transit") { id noSuchField } }'},
                           "GRAPHQL_VALIDATION_FAILED"),
    "variable coercion failure": ({"query": ORDER, "variables": {"id": {"not": "an id"}}}, None),
    "missing required variable": ({"query": ORDER, "variables": {}}, None),
    "variable coercion failure in a mutation": (
        {"query": "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { replayed } }",
         "variables": {"input": {"orderId": "ord-us-on-hold", "reason": "NOPE", "idempotencyKey": "coerce-1"}}},
        None),
    "unknown operationName": ({"query": ORDER, "variables": {"id": "ord-us-in-transit"},
                               "operationName": "Nope"}, "BAD_REQUEST"),
    "several operations, no operationName": ({"query": "query A { viewer { id } } query B { viewer { role } }"},
                                             "BAD_REQUEST"),
}


def _auth(gw: Gateway) -> dict[str, str]:
    return {"Authorization": f"Bearer {gw.token()}"}


async def _post(gw: Gateway, body: Any, accept: str | None = GRAPHQL_RESPONSE, **headers: str) -> Any:
    all_headers = {**_auth(gw), "Content-Type": JSON, **headers}
    if accept is not None:
        all_headers["Accept"] = accept
    return await gw.client.post("/graphql", content=orjson.dumps(body), headers=all_headers)


@pytest.mark.parametrize("case", sorted(REQUEST_ERRORS))
async def test_a_request_that_cannot_execute_is_400_with_graphql_response_json_and_200_with_json(
        mocks: MockUpstreams, gateway: Gateway, case: str) -> None:
    body, code = REQUEST_ERRORS[case]
    modern = await _post(gateway, body, GRAPHQL_RESPONSE)
    legacy = await _post(gateway, body, JSON)
    assert modern.status_code == 400, modern.text
    assert legacy.status_code == 200, legacy.text
    for response in (modern, legacy):
        answer = response.json()
        assert "data" not in answer, answer  # a request error: nothing executed, so no data entry at all
        assert answer["errors"] and all(e["message"] for e in answer["errors"])
        if code is not None:
            assert {e["extensions"]["code"] for e in answer["errors"]} == {code}, answer
    await assert_no_upstream_call(mocks)


async def test_an_executed_request_is_200_with_either_media_type_even_with_field_errors(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    for accept in (GRAPHQL_RESPONSE, JSON):
        response = await _post(gateway, {"query": ORDER, "variables": {"id": "ord-us-no-such-order"}}, accept)
        assert response.status_code == 200
        answer = response.json()
        assert answer["data"] == {"order": None}
        assert only_error(answer)["extensions"]["code"] == "NOT_FOUND"


async def test_a_variable_coercion_failure_is_a_client_error_not_an_internal_one(
        mocks: MockUpstreams, caplog: pytest.LogCaptureFixture) -> None:
    mutation = "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { replayed } }"
    wrong = {"orderId": "ord-us-on-hold", "reason": "NO_SUCH_REASON", "idempotencyKey": "coercion-1"}
    async with running_gateway(mocks, **PRODUCTION) as gw:
        for body, variable in (({"query": mutation, "variables": {"input": wrong}}, "$input"),
                               ({"query": ORDER, "variables": {"id": {"not": "an id"}}}, "$id")):
            with caplog.at_level(logging.ERROR):
                response = await _post(gw, body)
            assert response.status_code == 400
            error = only_error(response.json())
            assert error.get("extensions", {}).get("code") in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED",
                                                                "BAD_REQUEST"), error
            assert variable in error["message"] and "Unexpected error" not in error["message"], error
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    await assert_no_upstream_call(mocks)


# -- methods -----------------------------------------------------------------------------------------

async def test_a_query_over_get_runs(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", params={"query": ORDER, "variables": '{"id": "ord-us-in-transit"}'},
                                        headers={**_auth(gateway), "Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert response.json() == {"data": {"order": {"id": "ord-us-in-transit", "status": "SHIPPED"}}}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_a_mutation_over_get_is_405_with_allow_post(mocks: MockUpstreams, gateway: Gateway,
                                                          accept: str) -> None:
    response = await gateway.client.get("/graphql", params={"query": MUTATION},
                                        headers={**_auth(gateway), "Accept": accept})
    assert_refused(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD"])
async def test_other_methods_are_405_with_allow(mocks: MockUpstreams, gateway: Gateway, method: str) -> None:
    response = await gateway.client.request(method, "/graphql", content=orjson.dumps({"query": MUTATION}),
                                            headers={**_auth(gateway), "Content-Type": JSON})
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST"}
    if method != "HEAD":
        assert only_error(response.json())["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    await assert_no_upstream_call(mocks)


# -- media types --------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [
    "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/xml", "application/json; charset=latin-1", None,
])
async def test_a_post_that_is_not_json_is_415(mocks: MockUpstreams, gateway: Gateway,
                                              content_type: str | None) -> None:
    headers = {**_auth(gateway), "Accept": GRAPHQL_RESPONSE}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await gateway.client.post("/graphql", content=orjson.dumps({"query": MUTATION}), headers=headers)
    assert_refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize("accept", ["text/html", "text/html, application/xhtml+xml", "application/xml",
                                    f"{GRAPHQL_RESPONSE};q=0, {JSON};q=0"])
async def test_an_unacceptable_accept_header_on_post_is_406(mocks: MockUpstreams, gateway: Gateway,
                                                            accept: str) -> None:
    response = await _post(gateway, {"query": ORDER, "variables": {"id": "ord-us-in-transit"}}, accept)
    assert_refused(response, 406, "NOT_ACCEPTABLE")
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize(("accept", "media"), [
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    (JSON, JSON),
    (None, JSON),
    ("*/*", JSON),
    ("application/*", JSON),
    (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
    (f"text/html, {GRAPHQL_RESPONSE};q=0.9", GRAPHQL_RESPONSE),
])
async def test_the_response_content_type_is_the_negotiated_media_type_in_utf8(
        gateway: Gateway, accept: str | None, media: str) -> None:
    ok = await _post(gateway, {"query": "{ viewer { id } }"}, accept)
    refused = await _post(gateway, {"query": "{ nope }"}, accept)
    too_big = await _post(gateway, {"query": "{ viewer { id } }" + " " * 300_000}, accept)
    for response in (ok, refused, too_big):
        assert response.headers["content-type"] == f"{media}; charset=utf-8", (accept, response.status_code)
    assert ok.status_code == 200 and too_big.status_code == 413


# -- body size, malformed bodies and parameters ----------------------------------------------------------

async def test_a_body_over_max_body_bytes_is_413_with_a_content_length(mocks: MockUpstreams,
                                                                       gateway: Gateway) -> None:
    limit = gateway.settings.max_body_bytes
    body = orjson.dumps({"query": "{ viewer { id } }", "variables": {"pad": "x" * limit}})
    assert len(body) > limit
    response = await gateway.client.post("/graphql", content=body, headers={
        **_auth(gateway), "Content-Type": JSON, "Accept": GRAPHQL_RESPONSE})
    assert response.request.headers["content-length"] == str(len(body))
    assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    # Just under the limit is read (and runs).
    fits = orjson.dumps({"query": "{ viewer { id } }", "variables": {"pad": "x" * (limit - 200)}})
    assert len(fits) <= limit
    ok = await gateway.client.post("/graphql", content=fits, headers={**_auth(gateway), "Content-Type": JSON})
    assert ok.status_code == 200 and "errors" not in ok.json()
    await assert_no_upstream_call(mocks)


async def test_a_body_over_max_body_bytes_is_413_without_a_content_length(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, max_body_bytes=4096) as gw:
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            yield b'{"query": "{ viewer { id } }", "variables": {"pad": "'
            for _ in range(1000):  # 1 MB if the gateway read it all
                sent += 1
                yield b"x" * 1024
            yield b'"}}'

        response = await gw.client.post("/graphql", content=chunks(), headers={
            **_auth(gw), "Content-Type": JSON, "Accept": GRAPHQL_RESPONSE})
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    await assert_no_upstream_call(mocks)


async def test_a_lying_content_length_does_not_get_a_bigger_body_through(mocks: MockUpstreams) -> None:
    # httpx always sends the true length, so drive the ASGI app by hand: a small declared length, a big body.
    settings = settings_for(mocks, max_body_bytes=4096)
    app = create_app(settings)
    body = orjson.dumps({"query": "{ viewer { id } }", "variables": {"pad": "x" * 10_000}})
    messages = [{"type": "http.request", "body": body[:3000], "more_body": True},
                {"type": "http.request", "body": body[3000:], "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("gateway.test", 80),
             "headers": [(b"host", b"gateway.test"), (b"content-type", JSON.encode()), (b"content-length", b"100")]}
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert orjson.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")) == {
        "errors": [{"message": "the body is larger than 4096 bytes", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]}
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize("raw", [b"{", b"not json", b"", b'{"query": "{ viewer { id } }"', b"\xff\xfe{}"])
async def test_a_body_that_is_not_json_is_400(mocks: MockUpstreams, gateway: Gateway, raw: bytes,
                                              accept: str) -> None:
    response = await gateway.client.post("/graphql", content=raw, headers={
        **_auth(gateway), "Content-Type": JSON, "Accept": accept})
    assert_refused(response, 400, "BAD_REQUEST")
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize("body", [
    {"query": "{ viewer { id } }", "variables": [1, 2]},
    {"query": "{ viewer { id } }", "variables": "not json"},
    {"query": "{ viewer { id } }", "variables": "[1]"},
    {"query": "{ viewer { id } }", "variables": 3},
    {"query": "{ viewer { id } }", "variables": True},
    {"query": "{ viewer { id } }", "extensions": [1]},
    {"query": ["{ viewer { id } }"]},
    {"query": 42},
    {"query": "   "},
    {"variables": {}},
    {"query": "{ viewer { id } }", "operationName": 7},
    ["not", "an", "object"],
    "a string",
    None,
    17,
])
async def test_malformed_parameters_are_400_with_either_media_type(
        mocks: MockUpstreams, gateway: Gateway, body: Any, accept: str) -> None:
    response = await _post(gateway, body, accept)
    assert response.status_code == 400, response.text
    assert "data" not in response.json()
    assert only_error(response.json())["extensions"]["code"] in ("BAD_REQUEST", "BATCHING_DISABLED")
    await assert_no_upstream_call(mocks)


async def test_null_variables_and_variables_as_a_json_string_are_accepted(gateway: Gateway) -> None:
    for variables in (None, '{"id": "ord-us-in-transit"}'):
        body: dict[str, Any] = {"query": ORDER if variables else "{ viewer { id } }", "variables": variables}
        response = await _post(gateway, body)
        assert response.status_code == 200 and "errors" not in response.json(), response.text


# -- X-Request-Id ----------------------------------------------------------------------------------------

async def test_a_well_formed_x_request_id_is_echoed_on_every_answer(gateway: Gateway) -> None:
    responses = [
        await _post(gateway, {"query": "{ viewer { id } }"}, **{"X-Request-Id": "req-0001"}),
        await _post(gateway, {"query": "{ nope }"}, **{"X-Request-Id": "req-0002"}),
        await _post(gateway, {"query": "{ viewer { id } }"}, "text/html", **{"X-Request-Id": "req-0003"}),
        await gateway.client.put("/graphql", headers={"X-Request-Id": "req-0004"}),
        await gateway.client.get("/graphql", params={"query": MUTATION}, headers={"X-Request-Id": "req-0005"}),
    ]
    assert [r.headers["x-request-id"] for r in responses] == [f"req-000{n}" for n in range(1, 6)]


@pytest.mark.parametrize("incoming", ["", "x" * 65, "has space", "semi;colon", "new\tline", "ünïcode"])
async def test_a_missing_or_odd_x_request_id_is_replaced_by_a_fresh_one(gateway: Gateway, incoming: str) -> None:
    headers: dict[str, Any] = {"X-Request-Id": incoming.encode()} if incoming else {}
    first = await _post(gateway, {"query": "{ viewer { id } }"}, **headers)
    second = await _post(gateway, {"query": "{ viewer { id } }"}, **headers)
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert ids[0] != ids[1] and incoming not in ids
    assert all(len(i) == 32 and i.isalnum() for i in ids), ids
