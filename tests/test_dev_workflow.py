"""The developer workflow the README documents, run as a developer runs it: `make run` (gateway.dev, as a
subprocess on free ports) and `make token` from a fresh clone, with no GATEWAY_* or JWT_* variables set."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_ports
from tests.readme_examples import README
from tests.upstreams import TEST_NOW

ROOT = Path(__file__).resolve().parents[1]
MOCK_PORTS = ("ORDERS_PORT", "CARRIER_PORT", "AFTERSALES_PORT")
VIEWER = "{ viewer { id role shopId } }"


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A fresh shell: no gateway, JWT or mock settings; this checkout's code first on the path."""
    return {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", **extra}


def _get(url: str, token: str | None = None, body: Any = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _graphql(base: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    status, raw = _get(f"{base}/graphql", token, {"query": query, "variables": variables or {}})
    body: dict[str, Any] = json.loads(raw)
    assert status == 200 and "errors" not in body, (status, body)
    return body["data"]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class DevRun:
    """`make run` as a subprocess: where it listens and what it printed."""

    process: subprocess.Popen[bytes]
    base: str
    mock_ports: list[int]
    out: Path

    @property
    def printed(self) -> str:
        return self.out.read_text()

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        return self.process.wait(30)

    def end(self) -> None:
        """However the test went: stop it as a developer would, then make sure nothing of it is left."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
        # Its own session holds the gateway and its mocks child: a leftover of either goes with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def _start(tmp: Path, **env: str) -> DevRun:
    port, *mocks = free_ports(4)
    out = tmp / "stdout.txt"
    variables = _clean_env(tmp, PORT=str(port), **dict(zip(MOCK_PORTS, map(str, mocks), strict=True)), **env)
    # cwd is an empty directory, as a fresh clone has no .env for Settings to read.
    with out.open("wb") as stdout, (tmp / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "gateway.dev"], cwd=tmp, env=variables,
                                   stdout=stdout, stderr=stderr, start_new_session=True)
    run = DevRun(process, f"http://127.0.0.1:{port}", mocks, out)
    deadline = time.monotonic() + 60
    while not (_listening(port) and _get(f"{run.base}/healthz")[0] == 200):
        if process.poll() is not None or time.monotonic() > deadline:
            run.end()
            pytest.fail(f"make run did not come up: {(tmp / 'stderr.txt').read_text()[-2000:]}", pytrace=False)
        time.sleep(0.1)
    return run


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevRun]:
    """One `make run` for the module, its clock pinned as the README's examples are."""
    run = _start(tmp_path_factory.mktemp("make-run"), MOCK_NOW=TEST_NOW.isoformat())
    try:
        yield run
    finally:
        run.end()


def test_make_run_prints_graphiql_the_reference_page_and_tokens_it_accepts(dev: DevRun) -> None:
    printed = dev.printed
    assert f"{dev.base}/graphql" in printed
    assert f"{dev.base}/demo" in printed
    tokens = re.findall(r"Authorization: Bearer (\S+)", printed)
    viewers = [_graphql(dev.base, token, VIEWER)["viewer"] for token in tokens]
    assert viewers == [
        {"id": "buyer-us-alice", "role": "BUYER", "shopId": None},
        {"id": "buyer-uk-olivia", "role": "BUYER", "shopId": None},
        {"id": "seller-threadline", "role": "SELLER", "shopId": "shop-us-threadline"},
    ]
    status, page = _get(f"{dev.base}/demo/")
    assert status == 200 and b'<script type="module" src="app.js">' in page


def test_make_run_gives_the_gateway_the_mocks_clock(dev: DevRun) -> None:
    # ord-us-on-hold was paid 23 minutes before MOCK_NOW: judged at the mocks' "now", it is inside the
    # free-cancel hour, so cancelling needs no approval; judged at the wall clock, the hour is long over.
    [alice] = re.findall(r"Authorization: Bearer (\S+)", dev.printed)[:1]
    order = _graphql(dev.base, alice, """{ order(id: "ord-us-on-hold") {
        freeCancellationUntil afterSalesActions { kind available requiresApproval } } }""")["order"]
    assert datetime.fromisoformat(order["freeCancellationUntil"]) > TEST_NOW
    [cancel] = [a for a in order["afterSalesActions"] if a["kind"] == "CANCEL_ORDER"]
    assert cancel == {"kind": "CANCEL_ORDER", "available": True, "requiresApproval": False}


def _documented_token_commands() -> list[str]:
    """The `make token` lines of the README's authentication section, comments dropped."""
    text = README.read_text()
    section = text[text.index("### Authentication"):text.index("### Example queries")]
    lines = [line.split("#")[0].strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)
             for line in block.splitlines()]
    return [line for line in lines if line.endswith("make token")]


def _fresh_clone(tmp: Path) -> Path:
    """The Makefile and what its install stamp depends on, with a virtualenv that is already set up.

    The virtualenv's python hands over to this test run's interpreter; it refuses pip, so a stale stamp
    fails the test instead of installing anything.
    """
    clone = tmp / "clone"
    clone.mkdir()
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, clone / name)
    python = clone / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\n[ "$1 $2" = "-m pip" ] && exit 99\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    (clone / ".venv" / ".installed").touch()
    return clone


def test_the_documented_make_token_commands_work_from_a_fresh_clone(dev: DevRun, tmp_path: Path) -> None:
    commands = _documented_token_commands()
    assert len(commands) >= 3, commands
    clone = _fresh_clone(tmp_path)
    for command in commands:
        done = subprocess.run(["sh", "-c", command], cwd=clone, env=_clean_env(tmp_path), capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, f"{command}: {done.stderr}"
        token = done.stdout.strip()
        assert token.count(".") == 2, f"{command} printed {done.stdout!r}, not only a token"
        # The token is what `make run`'s gateway accepts, for whom the command names.
        subject = re.search(r"SUBJECT=(\S+)", command)
        viewer = _graphql(dev.base, token, VIEWER)["viewer"]
        assert viewer["id"] == (subject[1] if subject else "buyer-us-alice"), command
        role = re.search(r"ROLE=(\S+)", command)
        assert viewer["role"] == (role[1] if role else "buyer").upper(), command
        shop = re.search(r"SHOP=(\S+)", command)
        assert viewer["shopId"] == (shop[1] if shop else None), command


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_make_run_stops_cleanly_mocks_included(tmp_path: Path, sig: signal.Signals) -> None:
    run = _start(tmp_path)
    try:
        assert all(_listening(port) for port in run.mock_ports)
        assert run.stop(sig) == 0, (tmp_path / "stderr.txt").read_text()[-2000:]
        # The mocks are a child process: stopping `make run` must not leave them holding their ports.
        assert not any(_listening(port) for port in run.mock_ports)
        assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
    finally:
        run.end()
