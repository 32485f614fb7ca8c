"""The three mock services on ephemeral ports, for tests: real HTTP, pinned clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from mocks import aftersales_service, carrier_service, orders_service
from mocks.service import MockConfig

# A Friday noon; every scenario is built relative to it, so tests can name exact dates.
TEST_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SERVICES = ("orders", "carrier", "aftersales")


@dataclass
class MockUpstreams:
    servers: dict[str, TestServer]
    session: aiohttp.ClientSession

    def url(self, service: str) -> str:
        return str(self.servers[service].make_url("/"))

    async def call(self, service: str, method: str, path: str, json: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        async with self.session.request(method, self.servers[service].make_url(path), json=json,
                                        headers=headers) as response:
            body = await response.json(content_type=None) if response.content_length != 0 else None
            return response.status, body

    async def control(self, service: str, method: str, path: str, json: Any = None) -> Any:
        status, body = await self.call(service, method, f"/_control/{path}", json)
        assert status < 300, (status, body)
        return body

    async def fault(self, service: str, **fault: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.control(service, "POST", "faults", fault)
        return result

    async def counters(self, service: str) -> dict[str, int]:
        body = await self.control(service, "GET", "counters")
        routes: dict[str, int] = body["routes"]
        return routes

    async def all_counters(self) -> dict[str, int]:
        """Calls per route across the three services (route names are unique across them)."""
        counts: dict[str, int] = {}
        for service in SERVICES:
            counts.update(await self.counters(service))
        return counts

    async def reset_counters(self) -> None:
        for service in SERVICES:
            await self.control(service, "DELETE", "counters")


@asynccontextmanager
async def running_mocks(config: MockConfig | None = None) -> AsyncIterator[MockUpstreams]:
    config = config or MockConfig(now=TEST_NOW)
    factories = {"orders": orders_service.create_app, "carrier": carrier_service.create_app,
                 "aftersales": aftersales_service.create_app}
    servers = {name: TestServer(factory(config), host="127.0.0.1") for name, factory in factories.items()}
    for server in servers.values():
        await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield MockUpstreams(servers, session)
    finally:
        for server in servers.values():
            await server.close()
