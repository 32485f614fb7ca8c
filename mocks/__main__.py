"""``python -m mocks``: start all three mock services (``make mocks``).

Ports: ORDERS_PORT (8101), CARRIER_PORT (8102), AFTERSALES_PORT (8103); host MOCK_HOST (127.0.0.1).
World: MOCK_NOW (pin "now", ISO 8601 with offset), MOCK_SEED (7), MOCK_ORDERS (generated orders, 0).
A variable that cannot be used ends the command with one line on stderr and exit status 2; a port
that cannot be bound, with one line and status 1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from mocks import aftersales_service, carrier_service, orders_service
from mocks.service import MockConfig, MockConfigError, env_int

SERVICES: tuple[tuple[str, str, int, Callable[[MockConfig], web.Application]], ...] = (
    ("orders", "ORDERS_PORT", 8101, orders_service.create_app),
    ("carrier", "CARRIER_PORT", 8102, carrier_service.create_app),
    ("aftersales", "AFTERSALES_PORT", 8103, aftersales_service.create_app),
)


@dataclass(frozen=True)
class Listen:
    """Where the three services listen: one host, a port each (in ``SERVICES`` order)."""

    host: str
    ports: tuple[int, ...]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Listen:
        host = env.get("MOCK_HOST", "").strip() or "127.0.0.1"
        ports = tuple(env_int(env, name, default, (1, 65535)) for _, name, default, _ in SERVICES)
        if len(set(ports)) != len(ports):
            raise MockConfigError(
                "ORDERS_PORT, CARRIER_PORT and AFTERSALES_PORT must differ, got " + ", ".join(map(str, ports)))
        return cls(host, ports)


class BindError(OSError):
    """A service could not listen on its address (port taken, host unknown, no permission)."""


async def serve(config: MockConfig, listen: Listen) -> None:
    runners = []
    try:
        for (name, _, _, factory), port in zip(SERVICES, listen.ports, strict=True):
            runner = web.AppRunner(factory(config), access_log=None)
            await runner.setup()
            runners.append(runner)
            try:
                await web.TCPSite(runner, listen.host, port).start()
            except OSError as error:
                raise BindError(f"mock {name}: cannot listen on {listen.host}:{port}: "
                                f"{error.strerror or error}") from error
            print(f"mock {name:<10} http://{listen.host}:{port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        for runner in runners:
            await runner.cleanup()


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        config, listen = MockConfig.from_env(env), Listen.from_env(env)
    except MockConfigError as error:
        print(f"mocks: bad configuration: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(config, listen))
    except BindError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
