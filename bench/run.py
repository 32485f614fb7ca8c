"""``make bench``: every system, every workload, every upstream latency, side by side, then the report.

    python -m bench.run            # the full benchmark (check, measure, soak, report)
    python -m bench.run --check    # only the answer check (every system equals the gateway)
    python -m bench.run --soak     # only the memory soak (``make bench-soak``: 5 minutes)

Durations and sizes come from the environment (see ``Settings.from_env`` below and the README), so
``BENCH_WARMUP=1 BENCH_DURATION=2 make bench`` is a quick run. Nothing is measured unless every
system first gives the gateway's exact answer to every request of every workload.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from bench.check import compare, unique
from bench.load import LoadResult, write_pool
from bench.load import run as wrk
from bench.procs import RssSampler, cpu_seconds, machine_busy_seconds
from bench.stack import ROOT, SYSTEMS, Stack, StackConfig, running
from bench.workloads import Workload, history, load_world, order_page, workloads

RESULTS = ROOT / "bench" / "results"
RAW = RESULTS / "raw"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class Settings:
    warmup: float = 5.0
    duration: float = 10.0
    connections: int = 32
    latencies: tuple[int, ...] = (0, 20)
    systems: tuple[str, ...] = tuple(SYSTEMS)
    workloads: tuple[str, ...] = ("order-page", "history", "mixed")
    pool: int = 64
    soak: float = 30.0

    @classmethod
    def from_env(cls, soak_default: float = 30.0) -> Settings:
        def names(var: str, default: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(n.strip() for n in _env(var, ",".join(default)).split(",") if n.strip())

        return cls(
            warmup=float(_env("BENCH_WARMUP", "5")), duration=float(_env("BENCH_DURATION", "10")),
            connections=int(_env("BENCH_CONNECTIONS", "32")),
            latencies=tuple(int(x) for x in names("BENCH_LATENCIES", ("0", "20"))),
            systems=names("BENCH_SYSTEMS", tuple(SYSTEMS)), workloads=names("BENCH_WORKLOADS", cls.workloads),
            pool=int(_env("BENCH_POOL", "64")), soak=float(_env("BENCH_SOAK_SECONDS", str(soak_default))),
        )


@dataclass
class Measurement:
    system: str
    workload: str
    latency_ms: int
    connections: int
    load: LoadResult
    cpu_seconds: float
    upstream_calls: dict[str, int]
    peak_rss: int
    mocks_cpu: float = 0.0
    other_cpu: float = 0.0  # CPU seconds the rest of the machine used in the window (not server, mocks, wrk)

    @property
    def started(self) -> int:
        """Requests the server was given: those completed in the window, and one still open per connection."""
        return self.load.requests + self.connections if self.load.requests else 0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.started if self.started else float("nan")

    @property
    def cpu_utilisation(self) -> float:
        """Server CPU over the window (the drain's share is small and left in)."""
        return self.cpu_seconds / self.load.seconds if self.load.seconds else 0.0

    @property
    def other_utilisation(self) -> float:
        return self.other_cpu / self.load.seconds if self.load.seconds else 0.0

    @property
    def calls_per_request(self) -> float:
        return sum(self.upstream_calls.values()) / self.started if self.started else float("nan")

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "rps": self.load.rps, "cpu_ms_per_request": self.cpu_ms_per_request,
                "cpu_utilisation": self.cpu_utilisation, "calls_per_request": self.calls_per_request,
                "other_utilisation": self.other_utilisation}


@dataclass
class Results:
    machine: dict[str, str]
    settings: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    history_calls: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # system -> size -> route
    soak: dict[str, Any] | None = None
    started: str = ""
    seconds: float = 0.0


