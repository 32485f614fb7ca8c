"""Persisted queries (issue 6): the APQ round trip, hash checks, GET with a persisted query, APQ off, and
safelist mode (Apollo manifest or {hash: query}) refusing anything unregistered before parsing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.persisted import load_safelist
from gateway.settings import Mode, Settings, SettingsError
from gateway.stores import RedisQueryStore, connect
from tests.hardening_support import GRAPHQL_RESPONSE, JSON, assert_no_upstream_call, assert_refused, only_error
from tests.harness import ALICE, Gateway, running_gateway, settings_for
from tests.redis_server import redis_server
from tests.upstreams import MockUpstreams

ORDER = "query Order($id: ID!) { order(id: $id) { id status } }"
VIEWER = "query Me { viewer { id } }"
MUTATION = ("mutation Cancel($input: CancelOrderInput!) { cancelOrder(input: $input) { replayed "
            "userErrors { code } } }")


def _sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _ext(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def _post(gw: Gateway, body: dict[str, Any], accept: str = JSON) -> httpx.Response:
    return await gw.client.post("/graphql", json=body, headers={
        "Authorization": f"Bearer {gw.token()}", "Accept": accept})


async def _get(gw: Gateway, params: dict[str, Any], accept: str = JSON) -> httpx.Response:
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return await gw.client.get("/graphql", params=encoded, headers={
        "Authorization": f"Bearer {gw.token()}", "Accept": accept})


ANSWER = {"data": {"order": {"id": "ord-us-in-transit", "status": "SHIPPED"}}}
VARS = {"id": "ord-us-in-transit"}


# -- APQ ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_the_apq_round_trip(mocks: MockUpstreams, gateway: Gateway, accept: str) -> None:
    digest = _sha(ORDER)
    first = await _post(gateway, {"extensions": _ext(digest), "variables": VARS}, accept)
    # The protocol's normal first step: 200 (with either media type), so clients retry with the query.
    assert first.status_code == 200
    assert only_error(first.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "data" not in first.json()
    await assert_no_upstream_call(mocks)
    stored = await _post(gateway, {"query": ORDER, "extensions": _ext(digest), "variables": VARS}, accept)
    assert stored.status_code == 200 and stored.json() == ANSWER
    by_hash = await _post(gateway, {"extensions": _ext(digest), "variables": VARS}, accept)
    assert by_hash.status_code == 200 and by_hash.json() == ANSWER
    # Hashes are hex: the case a client uses does not matter.
    upper = await _post(gateway, {"extensions": _ext(digest.upper()), "variables": VARS}, accept)
    assert upper.json() == ANSWER


async def test_a_hash_that_does_not_match_the_query_is_refused_and_nothing_is_stored(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    wrong = _sha(VIEWER)
    for accept in (JSON, GRAPHQL_RESPONSE):
        refused = await _post(gateway, {"query": ORDER, "extensions": _ext(wrong), "variables": VARS}, accept)
        body = assert_refused(refused, 400, "BAD_REQUEST")
        assert "does not match" in only_error(body)["message"]
    # The hash was not bound to the other document: asking by hash alone still finds nothing.
    after = await _post(gateway, {"extensions": _ext(wrong)})
    assert only_error(after.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize("extensions", [
    {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
    {"persistedQuery": {"version": 1}},
    {"persistedQuery": {"version": 1, "sha256Hash": 5}},
    {"persistedQuery": "abc"},
])
async def test_a_malformed_persisted_query_extension_is_400(mocks: MockUpstreams, gateway: Gateway,
                                                            extensions: dict[str, Any]) -> None:
    assert_refused(await _post(gateway, {"query": ORDER, "variables": VARS, "extensions": extensions}), 400,
                   "BAD_REQUEST")
    await assert_no_upstream_call(mocks)


async def test_get_with_a_persisted_query_works_for_queries(mocks: MockUpstreams, gateway: Gateway) -> None:
    digest = _sha(ORDER)
    missing = await _get(gateway, {"extensions": _ext(digest), "variables": VARS})
    assert only_error(missing.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = await _get(gateway, {"query": ORDER, "extensions": _ext(digest), "variables": VARS})
    assert registered.status_code == 200 and registered.json() == ANSWER
    by_hash = await _get(gateway, {"extensions": _ext(digest), "variables": VARS}, GRAPHQL_RESPONSE)
    assert by_hash.status_code == 200 and by_hash.json() == ANSWER


async def test_a_persisted_mutation_cannot_be_run_over_get(mocks: MockUpstreams, gateway: Gateway) -> None:
    digest = _sha(MUTATION)
    cancel = {"input": {"orderId": "ord-us-no-such-order", "reason": "NO_LONGER_NEEDED", "idempotencyKey": "apq-1234"}}
    registered = await _post(gateway, {"query": MUTATION, "extensions": _ext(digest), "variables": cancel})
    assert only_error(registered.json())["extensions"]["code"] == "NOT_FOUND"  # ran (on an unknown order)
    await mocks.reset_counters()
    refused = await _get(gateway, {"extensions": _ext(digest), "variables": cancel})
    assert_refused(refused, 405, "METHOD_NOT_ALLOWED")
    assert refused.headers["allow"] == "POST"
    await assert_no_upstream_call(mocks)


async def test_apq_does_not_store_a_document_the_gateway_refuses(mocks: MockUpstreams, gateway: Gateway) -> None:
    too_long = "{ viewer { id } }" + " " * gateway.settings.max_document_length
    broken = "{ viewer { id "
    for document, code in ((too_long, "DOCUMENT_TOO_LARGE"), (broken, "GRAPHQL_PARSE_FAILED")):
        sent = await _post(gateway, {"query": document, "extensions": _ext(_sha(document))})
        assert only_error(sent.json())["extensions"]["code"] == code
        again = await _post(gateway, {"extensions": _ext(_sha(document))})
        assert only_error(again.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_with_persisted_queries_off_a_hash_is_not_supported(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, persisted_queries="off") as gw:
        for accept, status in ((JSON, 200), (GRAPHQL_RESPONSE, 400)):
            for body in ({"extensions": _ext(_sha(ORDER)), "variables": VARS},
                         {"query": ORDER, "extensions": _ext(_sha(ORDER)), "variables": VARS}):
                response = await _post(gw, body, accept)
                assert response.status_code == status
                assert only_error(response.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
        await assert_no_upstream_call(mocks)
        # Plain queries still run.
        assert (await _post(gw, {"query": ORDER, "variables": VARS})).json() == ANSWER


async def test_apq_with_its_redis_store_down_degrades_to_the_protocols_fallback(
        mocks: MockUpstreams, caplog: pytest.LogCaptureFixture) -> None:
    """The store only saves a round trip: when Redis goes away mid-run, a lookup is a miss (the client then
    re-sends the full query, as APQ clients do) and a failed write is skipped; every request is still
    answered in JSON, with its request id and its access-log line (it was a bare 500 without any)."""
    caplog.set_level(logging.INFO)
    digest = _sha(ORDER)
    with contextlib.ExitStack() as redis:
        url = redis.enter_context(redis_server())
        async with running_gateway(mocks, redis_url=url, rate_limit_per_minute=600, rate_limit_burst=100) as gw:
            assert (await _post(gw, {"query": ORDER, "extensions": _ext(digest), "variables": VARS})).json() == ANSWER
            assert (await _post(gw, {"extensions": _ext(digest), "variables": VARS})).json() == ANSWER
            redis.close()  # the redis-server process is stopped; the gateway keeps running
            caplog.clear()
            answered: list[httpx.Response] = []
            for accept in (JSON, GRAPHQL_RESPONSE):
                missed = await _post(gw, {"extensions": _ext(digest), "variables": VARS}, accept)
                assert missed.status_code == 200, missed.text
                assert missed.json() == {"errors": [{"message": "PersistedQueryNotFound",
                                                     "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]}
                resent = await _post(gw, {"query": ORDER, "extensions": _ext(digest), "variables": VARS}, accept)
                assert resent.status_code == 200 and resent.json() == ANSWER, resent.text
                answered += [missed, resent]
    logged = [r.fields for r in caplog.records if r.name == "gateway.access"]  # type: ignore[attr-defined]
    assert [(f["request_id"], f["status"]) for f in logged] == [(r.headers["x-request-id"], 200) for r in answered]
    store = [r.getMessage() for r in caplog.records if r.name == "gateway.stores"]
    assert "persisted query lookup failed, answered as not found (ConnectionError)" in store, store
    assert "persisted query not stored (ConnectionError)" in store, store


async def test_the_redis_store_bounds_new_documents_per_hour_and_keeps_those_in_use() -> None:
    """Only valid documents are stored, but a client can write endless valid variants (whitespace alone):
    at most `new_per_hour` new ones are remembered per hour; past that a document runs, it is just not
    kept. A document in use stays, each lookup giving it another TTL."""
    now = [10 * 3600.0]
    with redis_server() as url:
        client = connect(url)
        try:
            store = RedisQueryStore(client, ttl=600, new_per_hour=2, clock=lambda: now[0])
            variants = ["{ viewer { id } }" + " " * n for n in range(4)]
            for variant in variants:
                await store.put(_sha(variant), variant)
            await store.put(_sha(variants[0]), variants[0])  # known already: not a new document
            assert [await store.get(_sha(v)) for v in variants] == [*variants[:2], None, None]
            now[0] += 3600  # the next hour has a budget of its own
            await store.put(_sha(variants[2]), variants[2])
            assert await store.get(_sha(variants[2])) == variants[2]
            await client.expire(f"otg:apq:{_sha(variants[0])}", 5)
            assert await store.get(_sha(variants[0])) == variants[0]
            assert await client.ttl(f"otg:apq:{_sha(variants[0])}") > 500
        finally:
            await client.aclose()


# -- safelist ------------------------------------------------------------------------------------------

REGISTERED = (ORDER, VIEWER)


def _apollo_manifest(documents: tuple[str, ...]) -> dict[str, Any]:
    return {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": _sha(d), "name": d.split()[1].split("(")[0], "type": d.split()[0], "body": d} for d in documents]}


def _map_manifest(documents: tuple[str, ...]) -> dict[str, str]:
    return {_sha(d): d for d in documents}


MANIFESTS = {"apollo": _apollo_manifest, "hash map": _map_manifest}


@pytest.mark.parametrize("kind", sorted(MANIFESTS))
async def test_safelist_runs_registered_operations_by_hash_and_by_text(mocks: MockUpstreams, tmp_path: Path,
                                                                       kind: str) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(MANIFESTS[kind](REGISTERED)))
    assert load_safelist(manifest) == _map_manifest(REGISTERED)
    async with running_gateway(mocks, persisted_queries="safelist", persisted_queries_file=str(manifest)) as gw:
        assert (await _post(gw, {"extensions": _ext(_sha(ORDER)), "variables": VARS})).json() == ANSWER
        assert (await _post(gw, {"query": ORDER, "variables": VARS})).json() == ANSWER
        assert (await _post(gw, {"query": ORDER, "extensions": _ext(_sha(ORDER)), "variables": VARS})).json() == ANSWER
        assert (await _get(gw, {"extensions": _ext(_sha(VIEWER))})).json() == {"data": {"viewer": {"id": ALICE}}}


UNREGISTERED = {
    "another query": {"query": "{ viewer { id role } }"},
    "a registered query, reformatted": {"query": ORDER.replace(" ", "  "), "variables": VARS},
    "an unknown hash": {"extensions": _ext("0" * 64)},
    "a broken document": {"query": "{ order(id: "},
    "a mutation": {"query": MUTATION, "variables": {"input": {
        "orderId": "ord-us-on-hold", "reason": "NO_LONGER_NEEDED", "idempotencyKey": "safelist-1"}}},
    "introspection": {"query": "{ __schema { types { name } } }"},
    "a huge document": {"query": "{ viewer { id } }" + " " * 50_000},
    "a deep document": {"query": "{ a " * 100 + "}" * 100},
}


@pytest.mark.parametrize("case", sorted(UNREGISTERED))
async def test_safelist_refuses_anything_else_before_parsing(mocks: MockUpstreams, tmp_path: Path, case: str) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(_map_manifest(REGISTERED)))
    settings = settings_for(mocks, persisted_queries="safelist", persisted_queries_file=str(manifest))
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        gw = Gateway(client, settings)
        for accept in (JSON, GRAPHQL_RESPONSE):
            response = await _post(gw, UNREGISTERED[case], accept)
            assert_refused(response, 400, "PERSISTED_QUERY_NOT_ALLOWED")
        documents = app.state.runtime.documents
        assert documents.hits == documents.misses == 0, "nothing was parsed"
    await assert_no_upstream_call(mocks)


async def test_safelist_refuses_a_registered_hash_sent_with_another_document(mocks: MockUpstreams,
                                                                            tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(_map_manifest(REGISTERED)))
    async with running_gateway(mocks, persisted_queries="safelist", persisted_queries_file=str(manifest)) as gw:
        smuggled = {"query": "{ orders(first: 50) { nodes { id } } }", "extensions": _ext(_sha(ORDER))}
        assert_refused(await _post(gw, smuggled), 400, "BAD_REQUEST")
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize("manifest", [
    {_sha(ORDER): VIEWER},
    {"operations": [{"id": _sha(ORDER), "body": VIEWER}]},
    {_sha(ORDER): ORDER, "0" * 64: VIEWER},
    {_sha(ORDER): 42},
    [ORDER],
])
def test_a_manifest_whose_hashes_do_not_match_is_rejected_at_start_up(tmp_path: Path, manifest: Any) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    for mode in ("safelist", "apq"):  # apq preloads the manifest too
        with pytest.raises((SettingsError, ValueError)):
            create_app(Settings(mode=Mode.DEVELOPMENT, persisted_queries=mode, persisted_queries_file=str(path)))


def test_safelist_mode_needs_a_manifest_that_exists(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        Settings(mode=Mode.DEVELOPMENT, persisted_queries="safelist")
    with pytest.raises(SettingsError):
        Settings(mode=Mode.DEVELOPMENT, persisted_queries="safelist",
                 persisted_queries_file=str(tmp_path / "missing.json"))
