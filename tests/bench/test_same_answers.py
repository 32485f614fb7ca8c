"""The benchmark compares like with like: the floor and the peer answer exactly as the gateway does.

One quick comparison (the featured order page, every named scenario's order page and a history page),
over real processes on real ports; `make bench` checks every request of every workload before it
measures anything. Skipped where node or the peer's npm packages are missing (`make bench-deps`
installs them).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from bench.check import compare
from bench.stack import PEER, StackConfig, running
from bench.workloads import FEATURED_ORDER, history, load_world, order_page

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(shutil.which("node") is None or not (PEER / "node_modules").is_dir(),
                       reason="needs node and the peer's packages (make bench-deps)"),
]


def test_floor_and_peer_answer_exactly_as_the_gateway(tmp_path: Path) -> None:
    base = int(os.environ.get("BENCH_TEST_PORT_BASE", "19300"))
    config = StackConfig(port_base=base, mock_orders=300, server_cpus="", client_cpus="",
                         logs=tmp_path / "logs")
    world = load_world(config.clock, config.seed, config.mock_orders)
    buyer = world.history_buyers[0]
    olivia = dict(world.multi_package)[FEATURED_ORDER]
    # Every named scenario's order page too: each abnormal case, split and after-sales state the peer ports.
    requests = [order_page(FEATURED_ORDER, olivia), *(order_page(o, b) for o, b in world.scenario_orders),
                history(buyer, 20)]
    with running(config, ["gateway", "floor", "peer"]) as stack:
        urls = {name: config.url(name) for name in stack.systems}
        mismatches = asyncio.run(compare(urls, "gateway", requests, config.tokens()))
    assert not mismatches, "\n".join(map(str, mismatches))
