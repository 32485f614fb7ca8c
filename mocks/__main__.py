"""``python -m mocks``: start all three mock services (``make mocks``).

Ports: ORDERS_PORT (8101), CARRIER_PORT (8102), AFTERSALES_PORT (8103); host MOCK_HOST (127.0.0.1).
World: MOCK_NOW (pin "now", ISO 8601 with offset), MOCK_SEED (7), MOCK_ORDERS (generated orders, 0).
"""

from __future__ import annotations

import asyncio
import os
import signal

from aiohttp import web

from mocks import aftersales_service, carrier_service, orders_service
from mocks.service import MockConfig

SERVICES = (
    ("orders", "ORDERS_PORT", 8101, orders_service.create_app),
    ("carrier", "CARRIER_PORT", 8102, carrier_service.create_app),
    ("aftersales", "AFTERSALES_PORT", 8103, aftersales_service.create_app),
)


async def serve(config: MockConfig, host: str) -> None:
    runners = []
    for name, env, default, factory in SERVICES:
        runner = web.AppRunner(factory(config), access_log=None)
        await runner.setup()
        port = int(os.environ.get(env, default))
        await web.TCPSite(runner, host, port).start()
        runners.append(runner)
        print(f"mock {name:<10} http://{host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()


def main() -> None:
    asyncio.run(serve(MockConfig.from_env(), os.environ.get("MOCK_HOST", "127.0.0.1")))


if __name__ == "__main__":
    main()
