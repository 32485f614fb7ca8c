"""Operating the gateway: readiness, metrics, request ids and traces, clean logs, Redis-backed replicas,
graceful shutdown, and deploy files that match the code."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import uvicorn
import yaml
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app, token_settings
from gateway.auth import Role, mint
from gateway.server import uvicorn_options
from gateway.settings import Settings
from tests.harness import ALICE, Gateway, running_gateway, settings_for
from tests.ports import free_port
from tests.redis_server import redis_server
from tests.servers import gateway_process
from tests.upstreams import MockUpstreams

ROOT = Path(__file__).resolve().parents[2]
ORDER = """query Tracker($id: ID!) { order(id: $id) { id statusLabel packages { status tracker { state } }
           afterSalesActions { kind } } }"""
RETURN = """mutation Ret($input: RequestReturnInput!) { requestReturn(input: $input) {
  replayed userErrors { code } return { id } } }"""
ENV_NAMES = {f.metadata["env"] for f in Settings.__dataclass_fields__.values()}


def _token(settings: Settings, subject: str = ALICE) -> str:
    return mint(token_settings(settings), subject, Role.BUYER)


async def test_liveness_never_calls_upstreams_and_readiness_does(mocks: MockUpstreams, gateway: Gateway) -> None:
    assert (await gateway.client.get("/healthz")).json() == {"status": "ok"}
    assert await mocks.counters("orders") == {}
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["upstreams"]) == {"orders", "carrier", "aftersales"}


async def test_readiness_flips_when_an_upstream_or_redis_goes_away(mocks: MockUpstreams) -> None:
    with redis_server() as url:
        async with running_gateway(mocks, redis_url=url) as gw:
            ready = await gw.client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["store"] == {"ok": True, "kind": "redis"}
            fault = await mocks.fault("carrier", route="carrier.health", status=503)
            down = await gw.client.get("/readyz")
            assert down.status_code == 503 and down.json()["upstreams"]["carrier"]["reachable"] is False
            await mocks.control("carrier", "DELETE", f"faults/{fault['id']}")
            assert (await gw.client.get("/readyz")).status_code == 200
    # The redis server is gone now (the app is too); a fresh app pointing at it is not ready.
    async with running_gateway(mocks, redis_url=url) as gw:
        gone = await gw.client.get("/readyz")
        assert gone.status_code == 503 and gone.json()["store"]["ok"] is False
        assert (await gw.client.get("/healthz")).status_code == 200, "liveness does not depend on the store"


def _sample(text: str, name: str, labels: dict[str, str]) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_appear_with_the_right_labels_after_real_requests(mocks: MockUpstreams) -> None:
    await mocks.fault("carrier", route="trackings.batch", status=503, times=1)
    async with running_gateway(mocks) as gw:
        for _ in range(2):
            assert "errors" not in await gw.query(ORDER, {"id": "ord-us-split-size"})
        await gw.query("{ order(id: \"ord-nope\") { id } }")
        text = (await gw.client.get("/metrics")).text
    assert _sample(text, "gateway_graphql_requests_total", {"operation": "Tracker", "type": "query",
                                                            "outcome": "ok"}) == 2
    # An unknown order: data {"order": null} with a NOT_FOUND error is a partial answer.
    assert _sample(text, "gateway_graphql_requests_total", {"operation": "anonymous", "outcome": "partial"}) == 1
    assert _sample(text, "gateway_graphql_duration_seconds_count", {"operation": "Tracker"}) == 2
    assert _sample(text, "gateway_upstream_duration_seconds_count", {"service": "carrier",
                                                                     "route": "trackings.batch"}) == 3
    assert _sample(text, "gateway_upstream_errors_total", {"service": "carrier", "kind": "http_503"}) == 1
    assert _sample(text, "gateway_upstream_retries_total", {"service": "carrier"}) == 1
    assert _sample(text, "gateway_upstream_breaker_state", {"service": "orders"}) == 0
    assert _sample(text, "gateway_dataloader_batch_size_count", {"loader": "trackings"}) == 2
    assert _sample(text, "gateway_cache_lookups_total", {"cache": "documents", "result": "hit"}) == 1


async def test_concurrent_requests_share_one_parse_and_validation_of_their_document(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks) as gw:
        answers = await asyncio.gather(*(gw.query(ORDER, {"id": order_id}) for order_id in
                                         ["ord-us-split-size", "ord-us-in-transit", "ord-us-late", "ord-us-delivered"]
                                         * 4))
        assert all("errors" not in a for a in answers)
        assert answers[0] == answers[4] and answers[0] != answers[1]
        text = (await gw.client.get("/metrics")).text
    assert _sample(text, "gateway_cache_lookups_total", {"cache": "documents", "result": "miss"}) == 1
    assert _sample(text, "gateway_cache_lookups_total", {"cache": "documents", "result": "hit"}) == 15


async def test_request_ids_and_traceparent_reach_every_upstream(mocks: MockUpstreams, gateway: Gateway) -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = await gateway.post(ORDER, {"id": "ord-us-split-size"},
                                  headers={"X-Request-Id": "req-abc-123", "traceparent": parent})
    assert response.headers["x-request-id"] == "req-abc-123"
    for service in ("orders", "carrier", "aftersales"):
        logged = (await mocks.control(service, "GET", "requests"))["requests"]
        assert logged and all(r["headers"]["x-request-id"] == "req-abc-123" for r in logged), service
        assert all(r["headers"]["traceparent"] == parent for r in logged), service
    anonymous = await gateway.post(ORDER, {"id": "ord-us-in-transit"})
    assert re.fullmatch(r"[0-9a-f]{32}", anonymous.headers["x-request-id"]), "a request id is made when absent"


async def test_spans_cover_the_operation_and_each_upstream_call(mocks: MockUpstreams) -> None:
    exporter = InMemorySpanExporter()
    settings = settings_for(mocks)
    app = create_app(settings, span_exporter=exporter)
    import httpx

    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        response = await client.post("/graphql", json={"query": ORDER, "variables": {"id": "ord-us-split-size"}},
                                     headers={"Authorization": f"Bearer {_token(settings)}", "traceparent": parent})
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    names = sorted(s.name for s in spans)
    assert names == ["aftersales aftersales.batch", "carrier trackings.batch", "graphql query Tracker",
                     "orders orders.batch"]
    operation = next(s for s in spans if s.name.startswith("graphql"))
    assert f"{operation.context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    for span in spans:
        if span is not operation:
            assert span.parent is not None and span.parent.span_id == operation.context.span_id


async def test_logs_carry_no_tokens_and_no_personal_data(mocks: MockUpstreams, gateway: Gateway,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = gateway.token()
    address = {"name": "Alice Johnson", "line1": "77 Secret Lane", "city": "Springfield", "region": "IL",
               "postalCode": "62702", "country": "US"}
    await gateway.query("""mutation($input: ChangeShippingAddressInput!) { changeShippingAddress(input: $input) {
        userErrors { code } } }""", {"input": {"orderId": "ord-us-awaiting-shipment", "address": address,
                                               "idempotencyKey": "log-check-1"}})
    await gateway.query(ORDER, {"id": "ord-us-split-size"})
    await gateway.client.post("/graphql", json={"query": "{ viewer { id } }"},
                              headers={"Authorization": "Bearer " + token[:-4] + "AAAA"})
    text = "\n".join(r.getMessage() + json.dumps(getattr(r, "fields", {}), default=str) for r in caplog.records)
    access = [r for r in caplog.records if r.name == "gateway.access"]
    assert len(access) == 3, "one line per request"
    for secret in (token, token.split(".")[2], "Secret Lane", "Alice Johnson", "Springfield", "62702",
                   "buyer-us-alice", "123 Maple Street"):
        assert secret not in text, secret
    fields = access[1].fields  # type: ignore[attr-defined]
    assert {"request_id", "operation", "type", "status", "outcome", "duration_ms", "role"} <= set(fields)


async def _post(session: aiohttp.ClientSession, url: str, query: str, variables: dict[str, Any],
                token: str) -> tuple[int, dict[str, Any]]:
    async with session.post(f"{url}/graphql", json={"query": query, "variables": variables},
                            headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


async def test_two_gateway_processes_sharing_redis_create_one_return_per_key(mocks: MockUpstreams) -> None:
    await mocks.fault("aftersales", route="returns.batch_create", latency_ms=300)
    request = {"input": {"orderId": "ord-us-delivered", "idempotencyKey": "two-processes-1",
                         "items": [{"lineItemId": "ord-us-delivered-l1", "reason": "DAMAGED"}]}}
    with redis_server() as url:
        extra = {"REDIS_URL": url}
        async with gateway_process(mocks, extra) as (a, _), gateway_process(mocks, extra) as (b, _):
            token = _token(settings_for(mocks))
            async with aiohttp.ClientSession() as session:
                results = await asyncio.gather(*(_post(session, target, RETURN, request, token)
                                                 for target in (a, b, a, b)))
    payloads = [body["data"]["requestReturn"] for _, body in results]
    assert len({p["return"]["id"] for p in payloads}) == 1
    assert sorted(p["replayed"] for p in payloads) == [False, True, True, True]
    assert (await mocks.counters("aftersales"))["returns.batch_create"] == 1


async def test_replicas_share_rate_limits_and_persisted_queries(mocks: MockUpstreams) -> None:
    import hashlib

    query = "{ viewer { id role } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    apq = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    with redis_server() as url:
        extra = {"REDIS_URL": url, "RATE_LIMIT_PER_MINUTE": "1", "RATE_LIMIT_BURST": "4"}
        async with gateway_process(mocks, extra) as (a, _), gateway_process(mocks, extra) as (b, _):
            token = _token(settings_for(mocks))
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession(headers=headers) as session:
                async with session.post(f"{a}/graphql", json={"query": query, "extensions": apq}) as r:
                    assert r.status == 200 and (await r.json())["data"]["viewer"]["role"] == "BUYER"
                async with session.post(f"{b}/graphql", json={"extensions": apq}) as r:
                    assert (await r.json())["data"]["viewer"]["role"] == "BUYER", "b knows a's persisted query"
                statuses = []
                for target in (a, b, a):
                    async with session.post(f"{target}/graphql", json={"query": query}) as r:
                        statuses.append(r.status)
                        retry_after = r.headers.get("Retry-After")
    assert statuses == [200, 200, 429], "4 requests in all, across both replicas, then the shared bucket is empty"
    assert retry_after is not None and int(retry_after) >= 1


async def test_serve_with_several_workers_answers_and_aggregates_metrics(mocks: MockUpstreams) -> None:
    async with gateway_process(mocks, args=("--workers", "2")) as (url, process):
        token = _token(settings_for(mocks))
        async with aiohttp.ClientSession() as session:
            for _ in range(6):
                status, body = await _post(session, url, ORDER, {"id": "ord-us-in-transit"}, token)
                assert status == 200 and "errors" not in body
            async with session.get(f"{url}/metrics") as response:
                text = await response.text()
    assert _sample(text, "gateway_graphql_requests_total", {"operation": "Tracker", "outcome": "ok"}) == 6
    assert process.stderr is not None
    warning = (await process.stderr.read()).decode()
    assert "warning: --workers 2 without REDIS_URL" in warning, "development runs, but says what is per worker"


async def test_sigterm_lets_the_request_in_flight_finish_then_exits(mocks: MockUpstreams) -> None:
    await mocks.fault("orders", route="orders.batch", latency_ms=800)
    async with gateway_process(mocks, {"SHUTDOWN_TIMEOUT": "5"}) as (url, process):
        token = _token(settings_for(mocks))
        async with aiohttp.ClientSession() as session:
            slow = asyncio.create_task(_post(session, url, ORDER, {"id": "ord-us-in-transit"}, token))
            await asyncio.sleep(0.3)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            status, body = await slow
            assert status == 200 and body["data"]["order"]["id"] == "ord-us-in-transit"
            await asyncio.wait_for(process.wait(), 10)
            assert process.returncode in (0, -signal.SIGTERM), "uvicorn re-raises the signal once drained"
            assert time.monotonic() - started < 5
            with pytest.raises(aiohttp.ClientConnectionError):
                async with session.get(f"{url}/healthz"):
                    pass


async def test_a_bad_setting_stops_start_up_with_a_clear_message(mocks: MockUpstreams) -> None:
    import os
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", env={**os.environ, "UPSTREAM_TIMEOUT": "soon"},
        stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert "UPSTREAM_TIMEOUT must be a number, got 'soon'" in err.decode()


def _workers(args: list[str]) -> int:
    return int(args[args.index("--workers") + 1]) if "--workers" in args else 1


def test_the_dockerfile_and_kubernetes_manifest_use_real_settings_and_endpoints() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    env_block = re.search(r"ENV (.*?)\n(?!\s)", dockerfile, re.S)
    assert env_block is not None
    docker_env = set(re.findall(r"([A-Z_]+)=", env_block.group(1)))
    assert docker_env and docker_env <= ENV_NAMES, docker_env - ENV_NAMES
    assert "USER 10001" in dockerfile and "/healthz" in dockerfile and "EXPOSE 8000" in dockerfile
    assert '"gateway", "serve"' in dockerfile
    healthcheck = re.search(r"^HEALTHCHECK .*\n\s+CMD .*$", dockerfile, re.M)
    assert healthcheck is not None
    assert "os.environ['PORT']" in healthcheck.group(0) and "8000" not in healthcheck.group(0), "asks $PORT"
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd is not None
    if _workers(json.loads(cmd.group(1))) > 1:
        assert "REDIS_URL" in docker_env, "several workers refuse to start in production without Redis"
    documents = list(yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text()))
    kinds = {d["kind"]: d for d in documents}
    assert {"ConfigMap", "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"} <= set(kinds)
    exposed = {path["path"] for rule in kinds["Ingress"]["spec"]["rules"] for path in rule["http"]["paths"]}
    assert exposed == {"/graphql"}, "probes and metrics stay inside the cluster"
    assert set(kinds["ConfigMap"]["data"]) <= ENV_NAMES, set(kinds["ConfigMap"]["data"]) - ENV_NAMES
    container = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert {e["name"] for e in container.get("env", [])} <= ENV_NAMES
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == int(kinds["ConfigMap"]["data"]["PORT"])
    settings = Settings.from_env({**kinds["ConfigMap"]["data"], "JWT_SECRET": "x" * 40}, dotenv=None)
    assert settings.port == 8000
    if _workers(container.get("args", [])) > 1 or kinds["Deployment"]["spec"]["replicas"] > 1:
        assert settings.redis_url.startswith("redis://"), "several workers or replicas share state in Redis"
    grace = kinds["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > settings.shutdown_timeout
    hpa = kinds["HorizontalPodAutoscaler"]["spec"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"


async def test_readiness_can_report_upstreams_without_failing_on_them(mocks: MockUpstreams) -> None:
    # READINESS_REQUIRES_UPSTREAMS=false: a carrier outage degrades answers; it must not empty the Service.
    await mocks.fault("carrier", route="carrier.health", status=503)
    async with running_gateway(mocks, readiness_requires_upstreams=False) as gw:
        ready = await gw.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["upstreams"]["carrier"] == {"ok": False, "reachable": False, "breaker": "closed",
                                                    "in_flight": 0}


ADDRESS = {"name": "Alice Johnson", "line1": "77 Secret Lane", "city": "Springfield", "region": "IL",
           "postalCode": "62702", "country": "US"}
CHANGE_ADDRESS = """mutation Move($input: ChangeShippingAddressInput!) { changeShippingAddress(input: $input) {
  userErrors { code } } }"""


async def test_a_served_gateway_writes_one_json_object_per_stderr_line_and_no_secrets(
        mocks: MockUpstreams) -> None:
    async with gateway_process(mocks, {"LOG_LEVEL": "info", "LOG_FORMAT": "json"}) as (url, process):
        token = _token(settings_for(mocks))
        headers = {"Authorization": f"Bearer {token}", "X-Request-Id": "req-json-1"}
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.post(f"{url}/graphql", json={"query": ORDER, "variables": {
                    "id": "ord-us-split-size"}}) as response:
                assert response.status == 200
            async with session.post(f"{url}/graphql", json={"query": CHANGE_ADDRESS, "variables": {"input": {
                    "orderId": "ord-us-awaiting-shipment", "address": ADDRESS, "idempotencyKey": "json-log-1"}}},
                                    headers={"X-Request-Id": "req-json-2"}) as response:
                assert response.status == 200
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)
        assert process.stderr is not None
        stderr = (await process.stderr.read()).decode()
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # every line is one object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines), "uvicorn's own lines are JSON too"
    access = {line["request_id"]: line for line in lines if line["logger"] == "gateway.access"}
    assert set(access) == {"req-json-1", "req-json-2"}, "one line per request"
    query = access["req-json-1"]
    assert (query["operation"], query["type"], query["status"], query["outcome"]) == ("Tracker", "query", 200, "ok")
    assert isinstance(query["duration_ms"], float) and query["duration_ms"] > 0
    assert (access["req-json-2"]["operation"], access["req-json-2"]["type"]) == ("Move", "mutation")
    for secret in (token, token.split(".")[2], "buyer-us-alice", "Alice Johnson", "77 Secret Lane", "Springfield",
                   "62702"):
        assert secret not in stderr, secret


async def test_the_tracking_cache_in_redis_is_shared_by_gateways_and_expires(mocks: MockUpstreams) -> None:
    import redis

    variables = {"id": "ord-us-in-transit"}
    with redis_server() as url:
        async with running_gateway(mocks, redis_url=url, tracking_cache_ttl=0.5) as a, \
                running_gateway(mocks, redis_url=url, tracking_cache_ttl=0.5) as b:
            first = await a.query(ORDER, variables)
            second = await b.query(ORDER, variables)
            assert "errors" not in first and second == first
            assert (await mocks.counters("carrier"))["trackings.batch"] == 1, "b read what a cached"
            client = redis.Redis.from_url(url)
            (key,) = client.keys("otg:trk:*")
            assert 0 < client.pttl(key) <= 500
            client.close()
            await asyncio.sleep(0.6)
            assert await b.query(ORDER, variables) == first
            assert (await mocks.counters("carrier"))["trackings.batch"] == 2, "expired: read again"
            text = (await b.client.get("/metrics")).text
    assert _sample(text, "gateway_cache_lookups_total", {"cache": "tracking", "result": "hit"}) == 1
    assert _sample(text, "gateway_cache_lookups_total", {"cache": "tracking", "result": "miss"}) == 1


def _return_input(key: str, reason: str = "DAMAGED") -> dict[str, Any]:
    return {"input": {"orderId": "ord-us-delivered", "idempotencyKey": key,
                      "items": [{"lineItemId": "ord-us-delivered-l1", "reason": reason}]}}


async def test_redis_idempotency_refuses_a_key_reused_for_another_request(mocks: MockUpstreams) -> None:
    with redis_server() as url:
        async with running_gateway(mocks, redis_url=url) as a, running_gateway(mocks, redis_url=url) as b:
            first = (await a.query(RETURN, _return_input("redis-mismatch-1")))["data"]["requestReturn"]
            reused = (await b.query(RETURN, _return_input("redis-mismatch-1", "NO_LONGER_NEEDED")))
    assert first["userErrors"] == [] and first["return"]["id"]
    assert reused["data"]["requestReturn"]["userErrors"] == [{"code": "IDEMPOTENCY_KEY_REUSED"}]
    assert reused["data"]["requestReturn"]["return"] is None
    assert (await mocks.counters("aftersales"))["returns.batch_create"] == 1


async def test_redis_idempotency_releases_a_key_whose_request_failed(mocks: MockUpstreams) -> None:
    await mocks.fault("aftersales", route="returns.batch_create", status=503, times=1)
    with redis_server() as url:
        async with running_gateway(mocks, redis_url=url) as a, running_gateway(mocks, redis_url=url) as b:
            failed = await a.query(RETURN, _return_input("redis-release-1"))
            assert failed["errors"][0]["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "service": "aftersales"}
            retried = (await b.query(RETURN, _return_input("redis-release-1")))["data"]["requestReturn"]
            replayed = (await a.query(RETURN, _return_input("redis-release-1")))["data"]["requestReturn"]
    assert retried["replayed"] is False and retried["return"]["id"], "the failed claim did not hold the key"
    assert replayed["replayed"] is True and replayed["return"]["id"] == retried["return"]["id"]
    assert (await mocks.counters("aftersales"))["returns.batch_create"] == 2


async def test_redis_idempotency_claims_are_owned_by_the_replica_that_made_them() -> None:
    from gateway.idempotency import Claimed, InProgress, Mismatch, Replay
    from gateway.stores import RedisIdempotencyStore, connect

    with redis_server() as url:
        client = connect(url)
        try:
            a, b = RedisIdempotencyStore(client, wait=0.3), RedisIdempotencyStore(client, wait=0.3)
            assert await a.claim("k", "fp-1") == Claimed()
            assert await b.claim("k", "fp-2") == Mismatch(), "a different request, even while the first runs"
            await b.release("k")  # not b's claim: it must stay
            assert await b.claim("k", "fp-1") == InProgress(), "a's claim still holds after b's wait"
            await a.release("k")
            assert await b.claim("k", "fp-1") == Claimed(), "released by its owner: free again"
            await b.finish("k", "fp-1", {"return_id": "r-1"})
            await b.release("k")  # a finished key is never released
            assert await a.claim("k", "fp-1") == Replay({"return_id": "r-1"})
            assert await a.claim("k", "fp-2") == Mismatch()
        finally:
            await client.aclose()


SPANS = ("graphql query Tracker", "orders orders.batch", "carrier trackings.batch", "aftersales aftersales.batch")


async def test_the_console_exporter_prints_the_spans_of_a_served_gateway(mocks: MockUpstreams) -> None:
    async with gateway_process(mocks, {"OTEL_TRACES_EXPORTER": "console"}) as (url, process):
        token = _token(settings_for(mocks))
        async with aiohttp.ClientSession() as session:
            status, body = await _post(session, url, ORDER, {"id": "ord-us-split-size"}, token)
            assert status == 200 and "errors" not in body
        process.terminate()  # the batch of spans is flushed on the way out
        await asyncio.wait_for(process.wait(), 15)
        assert process.stdout is not None
        stdout = (await process.stdout.read()).decode()
    names = re.findall(r'"name": "([^"]+)"', stdout)
    assert set(SPANS) <= set(names), names


async def test_the_otlp_exporter_posts_spans_to_the_configured_endpoint(mocks: MockUpstreams) -> None:
    import http.server
    import threading

    received: list[tuple[str, str, bytes]] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    # Its own thread: the exporter posts synchronously while the app shuts down on the test's loop.
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"
    try:
        async with running_gateway(mocks, otel_traces_exporter="otlp", otel_exporter_otlp_endpoint=endpoint) as gw:
            assert "errors" not in await gw.query(ORDER, {"id": "ord-us-split-size"})
    finally:
        collector.shutdown()
        collector.server_close()
    assert received and {(path, kind) for path, kind, _ in received} == {("/v1/traces", "application/x-protobuf")}
    exported = b"".join(body for _, _, body in received)
    assert all(name.encode() in exported for name in SPANS)


async def test_with_tracing_off_no_tracing_code_runs_at_all(mocks: MockUpstreams) -> None:
    import os
    import sys

    # A fresh interpreter serves a request with the default settings, then lists what it imported.
    script = """if True:
        import asyncio, sys, httpx
        from gateway.app import create_app, token_settings
        from gateway.auth import Role, mint
        from gateway.settings import Settings

        async def main() -> None:
            settings = Settings.from_env()
            app = create_app(settings)
            runtime = app.state.runtime
            assert not runtime.tracing.enabled and runtime.tracing.tracer is None
            async with app.router.lifespan_context(app):
                transports = runtime.transports
                assert all(t.tracing is None for t in (transports.orders, transports.carrier, transports.aftersales))
                token = mint(token_settings(settings), "buyer-us-alice", Role.BUYER)
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
                    r = await c.post("/graphql", json={"query": sys.argv[1], "variables": {"id": "ord-us-split-size"}},
                                     headers={"Authorization": f"Bearer {token}"})
                    assert r.status_code == 200 and "errors" not in r.json(), r.text
            # redis-py imports the OpenTelemetry API itself; the SDK's tracing and exporters are ours alone.
            print(sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk.trace", "opentelemetry.exporter"))))

        asyncio.run(main())
    """
    env = {**os.environ, "GATEWAY_MODE": "development", "ORDERS_URL": mocks.url("orders"),
           "CARRIER_URL": mocks.url("carrier"), "AFTERSALES_URL": mocks.url("aftersales"),
           "RATE_LIMIT_PER_MINUTE": "0"}
    env.pop("OTEL_TRACES_EXPORTER", None)
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, ORDER, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == "[]", "OpenTelemetry's tracing SDK was loaded with tracing off"


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """The app under uvicorn with exactly the options ``gateway serve`` passes, in the test's loop."""
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **{**uvicorn_options(settings),
                                                                    "port": free_port()}))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}", server
    finally:
        server.should_exit = True
        await task


