"""The whole bench stack: mocks, the systems under test, their settings, and who runs on which core.

Every system reads the gateway's own settings from the environment (ports, upstream URLs, JWT
secret, pinned clock), so they all talk to the same mocks with the same clock and token rules.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.check import Tokens
from bench.procs import Process, pinned
from bench.upstreams import SERVICES, MockControl
from gateway.auth import TokenSettings

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT / "bench" / "peer"
JWT_SECRET = "bench-only-secret-0123456789abcdef0123456789"
ISSUER, AUDIENCE = "order-tracker-dev", "order-tracker-gateway"

# name -> what it is, for the report
SYSTEMS = {
    "gateway": "the gateway: one uvicorn worker, pinned to the server core",
    "gateway-workers": "the gateway: `gateway serve --workers N`, not pinned",
    "floor": "FLOOR: aiohttp + gateway.domain, no GraphQL, pinned to the server core",
    "peer": "PEER: Apollo Server 5 + @apollo/datasource-rest (Node), pinned to the server core",
}


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class StackConfig:
    now: str = "2026-11-20T12:00:00+00:00"
    seed: int = 7
    mock_orders: int = 2000
    port_base: int = 18000
    workers: int = os.cpu_count() or 2
    server_cpus: str = "0"  # the system under test
    client_cpus: str = "1"  # mocks and wrk
    logs: Path = ROOT / "bench" / "results" / "raw" / "logs"

    @classmethod
    def from_env(cls) -> StackConfig:
        cores = os.cpu_count() or 2
        return cls(
            now=_env("BENCH_NOW", cls.now), seed=int(_env("BENCH_SEED", "7")),
            mock_orders=int(_env("BENCH_MOCK_ORDERS", "2000")), port_base=int(_env("BENCH_PORT_BASE", "18000")),
            workers=int(_env("BENCH_WORKERS", str(cores))),
            server_cpus=_env("BENCH_SERVER_CPUS", "0"),
            client_cpus=_env("BENCH_CLIENT_CPUS", f"1-{cores - 1}" if cores > 2 else ("1" if cores == 2 else "0")),
        )

    @property
    def clock(self) -> datetime:
        return datetime.fromisoformat(self.now)

    def mock_port(self, service: str) -> int:
        return self.port_base + 101 + SERVICES.index(service)

    def port(self, system: str) -> int:
        return self.port_base + 1 + list(SYSTEMS).index(system)

    def url(self, system: str) -> str:
        return f"http://127.0.0.1:{self.port(system)}/graphql"

    def tokens(self) -> Tokens:
        return Tokens(TokenSettings(secret=JWT_SECRET, issuer=ISSUER, audience=AUDIENCE))

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "MOCK_", "JWT_"))}
        env["PYTHONPATH"] = f"{ROOT / 'src'}:{ROOT}"
        return env

    def server_env(self, port: int) -> dict[str, str]:
        env = self.base_env()
        env.update({
            "GATEWAY_MODE": "production", "JWT_SECRET": JWT_SECRET, "GATEWAY_NOW": self.now, "HOST": "127.0.0.1",
            "PORT": str(port), "NODE_ENV": "production",
            # The limiter still runs on every request (its cost is measured) but never refuses one: the
            # load generator is a handful of buyers at a thousand requests a second, and a cheap 429 would
            # pass for a fast answer. The peer and the floor have no limiter at all.
            "RATE_LIMIT_PER_MINUTE": "600000000", "RATE_LIMIT_BURST": "10000000",
            **{f"{s.upper()}_URL": f"http://127.0.0.1:{self.mock_port(s)}/" for s in SERVICES},
        })
        return env


@dataclass
class Stack:
    config: StackConfig
    mocks: Process
    systems: dict[str, Process] = field(default_factory=dict)

    @property
    def control(self) -> MockControl:
        return MockControl({s: f"http://127.0.0.1:{self.config.mock_port(s)}/" for s in SERVICES})


def mocks_process(config: StackConfig) -> Process:
    env = config.base_env()
    env.update({"MOCK_NOW": config.now, "MOCK_SEED": str(config.seed), "MOCK_ORDERS": str(config.mock_orders),
                **{f"{s.upper()}_PORT": str(config.mock_port(s)) for s in SERVICES}})
    return Process("mocks", pinned([sys.executable, "-m", "mocks"], config.client_cpus), env,
                   f"http://127.0.0.1:{config.mock_port('aftersales')}/health",  # the last one started
                   config.logs / "mocks.log", cwd=ROOT)


def system_process(config: StackConfig, name: str) -> Process:
    port = config.port(name)
    env = config.server_env(port)
    health = f"http://127.0.0.1:{port}/healthz"
    python = [sys.executable, "-m"]
    if name == "gateway":
        command = pinned([*python, "gateway.cli", "serve"], config.server_cpus)
    elif name == "gateway-workers":
        # No Redis here: per-worker stores are fine for a read-only load, and production wants this said.
        command = [*python, "gateway.cli", "serve", "--workers", str(config.workers), "--allow-per-worker-state"]
    elif name == "floor":
        command = pinned([*python, "bench.floor"], config.server_cpus)
    elif name == "peer":
        command = pinned(["node", str(PEER / "src" / "server.js")], config.server_cpus)
        # Apollo Server has no health route: a trivial query, with the header its CSRF guard asks for.
        health = f"http://127.0.0.1:{port}/graphql?query=%7B__typename%7D"
    else:
        raise ValueError(f"unknown system {name!r}; known: {', '.join(SYSTEMS)}")
    headers = {"apollo-require-preflight": "true"} if name == "peer" else {}
    return Process(name, command, env, health, config.logs / f"{name}.log", cwd=ROOT, health_headers=headers)


@contextlib.contextmanager
def running(config: StackConfig, systems: Sequence[str]) -> Iterator[Stack]:
    """Mocks and the named systems, started in that order and always stopped."""
    stack = Stack(config, mocks_process(config))
    try:
        stack.mocks.start()
        for name in systems:
            process = system_process(config, name)
            stack.systems[name] = process
            process.start()
        yield stack
    finally:
        for process in reversed(list(stack.systems.values())):
            process.stop()
        stack.mocks.stop()
