"""GraphQL over HTTP, checked by the graphql-http server audit (npm, pinned) against a real server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from gateway.settings import Mode
from tests.hardening_support import GRAPHQL_RESPONSE, only_error
from tests.servers import running_server
from tests.upstreams import MockUpstreams

AUDIT = Path(__file__).resolve().parents[1] / "http_audit"


async def _audit(url: str) -> list[dict[str, str]]:
    assert (AUDIT / "node_modules" / "graphql-http").is_dir(), "run `make test` (it installs the audit with npm ci)"
    process = await asyncio.create_subprocess_exec(
        "node", str(AUDIT / "audit.mjs"), f"{url}/graphql", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert len(results) >= 50, "the audit ran its checks"
    return results


async def test_the_graphql_http_audit_reports_no_failures_and_no_warnings(mocks: MockUpstreams) -> None:
    async with running_server(mocks, mode=Mode.DEVELOPMENT) as url:
        results = await _audit(url)
    assert [r for r in results if r["status"] != "ok"] == []


# The audit's four {variables} checks query `__type(name: $name)`: introspection, which production refuses
# by design (GRAPHQL_VALIDATION_FAILED). Exactly these differ; every other check passes.
INTROSPECTION_CHECKS = {
    "28B9": ("MUST allow map {variables} parameter when accepting application/json", "error"),
    "2EA1": ("SHOULD allow map {variables} parameter when accepting application/graphql-response+json", "warn"),
    "6A70": ("MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json",
             "notice"),
    "D6D5": ("MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting "
             "application/graphql-response+json", "notice"),
}
AUDIT_QUERY = "query Type($name: String!) { __type(name: $name) { name } }"


async def test_in_production_exactly_the_checks_that_need_introspection_differ(mocks: MockUpstreams) -> None:
    async with running_server(mocks, mode=Mode.PRODUCTION) as url:
        results = await _audit(url)
        async with httpx.AsyncClient(base_url=url) as client:
            # Why: the audit's own request is refused for its introspection, not for its variables...
            audited = await client.post("/graphql", json={"query": AUDIT_QUERY, "variables": {"name": "sometype"}})
            # ...and the same variables, in a POST body or a GET's URL, work for any other query.
            variables = {"query": "query Type($show: Boolean!) { t: __typename @include(if: $show) }",
                         "variables": {"show": True}}
            posted = await client.post("/graphql", json=variables, headers={"Accept": GRAPHQL_RESPONSE})
            got = await client.get("/graphql", params={**variables, "variables": json.dumps(variables["variables"])})
    differing = {r["id"]: (r["name"], r["status"]) for r in results if r["status"] != "ok"}
    assert differing == INTROSPECTION_CHECKS
    assert audited.status_code == 200, audited.text
    error = only_error(audited.json())
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" and "introspection" in error["message"]
    for response in (posted, got):
        assert response.status_code == 200 and response.json() == {"data": {"t": "Query"}}, response.text