async def test_a_fractional_shutdown_timeout_is_honoured_not_truncated(mocks: MockUpstreams) -> None:
    # 0.5 s of grace: a request with 0.3 s left when the shutdown starts still gets its answer (int() made it 0).
    await mocks.fault("orders", route="orders.batch", latency_ms=400)
    settings = settings_for(mocks, shutdown_timeout=0.5)
    async with served(settings) as (url, server), aiohttp.ClientSession() as session:
        slow = asyncio.create_task(_post(session, url, ORDER, {"id": "ord-us-in-transit"}, _token(settings)))
        await asyncio.sleep(0.1)
        server.should_exit = True  # what SIGTERM does
        status, body = await slow
    assert status == 200 and body["data"]["order"]["id"] == "ord-us-in-transit"


async def test_behind_a_trusted_proxy_each_real_client_has_its_own_anonymous_bucket(mocks: MockUpstreams) -> None:
    async def statuses(url: str, clients: list[str]) -> list[int]:
        codes = []
        async with aiohttp.ClientSession() as session:
            for client in clients:
                async with session.post(f"{url}/graphql", json={"query": "{ viewer { id } }"},
                                        headers={"X-Forwarded-For": client}) as response:
                    codes.append(response.status)
        return codes

    clients = ["203.0.113.7", "203.0.113.7", "203.0.113.8"]
    limited = {"rate_limit_per_minute": 1, "rate_limit_burst": 1}
    async with served(settings_for(mocks, **limited, forwarded_allow_ips=("127.0.0.1",))) as (url, _):
        assert await statuses(url, clients) == [200, 429, 200], "the proxy (us) is trusted: X-Forwarded-For counts"
    async with served(settings_for(mocks, **limited, forwarded_allow_ips=("10.1.2.3",))) as (url, _):
        assert await statuses(url, clients) == [200, 429, 429], "an untrusted peer cannot pick its identity"
