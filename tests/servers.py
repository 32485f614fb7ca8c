"""A real uvicorn server for the gateway, on an ephemeral 127.0.0.1 port, inside the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from gateway.app import create_app
from tests.harness import settings_for
from tests.ports import free_port
from tests.upstreams import MockUpstreams


@asynccontextmanager
async def running_server(mocks: MockUpstreams, **overrides: Any) -> AsyncIterator[str]:
    if overrides.get("mode") is not None and "jwt_secret" not in overrides:
        overrides["jwt_secret"] = "test-secret-for-a-real-server-0123456789"
    settings = settings_for(mocks, **overrides)
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def gateway_process(mocks: MockUpstreams, extra: dict[str, str] | None = None,
                          args: tuple[str, ...] = ()) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """`gateway serve` in its own process, configured by environment like production is."""
    import os
    import sys

    import aiohttp

    from tests.upstreams import TEST_NOW

    port = free_port()
    env = {**os.environ, "GATEWAY_MODE": "development", "PORT": str(port), "HOST": "127.0.0.1",
           "ORDERS_URL": mocks.url("orders"), "CARRIER_URL": mocks.url("carrier"),
           "AFTERSALES_URL": mocks.url("aftersales"), "GATEWAY_NOW": TEST_NOW.isoformat(),
           "RATE_LIMIT_PER_MINUTE": "0", "LOG_LEVEL": "warning", **(extra or {})}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "gateway.cli", "serve", *args, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if process.returncode is not None:
                    raise AssertionError((await process.stderr.read()).decode() if process.stderr else "exited")
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("gateway did not start")
        yield url, process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
