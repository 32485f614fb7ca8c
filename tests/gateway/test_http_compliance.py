"""GraphQL over HTTP, checked by the graphql-http server audit (npm, pinned) against a real server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from gateway.settings import Mode
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


async def test_in_production_only_the_checks_that_need_introspection_differ(mocks: MockUpstreams) -> None:
    """The audit's variables checks query `__type(name:)`, which production refuses by design
    (introspection is off). Everything else still passes; nothing fails."""
    async with running_server(mocks, mode=Mode.PRODUCTION) as url:
        results = await _audit(url)
    differing = [r for r in results if r["status"] != "ok"]
    assert len(differing) <= 4 and all("{variables}" in r["name"] for r in differing), differing
