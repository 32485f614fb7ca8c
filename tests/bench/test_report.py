"""The benchmark's verdicts: a target passes on sound measurements only, never on failed answers."""

from __future__ import annotations

from bench.load import LoadResult
from bench.report import targets
from bench.run import Measurement, Results


def _cell(system: str, cpu_seconds: float, *, latency: int = 0, failed: int = 0) -> Measurement:
    load = LoadResult(requests=968, seconds=10.0, errors=0, failed=failed, loadgen_cpu=1.0, p50_ms=40.0,
                      p90_ms=50.0, p99_ms=60.0, mean_ms=42.0, max_ms=70.0)
    return Measurement(system=system, workload="order-page", latency_ms=latency, connections=32, load=load,
                       cpu_seconds=cpu_seconds, upstream_calls={}, peak_rss=0)


def _results(*cells: Measurement) -> Results:
    return Results(machine={}, settings={"connections": 32, "latencies": [0]}, measurements=list(cells))


def _line(lines: list[str], words: str) -> str:
    return next(line for line in lines if words in line)


def test_cpu_targets_compare_the_gateway_with_the_peer_and_the_floor() -> None:
    # 1000 requests started (968 completed + 32 open): the CPU seconds are the ms per request.
    lines = targets(_results(_cell("gateway", 1.2), _cell("peer", 1.5), _cell("floor", 0.5)))
    assert _line(lines, "every answer measured succeeded").startswith("PASS")
    assert _line(lines, "gateway/peer").startswith("PASS") and "= 0.80" in _line(lines, "gateway/peer")
    assert _line(lines, "gateway/floor").startswith("FAIL") and "= 2.40" in _line(lines, "gateway/floor")


def test_a_cell_with_failed_answers_fails_and_proves_no_speed() -> None:
    lines = targets(_results(_cell("gateway", 0.2, failed=300), _cell("peer", 1.5), _cell("floor", 0.5)))
    assert _line(lines, "every answer measured succeeded").startswith("FAIL")
    assert "gateway order-page 0 ms failed 300" in _line(lines, "every answer measured succeeded")
    assert _line(lines, "gateway/peer").startswith("N/A")
    assert _line(lines, "gateway/floor").startswith("N/A")
