"""The whole stack on real sockets, for a real browser: the three mock upstreams and the gateway under
uvicorn in development mode, on ephemeral 127.0.0.1 ports, with every clock pinned at TEST_NOW.

One background thread runs its own event loop for all of it, so the synchronous Playwright API can
drive the browser from the test thread.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from gateway.app import create_app
from tests.harness import settings_for
from tests.upstreams import SERVICES, running_mocks


def _call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@dataclass(frozen=True)
class Stack:
    url: str  # the gateway, e.g. http://127.0.0.1:41234
    mocks: dict[str, str]  # service name -> base URL

    @property
    def demo(self) -> str:
        return f"{self.url}/demo/"

    def reset(self) -> None:
        """Every mock back to its freshly built world: a test's returns and cancellations are undone."""
        for service in SERVICES:
            _call(f"{self.mocks[service]}_control/reset", "POST", {})

    def fault(self, service: str, **fault: Any) -> None:
        _call(f"{self.mocks[service]}_control/faults", "POST", fault)

    def graphql(self, shopper: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the API answers, through the same development token flow the page uses."""
        token = _call(f"{self.url}/dev/token", "POST", {"shopper": shopper})["token"]
        body: dict[str, Any] = _call(f"{self.url}/graphql", "POST", {"query": query, "variables": variables or {}},
                                     {"Authorization": f"Bearer {token}"})
        assert "errors" not in body, body["errors"]
        return body["data"]


@contextmanager
def running_stack(start_timeout: float = 30.0) -> Iterator[Stack]:
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        state["stop"] = (asyncio.get_running_loop(), stop)
        async with running_mocks() as mocks:
            # A test that fails the carrier on purpose must not leave the breaker open for the next one.
            app = create_app(settings_for(mocks, breaker_threshold=10_000))
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:
                if serving.done():
                    serving.result()  # raises why it stopped
                    raise RuntimeError("the gateway stopped during start-up")
                await asyncio.sleep(0.02)
            port = sock.getsockname()[1]
            state["stack"] = Stack(f"http://127.0.0.1:{port}", {s: mocks.url(s) for s in SERVICES})
            started.set()
            await stop.wait()
            server.should_exit = True
            await serving

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # reported to the test thread, which re-raises it
            state["error"] = error
        finally:
            started.set()

    thread = threading.Thread(target=run, name="e2e-stack", daemon=True)
    thread.start()
    if not started.wait(start_timeout) or "stack" not in state:
        raise RuntimeError("the mocks and gateway did not start") from state.get("error")
    try:
        yield state["stack"]
    finally:
        loop, stop = state["stop"]
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
