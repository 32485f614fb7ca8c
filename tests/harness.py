"""The gateway app over its real HTTP clients, against the mocks, driven in-process with httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.app import create_app, token_settings
from gateway.auth import Role, mint
from gateway.settings import Mode, Settings
from tests.upstreams import TEST_NOW, MockUpstreams

ALICE, BOB, OLIVIA = "buyer-us-alice", "buyer-us-bob", "buyer-uk-olivia"


@dataclass
class Gateway:
    client: httpx.AsyncClient
    settings: Settings

    def token(self, subject: str = ALICE, role: Role = Role.BUYER, shop_id: str | None = None) -> str:
        # Minted at the real time: token expiry is checked against the wall clock, not the pinned one.
        return mint(token_settings(self.settings), subject, role, shop_id=shop_id)

    async def post(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = ALICE,
                   role: Role = Role.BUYER, shop_id: str | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        all_headers = dict(headers or {})
        if as_ is not None:
            all_headers["Authorization"] = f"Bearer {self.token(as_, role, shop_id)}"
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                      headers=all_headers)

    async def query(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        response = await self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def settings_for(mocks: MockUpstreams, **overrides: Any) -> Settings:
    # Rate limiting is off here: tests that exercise it turn it on.
    base = Settings(mode=Mode.DEVELOPMENT, orders_url=mocks.url("orders"), carrier_url=mocks.url("carrier"),
                    aftersales_url=mocks.url("aftersales"), clock=TEST_NOW, rate_limit_per_minute=0)
    return base.with_(**overrides) if overrides else base


@asynccontextmanager
async def running_gateway(mocks: MockUpstreams, **overrides: Any) -> AsyncIterator[Gateway]:
    settings = settings_for(mocks, **overrides)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Gateway(client, settings)
