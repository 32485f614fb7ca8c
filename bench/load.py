"""The load generator: wrk (closed loop, bounded in time) driven over a request pool, on 127.0.0.1.

wrk keeps ``connections`` requests in flight for ``seconds`` and stops by itself; its Lua script
(``bench/wrk/graphql.lua``) sends the pool's requests round-robin and prints one JSON summary line.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.check import Tokens
from bench.procs import pinned
from bench.workloads import Request

SCRIPT = Path(__file__).parent / "wrk" / "graphql.lua"


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int  # socket errors and timeouts (wrk's own count)
    failed: int  # answers that are not HTTP 200, or that carry GraphQL errors
    loadgen_cpu: float  # wrk's own CPU seconds
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def write_pool(path: Path, requests: Sequence[Request], tokens: Tokens) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{tokens.for_(r.subject)}\t{json.dumps(r.body(), separators=(',', ':'))}" for r in requests]
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, pool: Path, *, seconds: float, connections: int, threads: int = 1, cpus: str | None = None,
        timeout_s: float = 10.0) -> LoadResult:
    """One closed-loop run of ``seconds``; wrk exits by itself (and is killed if it overstays)."""
    duration = max(1, round(seconds))
    command = pinned(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s:g}s",
                      "-s", str(SCRIPT), url], cpus)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, env={"BENCH_REQUESTS": str(pool), "PATH": "/usr/bin:/bin:/usr/local/bin"},
                          capture_output=True, text=True, timeout=duration + timeout_s + 30, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = next((line for line in done.stdout.splitlines() if line.startswith('{"requests"')), None)
    if done.returncode != 0 or summary is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(summary)
    latency = data["latency_us"]
    return LoadResult(
        requests=data["requests"], seconds=data["duration_us"] / 1e6, errors=sum(data["errors"].values()),
        failed=data["failed"], loadgen_cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        p50_ms=latency["p50"] / 1000, p90_ms=latency["p90"] / 1000, p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000, max_ms=latency["max"] / 1000,
    )
