"""``make profile``: where the single-worker gateway spends its CPU under a workload's load.

py-spy samples the gateway (pinned, as in the benchmark) while wrk drives the workload
(BENCH_PROFILE_WORKLOAD: order-page by default, history or mixed), and writes a flamegraph
(``bench/results/profile.svg``) plus a text summary (``profile.md``): the functions with the most
samples on-CPU, themselves and including what they call, and the share of samples by package.
BENCH_PROFILE_SECONDS (default 20) sets the length.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from bench.load import run as wrk
from bench.load import write_pool
from bench.stack import ROOT, StackConfig, running
from bench.workloads import load_world, workloads

RESULTS = ROOT / "bench" / "results"
PACKAGES = (("strawberry", "strawberry"), ("graphql-core", "graphql/"), ("gateway.domain", "gateway/domain"),
            ("gateway.upstream", "gateway/upstream"), ("gateway (other)", "gateway/"),
            ("aiodataloader", "aiodataloader"),
            ("aiohttp", "aiohttp"), ("uvicorn/starlette", "uvicorn"), ("uvicorn/starlette", "starlette"),
            ("jwt", "jwt/"), ("asyncio", "asyncio"), ("orjson/json", "json"))


def py_spy() -> str:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else (shutil.which("py-spy") or "py-spy")


def record(pid: int, seconds: int, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([py_spy(), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
                             "--nonblocking", "--function", "--format", fmt, "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# Where a request's time goes, by the function that starts each stage (a frame counted once per sample).
# py-spy sometimes shortens paths on sys.path, so a domain module shows as "(view.py:12)" or with its path.
DOMAIN = ("gateway/domain/", *(f"({m}.py:" for m in ("view", "packages", "tracker", "alerts", "actions", "status",
                                                     "returns", "policy", "items", "model")))
STAGES = (("GraphQL parse (graphql-core; documents are cached)", ("parse (graphql/language/parser.py",)),
          ("GraphQL validate (graphql-core; documents are cached)", ("validate (graphql/validation/validate.py",)),
          ("GraphQL execute, graphql-core (mutations; variable directives)", ("Executor.execute_operation",)),
          ("GraphQL execute, compiled plans (gateway/fastpath, with the domain it calls)", ("(gateway/fastpath.py",)),
          ("domain rules (gateway/domain)", DOMAIN),
          ("upstream calls (Transport.request)", ("Transport.request",)),
          ("parsing upstream JSON into records (upstream parsers)",
           ("parse_order (", "parse_tracking (", "parse_after_sales (", "reader.py:")),
          ("authentication (JWT, cached per token)", ("authenticate (gateway/app.py",)),
          ("context: scope, loaders", ("context (gateway/app.py",)),
          ("answer: JSON encoding, access log, metrics", ("GraphQLEndpoint._respond", "RequestInstruments.done (",)))


def package_of(frame: str) -> str:
    return next((name for name, marker in PACKAGES if marker in frame), "other")


def summarise(collapsed: Path, workload: str, top: int = 25) -> str:
    """Self and inclusive samples per function, and samples per package, from py-spy's raw output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    stages: Counter[str] = Counter()  # samples with at least one frame of the stage
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        total += n
        leaf = frames[-1]
        own[leaf] += n
        packages[package_of(leaf)] += n
        for frame in set(frames):
            inclusive[frame] += n
        for label, markers in STAGES:
            if any(m in f for f in frames for m in markers):
                stages[label] += n
    if not total:
        return "py-spy recorded no samples.\n"

    def rows(counter: Counter[str]) -> list[str]:
        return [f"| {100 * n / total:5.1f}% | `{f}` |" for f, n in counter.most_common(top)]

    return "\n".join([
        f"{total} samples of the gateway's main thread while it served the {workload} workload.", "",
        "### Samples by package (where the CPU was when sampled)", "", "| share | package |", "| --- | --- |",
        *(f"| {100 * n / total:5.1f}% | {p} |" for p, n in packages.most_common()), "",
        "### Stages of a request (inclusive samples)", "", "| share | stage |", "| --- | --- |",
        *(f"| {100 * stages[label] / total:5.1f}% | {label} |" for label, _ in STAGES), "",
        "### Functions by own samples", "", "| share | function |", "| --- | --- |", *rows(own), "",
        "### Functions by inclusive samples (themselves and what they call)", "", "| share | function |",
        "| --- | --- |", *rows(inclusive), ""])


def main() -> int:
    config = StackConfig.from_env()
    seconds = int(os.environ.get("BENCH_PROFILE_SECONDS") or 20)
    connections = int(os.environ.get("BENCH_CONNECTIONS") or 32)
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / "raw"
    world = load_world(config.clock, config.seed, config.mock_orders)
    workload = os.environ.get("BENCH_PROFILE_WORKLOAD") or "order-page"
    pool = write_pool(raw / "pool-profile.txt", workloads(world)[workload].requests, config.tokens())
    svg, collapsed = RESULTS / "profile.svg", raw / "profile.txt"
    with running(config, ["gateway"]) as stack:
        gateway = stack.systems["gateway"]
        url = config.url("gateway")
        wrk(url, pool, seconds=3, connections=connections, cpus=config.client_cpus)  # warm-up
        spies = [record(gateway.pid, seconds, svg, "flamegraph"), record(gateway.pid, seconds, collapsed, "raw")]
        load = threading.Thread(target=wrk, args=(url, pool), daemon=True,
                                kwargs={"seconds": seconds + 2, "connections": connections,
                                        "cpus": config.client_cpus})
        load.start()
        for spy in spies:
            _, err = spy.communicate(timeout=seconds + 60)
            if spy.returncode != 0:
                print(f"py-spy failed ({spy.returncode}): {err.decode()[-1500:]}", file=sys.stderr)
                return 1
        load.join(timeout=seconds + 30)
    summary = summarise(collapsed, workload)
    (RESULTS / "profile.md").write_text("# Where the gateway spends CPU (`make profile`)\n\n"
                                        f"Flamegraph: `bench/results/profile.svg`.\n\n{summary}")
    print(summary)
    print(f"flamegraph: {svg}\nsummary: {RESULTS / 'profile.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