def machine() -> dict[str, str]:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":" if ":" in line else "=", 1)[1].strip().strip('"')
        except OSError:
            pass
        return "unknown"

    def version(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
        except OSError:
            return "missing"
        return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "unknown"

    peer_lock = json.loads((ROOT / "bench" / "peer" / "package-lock.json").read_text())["packages"]
    from importlib.metadata import version as dist

    mem_kb = int(first("/proc/meminfo", "MemTotal").split()[0]) if first("/proc/meminfo", "MemTotal") != "unknown" \
        else 0
    return {
        "gateway commit": version(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]),
        "cpu": first("/proc/cpuinfo", "model name"), "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB", "kernel": platform.release(),
        "os": first("/etc/os-release", "PRETTY_NAME"), "python": platform.python_version(),
        "node": version(["node", "--version"]), "wrk": version(["wrk", "-v"]).split(" [")[0],
        "strawberry-graphql": dist("strawberry-graphql"), "uvicorn": dist("uvicorn"), "aiohttp": dist("aiohttp"),
        "@apollo/server": peer_lock["node_modules/@apollo/server"]["version"],
        "@apollo/datasource-rest": peer_lock["node_modules/@apollo/datasource-rest"]["version"],
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def check(stack: Stack, pools: dict[str, Workload], extra: list[Any]) -> None:
    """Every system must answer every request exactly as the gateway does, or nothing is measured."""
    requests = unique([r for w in pools.values() for r in w.requests] + extra)
    urls = {name: stack.config.url(name) for name in stack.systems}
    reference = "gateway" if "gateway" in urls else next(iter(urls))
    started = time.monotonic()
    mismatches = asyncio.run(compare(urls, reference, requests, stack.config.tokens()))
    others = ", ".join(n for n in urls if n != reference)
    if mismatches:
        for m in mismatches[:20]:
            print(f"  MISMATCH {m}", file=sys.stderr)
        raise SystemExit(f"check FAILED: {len(mismatches)} answers differ from the {reference}'s; nothing measured")
    what = f"{others} answer exactly as the {reference} does" if others else f"the {reference} answers without errors"
    log(f"check passed: {what}, for {len(requests)} distinct requests ({time.monotonic() - started:.1f}s)")


def history_calls(stack: Stack, buyer: str) -> dict[str, dict[str, dict[str, int]]]:
    """Upstream calls for one history page of 10 and of 20 orders, per system (no other traffic)."""
    found: dict[str, dict[str, dict[str, int]]] = {}
    tokens = stack.config.tokens()

    async def ask(url: str, size: int) -> None:
        import aiohttp

        from bench.check import post

        async with aiohttp.ClientSession() as session:
            await post(session, url, tokens.for_(buyer), history(buyer, size))

    for name in stack.systems:
        found[name] = {}
        for size in (10, 20):
            stack.control.reset_counters()
            asyncio.run(ask(stack.config.url(name), size))
            found[name][str(size)] = stack.control.counters()
    return found


def drain(stack: Stack, pid: int, limit: float = 20.0) -> None:
    """Wait until requests still in flight after a wrk run are served: no upstream call and no server CPU
    for a moment. wrk stops with every connection waiting on an answer, and the server finishes those."""
    deadline = time.monotonic() + limit
    last = (sum(stack.control.counters().values()), cpu_seconds(pid))
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = (sum(stack.control.counters().values()), cpu_seconds(pid))
        if now[0] == last[0] and now[1] - last[1] <= 0.011:
            return
        last = now


def measure(stack: Stack, system: str, workload: Workload, pool: Path, latency: int, s: Settings) -> Measurement:
    """Warm up, then measure: CPU and upstream calls are counted from a quiet start until the requests still
    in flight when wrk stops have been served, and divided by every request started (completed + the one
    waiting on each connection at the end), so a slow system is not charged for work it had not finished."""
    process = stack.systems[system]
    url, client = stack.config.url(system), stack.config.client_cpus
    with RssSampler(process.pid) as rss:
        if s.warmup > 0:
            wrk(url, pool, seconds=s.warmup, connections=s.connections, cpus=client)
            drain(stack, process.pid)
        stack.control.reset_counters()
        before, mocks, busy = cpu_seconds(process.pid), cpu_seconds(stack.mocks.pid), machine_busy_seconds()
        load = wrk(url, pool, seconds=s.duration, connections=s.connections, cpus=client)
        busy = machine_busy_seconds() - busy
        drain(stack, process.pid)
        spent = cpu_seconds(process.pid) - before
        mocks = cpu_seconds(stack.mocks.pid) - mocks
        calls = stack.control.counters()
    other = max(0.0, busy - spent - mocks - load.loadgen_cpu)  # spent and mocks include the short drain
    m = Measurement(system, workload.name, latency, s.connections, load, spent, calls, rss.peak, mocks, other)
    log(f"{system:>15} {workload.name:<10} {latency:>2}ms: {load.rps:7.1f} req/s  p50 {load.p50_ms:7.1f}ms  "
        f"p99 {load.p99_ms:7.1f}ms  cpu {m.cpu_ms_per_request:6.2f}ms/req ({100 * m.cpu_utilisation:3.0f}%)  "
        f"{m.calls_per_request:.2f} calls/req  rss {rss.peak / 2**20:.0f}MiB  failed {load.failed + load.errors}  "
        f"other CPU {100 * m.other_utilisation:.0f}%")
    return m


def soak(stack: Stack, pool: Path, s: Settings, system: str = "gateway") -> dict[str, Any]:
    """Sustained mixed load on the single-worker gateway; RSS sampled every second."""
    process = stack.systems[system]
    stack.control.set_latency(0)
    log(f"soak: {system}, mixed workload, {s.soak:.0f}s after a {s.warmup:.0f}s warm-up")
    if s.warmup > 0:
        wrk(stack.config.url(system), pool, seconds=s.warmup, connections=s.connections,
            cpus=stack.config.client_cpus)
    with RssSampler(process.pid, interval=1.0) as rss:
        load = wrk(stack.config.url(system), pool, seconds=s.soak, connections=s.connections,
                   cpus=stack.config.client_cpus)
    samples = rss.samples
    fifth = max(1, len(samples) // 5)
    start = sum(v for _, v in samples[:fifth]) / fifth
    end = sum(v for _, v in samples[-fifth:]) / fifth
    growth = end / start - 1 if start else 0.0
    result = {"system": system, "seconds": s.soak, "requests": load.requests, "rps": load.rps,
              "rss_start": start, "rss_end": end, "growth": growth,
              "samples": [(round(t, 1), v) for t, v in samples]}
    log(f"soak: {load.requests} requests, RSS {start / 2**20:.1f} -> {end / 2**20:.1f} MiB ({100 * growth:+.1f}%)")
    return result


def _stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the stack's ``finally`` stops every process it started."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that every system answers alike")
    parser.add_argument("--soak", action="store_true", help="only the memory soak (default 300 s)")
    args = parser.parse_args(argv)

    _stop_on_sigterm()
    config = StackConfig.from_env()
    s = Settings.from_env(soak_default=300.0 if args.soak else 30.0)
    started = time.monotonic()
    RAW.mkdir(parents=True, exist_ok=True)
    world = load_world(config.clock, config.seed, config.mock_orders)
    pools = {name: w for name, w in workloads(world, s.pool).items() if name in s.workloads or args.soak}
    tokens = config.tokens()
    files = {name: write_pool(RAW / f"pool-{name}.txt", w.requests, tokens) for name, w in pools.items()}
    systems = ["gateway"] if args.soak else list(s.systems)
    results = Results(machine(), {**asdict(s), "workers": config.workers, "server_cpus": config.server_cpus,
                                  "client_cpus": config.client_cpus, "mock_orders": config.mock_orders},
                      started=time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    log(f"machine: {results.machine['cpu']}, {results.machine['cores']} cores; systems: {', '.join(systems)}")
    with running(config, systems) as stack:
        # Every named scenario's order page too: the check covers more than the measured pools.
        scenarios = [order_page(o, b) for o, b in world.scenario_orders] + [history(b, 10) for b in
                                                                             world.history_buyers[:4]]
        check(stack, pools, scenarios)
        if args.check:
            return 0
        if args.soak:
            results.soak = soak(stack, files["mixed"], s)
        else:
            results.history_calls = history_calls(stack, world.history_buyers[0])
            for latency in s.latencies:
                stack.control.set_latency(latency)
                for name in s.workloads:
                    for system in systems:
                        results.measurements.append(measure(stack, system, pools[name], files[name], latency, s))
            stack.control.set_latency(0)
            if s.soak > 0 and "gateway" in systems and "mixed" in files:
                results.soak = soak(stack, files["mixed"], s)
    results.seconds = time.monotonic() - started
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw = {**asdict(results), "measurements": [m.as_json() for m in results.measurements]}
    (RAW / f"{'soak' if args.soak else 'bench'}-{stamp}.json").write_text(json.dumps(raw, indent=1, default=str))
    if args.soak:
        text = report.soak_markdown(results.soak or {}, results.machine, results.settings, results.started)
        (RESULTS / "soak.md").write_text(text)
        print(text)
        return 0
    text = report.markdown(results)
    (RESULTS / "latest.md").write_text(text)
    report.plot(results, RESULTS / "latest.png")
    print(text)
    log(f"done in {results.seconds:.0f}s: bench/results/latest.md, bench/results/latest.png, raw JSON in {RAW}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
