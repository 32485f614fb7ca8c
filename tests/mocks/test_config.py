"""``MockConfig.from_env`` and ``python -m mocks``: good settings start three services, bad ones one clear line."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from mocks.__main__ import Listen
from mocks.service import MAX_GENERATED, MockConfig, MockConfigError
from tests.ports import free_ports

ROOT = Path(__file__).resolve().parents[2]
PORTS = ("ORDERS_PORT", "CARRIER_PORT", "AFTERSALES_PORT")


def test_the_defaults_follow_the_wall_clock_with_seed_7_and_no_generated_orders() -> None:
    assert MockConfig.from_env({}) == MockConfig(now=None, seed=7, generated=0)
    assert MockConfig.from_env({"MOCK_NOW": "", "MOCK_SEED": " ", "MOCK_ORDERS": ""}) == MockConfig()
    assert Listen.from_env({}) == Listen("127.0.0.1", (8101, 8102, 8103))


def test_good_values_are_read() -> None:
    config = MockConfig.from_env({"MOCK_NOW": "2026-11-20T07:00:00-05:00", "MOCK_SEED": "-3",
                                  "MOCK_ORDERS": str(MAX_GENERATED)})
    assert config == MockConfig(now=datetime(2026, 11, 20, 12, tzinfo=UTC), seed=-3, generated=MAX_GENERATED)
    assert Listen.from_env({"MOCK_HOST": "0.0.0.0", "ORDERS_PORT": "1", "CARRIER_PORT": "65535",
                            "AFTERSALES_PORT": "9000"}) == Listen("0.0.0.0", (1, 65535, 9000))


@pytest.mark.parametrize(("env", "message"), [
    ({"MOCK_SEED": "seven"}, "MOCK_SEED must be an integer, got 'seven'"),
    ({"MOCK_SEED": "7.5"}, "MOCK_SEED must be an integer, got '7.5'"),
    ({"MOCK_ORDERS": "lots"}, "MOCK_ORDERS must be an integer, got 'lots'"),
    ({"MOCK_ORDERS": "-1"}, f"MOCK_ORDERS must be from 0 to {MAX_GENERATED}, got -1"),
    ({"MOCK_ORDERS": str(MAX_GENERATED + 1)}, f"MOCK_ORDERS must be from 0 to {MAX_GENERATED}"),
    ({"MOCK_NOW": "tomorrow"}, "MOCK_NOW must be an ISO 8601 date-time with a UTC offset"),
    ({"MOCK_NOW": "2026-11-20T12:00:00"}, "MOCK_NOW must carry a UTC offset"),
    ({"MOCK_NOW": "2026-02-30T12:00:00+00:00"}, "MOCK_NOW must be an ISO 8601 date-time"),
])
def test_a_bad_world_setting_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(MockConfigError, match="^" + re.escape(message)):
        MockConfig.from_env(env)


@pytest.mark.parametrize(("env", "message"), [
    ({"ORDERS_PORT": "http"}, "ORDERS_PORT must be an integer, got 'http'"),
    ({"CARRIER_PORT": "0"}, "CARRIER_PORT must be from 1 to 65535, got 0"),
    ({"AFTERSALES_PORT": "65536"}, "AFTERSALES_PORT must be from 1 to 65535, got 65536"),
    ({"ORDERS_PORT": "9000", "CARRIER_PORT": "9000"}, "ORDERS_PORT, CARRIER_PORT and AFTERSALES_PORT must differ"),
])
def test_a_bad_port_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(MockConfigError, match="^" + re.escape(message)):
        Listen.from_env(env)


# ---- python -m mocks, as `make mocks` runs it ------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_") and k not in PORTS}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def _run(**extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mocks"], env=_env(**extra), cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def started() -> Iterator[tuple[subprocess.Popen[str], dict[str, int]]]:
    ports = dict(zip(PORTS, free_ports(3), strict=True))
    env = _env(MOCK_NOW="2026-11-20T12:00:00+00:00", MOCK_ORDERS="3", **{k: str(v) for k, v in ports.items()})
    process = subprocess.Popen([sys.executable, "-m", "mocks"], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    try:
        yield process, ports
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def _get(port: int, path: str) -> object:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return orjson.loads(response.read())


def test_python_m_mocks_serves_all_three_on_the_given_ports_and_stops_cleanly_on_sigterm(
        started: tuple[subprocess.Popen[str], dict[str, int]]) -> None:
    process, ports = started
    assert process.stdout is not None
    lines = [process.stdout.readline().strip() for _ in PORTS]  # printed once each service listens
    assert lines == [f"mock {name:<10} http://127.0.0.1:{ports[env]}"
                     for name, env in zip(("orders", "carrier", "aftersales"), PORTS, strict=True)]
    for (name, env) in zip(("orders", "carrier", "aftersales"), PORTS, strict=True):
        assert _get(ports[env], "/health") == {"service": name, "status": "ok"}
    # The environment built the world: the pinned clock and three generated orders.
    assert _get(ports["ORDERS_PORT"], "/_control/clock") == {
        "now": "2026-11-20T12:00:00+00:00", "anchor": "2026-11-20T12:00:00+00:00", "pinned": True}
    found = _get(ports["ORDERS_PORT"], "/orders?ids=ord-g-000003,ord-g-000004")
    assert isinstance(found, dict) and found["not_found"] == ["ord-g-000004"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(("env", "message"), [
    ({"MOCK_SEED": "abc"}, "mocks: bad configuration: MOCK_SEED must be an integer, got 'abc'"),
    ({"MOCK_NOW": "2026-11-20 noon"}, "mocks: bad configuration: MOCK_NOW must be an ISO 8601 date-time"),
    ({"CARRIER_PORT": "99999"}, "mocks: bad configuration: CARRIER_PORT must be from 1 to 65535, got 99999"),
])
def test_python_m_mocks_refuses_a_bad_setting_in_one_line_with_status_2(env: dict[str, str], message: str) -> None:
    result = _run(**env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_python_m_mocks_says_which_port_is_taken_in_one_line_with_status_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        orders, aftersales = free_ports(2)
        started = time.monotonic()
        result = _run(ORDERS_PORT=str(orders), CARRIER_PORT=str(port), AFTERSALES_PORT=str(aftersales))
    assert result.returncode == 1
    assert result.stderr.startswith(f"mock carrier: cannot listen on 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == f"mock {'orders':<10} http://127.0.0.1:{orders}\n"  # it got that far, then stopped
    assert time.monotonic() - started < 30
