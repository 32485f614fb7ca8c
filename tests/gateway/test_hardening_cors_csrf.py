"""CORS and CSRF (issue 6): no CORS unless origins are configured, preflights only from those origins, and no
cross-site "simple" request (a form or text/plain POST, a GET mutation) ever executes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.hardening_support import assert_no_upstream_call, assert_refused
from tests.harness import Gateway, running_gateway
from tests.upstreams import MockUpstreams

SHOP = "https://shop.example"
EVIL = "https://evil.example"
MUTATION = ('mutation { cancelOrder(input: {orderId: "ord-us-on-hold", reason: NO_LONGER_NEEDED, '
            'idempotencyKey: "csrf-attempt-1"}) { replayed userErrors { code } } }')
QUERY = '{ order(id: "ord-us-in-transit") { id } }'


@pytest.fixture
async def cors(mocks: MockUpstreams) -> AsyncIterator[Gateway]:
    async with running_gateway(mocks, cors_origins=(SHOP,)) as gw:
        yield gw


def _preflight(origin: str, method: str = "POST",
               headers: str = "authorization, content-type") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


def _no_cors(headers: object) -> None:
    assert not [h for h in headers if h.lower().startswith("access-control-")], headers  # type: ignore[attr-defined]


async def test_no_cors_headers_by_default(mocks: MockUpstreams, gateway: Gateway) -> None:
    assert gateway.settings.cors_origins == ()
    for origin in (SHOP, EVIL):
        preflight = await gateway.client.options("/graphql", headers=_preflight(origin))
        assert preflight.status_code >= 400
        _no_cors(preflight.headers)
        response = await gateway.client.post("/graphql", json={"query": "{ __typename }"},
                                             headers={"Origin": origin})
        assert response.status_code == 200
        _no_cors(response.headers)
    await assert_no_upstream_call(mocks)


async def test_a_preflight_from_the_configured_origin_is_allowed(cors: Gateway) -> None:
    response = await cors.client.options("/graphql", headers=_preflight(SHOP))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "access-control-allow-credentials" not in response.headers  # bearer tokens, not cookies
    # ...and the actual request from that origin may read the answer.
    answer = await cors.post("{ viewer { id } }", headers={"Origin": SHOP})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == SHOP


@pytest.mark.parametrize("origin", [EVIL, "https://shop.example.evil.example", "http://shop.example", "null"])
async def test_a_preflight_from_another_origin_is_refused(mocks: MockUpstreams, cors: Gateway, origin: str) -> None:
    response = await cors.client.options("/graphql", headers=_preflight(origin))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    answer = await cors.post(QUERY, headers={"Origin": origin})
    assert "access-control-allow-origin" not in answer.headers
    # No preflight, no upstream call.
    await mocks.reset_counters()
    await cors.client.options("/graphql", headers=_preflight(origin))
    await assert_no_upstream_call(mocks)


async def test_a_preflight_for_another_method_or_header_is_refused(cors: Gateway) -> None:
    for headers in (_preflight(SHOP, "PUT"), _preflight(SHOP, "POST", "authorization, x-evil")):
        response = await cors.client.options("/graphql", headers=headers)
        assert response.status_code == 400


# A form an attacker's page can post cross-site without a preflight (a "simple" request).
SIMPLE_POSTS = {
    "urlencoded form": ("application/x-www-form-urlencoded", f"query={MUTATION}".encode()),
    "multipart form": ("multipart/form-data; boundary=X",
                       f'--X\r\nContent-Disposition: form-data; name="query"\r\n\r\n{MUTATION}\r\n--X--\r\n'.encode()),
    "text/plain with a JSON body": ("text/plain", json.dumps({"query": MUTATION}).encode()),
    "text/plain with charset": ("text/plain; charset=utf-8", b'{"query": "{ viewer { id } }"}'),
}


@pytest.mark.parametrize("case", sorted(SIMPLE_POSTS))
@pytest.mark.parametrize("configured", [False, True])
async def test_a_cross_site_simple_post_never_executes(mocks: MockUpstreams, case: str, configured: bool) -> None:
    content_type, body = SIMPLE_POSTS[case]
    async with running_gateway(mocks, cors_origins=(SHOP,) if configured else ()) as gw:
        # Even with the victim's credentials attached (as a browser would, were they cookies).
        response = await gw.client.post("/graphql", content=body, headers={
            "Content-Type": content_type, "Origin": EVIL, "Authorization": f"Bearer {gw.token()}"})
        assert_refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert "access-control-allow-origin" not in response.headers
    await assert_no_upstream_call(mocks)


async def test_get_queries_are_allowed_and_get_mutations_refused(mocks: MockUpstreams, cors: Gateway) -> None:
    auth = {"Authorization": f"Bearer {cors.token()}"}
    query = await cors.client.get("/graphql", params={"query": QUERY}, headers=auth)
    assert query.status_code == 200 and query.json() == {"data": {"order": {"id": "ord-us-in-transit"}}}
    await mocks.reset_counters()
    for origin in (EVIL, SHOP):
        mutation = await cors.client.get("/graphql", params={"query": MUTATION}, headers={**auth, "Origin": origin})
        assert_refused(mutation, 405, "METHOD_NOT_ALLOWED")
        assert mutation.headers["allow"] == "POST"
    # A mutation hidden behind an operationName in a GET is refused all the same.
    mixed = f"query Q {{ viewer {{ id }} }} {MUTATION.replace('mutation', 'mutation M', 1)}"
    refused = await cors.client.get("/graphql", params={"query": mixed, "operationName": "M"}, headers=auth)
    assert_refused(refused, 405, "METHOD_NOT_ALLOWED")
    await assert_no_upstream_call(mocks)
