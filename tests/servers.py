"""A real uvicorn server for the gateway, on an ephemeral 127.0.0.1 port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from gateway.app import create_app
from tests.harness import settings_for
from tests.upstreams import MockUpstreams


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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
