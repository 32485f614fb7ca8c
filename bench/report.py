"""The report: a Markdown table per upstream latency, the ratios, the PASS/FAIL targets, and a PNG plot.

The targets are what the gateway is held to. They are measurements, not tests (a busy machine can move
them), so a FAIL is a regression to look into, not a broken build.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.stack import SYSTEMS

if TYPE_CHECKING:
    from bench.run import Measurement, Results

PAGE = "order-page"


def _find(results: Results, system: str, workload: str, latency: int) -> Measurement | None:
    return next((m for m in results.measurements
                 if (m.system, m.workload, m.latency_ms) == (system, workload, latency)), None)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|",
            *("| " + " | ".join(r) + " |" for r in rows)]


def targets(results: Results) -> list[str]:
    """PASS/FAIL lines for the optimisation targets of the issue."""
    lines: list[str] = []
    connections = results.settings["connections"]

    def verdict(ok: bool | None) -> str:
        return "N/A " if ok is None else ("PASS" if ok else "FAIL")

    # A failed answer (a 429, an error) is cheap and fast: a cell with any is no evidence of speed.
    failing = [m for m in results.measurements if m.load.failed + m.load.errors]
    lines.append(f"{verdict(not failing)}  every answer measured succeeded: "
                 + (", ".join(f"{m.system} {m.workload} {m.latency_ms} ms failed {m.load.failed + m.load.errors}"
                              for m in failing) or f"{len(results.measurements)} cells, 0 failed")
                 + " (target: none failed; the other targets count only cells without failures)")

    def sound(m: Measurement | None) -> Measurement | None:
        return m if m is not None and not m.load.failed + m.load.errors else None

    for latency in results.settings["latencies"]:
        gw, peer, floor = (sound(_find(results, s, PAGE, latency)) for s in ("gateway", "peer", "floor"))
        cpu = {k: m.cpu_ms_per_request if m else None for k, m in (("gw", gw), ("peer", peer), ("floor", floor))}
        r_peer, r_floor = _ratio(cpu["gw"], cpu["peer"]), _ratio(cpu["gw"], cpu["floor"])
        lines.append(f"{verdict(None if r_peer is None else r_peer <= 1.0)}  order page CPU ms/request at {latency} ms "
                     f"upstream latency: gateway/peer = {_fmt(r_peer)} (target <= 1.0; gateway "
                     f"{_fmt(cpu['gw'])} ms, peer {_fmt(cpu['peer'])} ms)")
        lines.append(f"{verdict(None if r_floor is None else r_floor <= 2.0)}  order page CPU ms/request at {latency} "
                     f"ms upstream latency: gateway/floor = {_fmt(r_floor)} (target <= 2.0; floor "
                     f"{_fmt(cpu['floor'])} ms)")
    gw, floor = sound(_find(results, "gateway", PAGE, 20)), sound(_find(results, "floor", PAGE, 20))
    if gw and floor:
        r = _ratio(gw.load.p50_ms, floor.load.p50_ms)
        note = "" if connections == 32 else f" (measured at {connections} connections, not 32)"
        lines.append(f"{verdict(None if r is None else r <= 1.10)}  order page p50 at 20 ms upstream latency and "
                     f"{connections} connections: gateway {_fmt(gw.load.p50_ms, 1)} ms vs floor "
                     f"{_fmt(floor.load.p50_ms, 1)} ms = {_fmt(r)}x (target <= 1.10){note}")
    else:
        lines.append("N/A   order page p50 at 20 ms: not measured (BENCH_LATENCIES lacks 20, or answers failed)")
    calls = results.history_calls.get("gateway")
    if calls:
        small, large = calls.get("10", {}), calls.get("20", {})
        one_each = all(n == 1 for n in large.values()) and len(large) == 3
        lines.append(f"{verdict(small == large and one_each)}  history page upstream calls constant in page size: "
                     f"10 orders {_routes(small)}; 20 orders {_routes(large)} (target: the same, one batched call "
                     f"per service)")
    soak = results.soak
    if soak:
        growth = soak["growth"]
        short = "" if soak["seconds"] >= 300 else (f" [short {soak['seconds']:.0f} s version; `make bench-soak` "
                                                   "runs 5 minutes]")
        lines.append(f"{verdict(abs(growth) <= 0.10)}  gateway RSS flat over a sustained run: "
                     f"{soak['rss_start'] / 2**20:.1f} -> {soak['rss_end'] / 2**20:.1f} MiB ({100 * growth:+.1f}%, "
                     f"target within 10%){short}")
    return lines


def _routes(counts: dict[str, int]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + "}"


def markdown(results: Results) -> str:
    s = results.settings
    out = ["# Benchmark: the gateway, the floor and the peer", "",
           f"Run {results.started}, {results.seconds:.0f} s in all (`make bench`). Each cell: {s['warmup']:g} s "
           f"warm-up, then {s['duration']:g} s measured, closed loop, {s['connections']} connections (wrk, one "
           f"thread). The system under test runs on CPU {s['server_cpus']}; the mocks and wrk on CPU "
           f"{s['client_cpus']} (the N-worker gateway, {s['workers']} workers, is not pinned). Mocks: "
           f"MOCK_ORDERS={s['mock_orders']}, clock pinned.", "",
           "**CPU ms/req** is the server's whole process tree (utime + stime from /proc) from a quiet start "
           "until the requests still open when wrk stops have been served, divided by the requests started "
           "(completed, plus one per connection): the figure that noise on a shared machine moves least. "
           "**server CPU** is that time over the window (100% = one core busy). **calls/req** counts upstream "
           "calls at the mocks, the same way (3 = one per service; more means retries, fewer means reads "
           "shared by single-flight). "
           "**RSS** is the tree's peak. **failed** counts "
           "answers that were not HTTP 200 or carried GraphQL `errors` (an upstream timeout is answered with "
           "HTTP 200), plus socket errors. **other load** is the CPU the rest of the machine (not the server, "
           "the mocks or wrk) used during the window, from /proc/stat: when it is high, req/s and latencies "
           "are disturbed and only CPU ms/req remains comparable.", "",
           "## Systems", ""]
    out += [f"- **{name}**: {text}" for name, text in SYSTEMS.items() if name in s["systems"]]
    out += ["", "Workloads: **order-page** is the full order page of a multi-package order (status, label, "
            "tracker summary, packages with items, ETA, split, tracker steps, alerts, after-sales actions with "
            f"items), round-robin over {s['pool']} multi-package orders led by `ord-uk-split-three`; **history** is "
            "the buyer's `orders(first: 20)` page, round-robin over buyers; **mixed** is 7 order pages to 3 "
            "history pages. Documents: `bench/workloads.py`.", ""]
    for latency in s["latencies"]:
        out += [f"## Upstream latency {latency} ms", ""]
        rows = []
        for workload in s["workloads"]:
            for system in s["systems"]:
                m = _find(results, system, workload, latency)
                if m is None:
                    continue
                rows.append([workload, system, f"{m.load.rps:.0f}", f"{m.load.p50_ms:.1f}", f"{m.load.p99_ms:.1f}",
                             f"{m.cpu_ms_per_request:.2f}", f"{100 * m.cpu_utilisation:.0f}%",
                             f"{m.calls_per_request:.2f}", f"{m.peak_rss / 2**20:.0f}",
                             str(m.load.failed + m.load.errors), f"{100 * m.other_utilisation:.0f}%"])
        out += _table(["workload", "system", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "server CPU",
                       "calls/req", "peak RSS MiB", "failed", "other load"], rows)
        out.append("")
    out += ["## Ratios (gateway = one worker)", ""]
    rows = []
    for latency in s["latencies"]:
        for workload in s["workloads"]:
            gw, peer, floor = (_find(results, x, workload, latency) for x in ("gateway", "peer", "floor"))
            if gw is None:
                continue
            rows.append([f"{latency} ms", workload,
                         _fmt(_ratio(gw.cpu_ms_per_request, peer.cpu_ms_per_request if peer else None)),
                         _fmt(_ratio(gw.cpu_ms_per_request, floor.cpu_ms_per_request if floor else None)),
                         _fmt(_ratio(gw.load.rps, peer.load.rps if peer else None)),
                         _fmt(_ratio(gw.load.rps, floor.load.rps if floor else None)),
                         _fmt(_ratio(gw.load.p50_ms, peer.load.p50_ms if peer else None)),
                         _fmt(_ratio(gw.load.p50_ms, floor.load.p50_ms if floor else None))])
    out += _table(["latency", "workload", "CPU/req gw/peer", "CPU/req gw/floor", "req/s gw/peer", "req/s gw/floor",
                   "p50 gw/peer", "p50 gw/floor"], rows)
    out += ["", "## Targets", "", "What the gateway is held to; a FAIL is a regression to look into (or a noisy "
            "machine: see the other load column).", "", "```", *targets(results), "```", ""]
    if results.history_calls:
        out += ["## Upstream calls for one history page", ""]
        out += _table(["system", "first: 10", "first: 20"],
                      [[name, _routes(by["10"]), _routes(by["20"])] for name, by in results.history_calls.items()])
        out.append("")
    if results.soak:
        out += ["## Memory", "", soak_line(results.soak), ""]
    out += ["## Machine", ""]
    out += _table(["", ""], [[k, v] for k, v in results.machine.items()])
    out += ["", "Raw per-run JSON: `bench/results/raw/` (not committed). Plot: `bench/results/latest.png`.", ""]
    return "\n".join(out)


def soak_line(soak: dict[str, Any]) -> str:
    return (f"The single-worker gateway under the mixed workload for {soak['seconds']:.0f} s ({soak['requests']} "
            f"requests, {soak['rps']:.0f} req/s): RSS {soak['rss_start'] / 2**20:.1f} MiB in the first fifth of "
            f"the run, {soak['rss_end'] / 2**20:.1f} MiB in the last ({100 * soak['growth']:+.1f}%).")


def soak_markdown(soak: dict[str, Any], machine: dict[str, str], settings: dict[str, Any], started: str) -> str:
    verdict = "PASS" if abs(soak.get("growth", 1.0)) <= 0.10 else "FAIL"
    return "\n".join(["# Memory soak (`make bench-soak`)", "",
                      f"Run {started}, gateway at commit {machine.get('gateway commit', 'unknown')}.", "",
                      soak_line(soak), "", "```",
                      f"{verdict}  gateway RSS flat within 10% over {soak['seconds']:.0f} s", "```", "",
                      f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['kernel']}; "
                      f"{settings['connections']} connections.", ""])


def plot(results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results.settings
    systems = [x for x in SYSTEMS if x in s["systems"]]
    workloads = list(s["workloads"])
    low, high = min(s["latencies"]), max(s["latencies"])
    panels: list[tuple[str, int, Callable[[Measurement], float]]] = [
        (f"server CPU ms per request ({low} ms upstream)", low, lambda m: m.cpu_ms_per_request),
        (f"requests/s ({low} ms upstream)", low, lambda m: m.load.rps),
        (f"p50 latency ms ({high} ms upstream)", high, lambda m: m.load.p50_ms),
        (f"p99 latency ms ({high} ms upstream)", high, lambda m: m.load.p99_ms),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    width = 0.8 / max(1, len(systems))
    colours = {"gateway": "#d62728", "gateway-workers": "#ff9896", "floor": "#2ca02c", "peer": "#1f77b4"}
    for ax, (title, latency, value) in zip(axes.flat, panels, strict=True):
        for i, system in enumerate(systems):
            heights = []
            for workload in workloads:
                m = _find(results, system, workload, latency)
                heights.append(value(m) if m else 0.0)
            xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(workloads))]
            ax.bar(xs, heights, width, label=system, color=colours.get(system))
        ax.set_xticks(range(len(workloads)), workloads)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes.flat[0].legend()
    machine = results.machine
    fig.suptitle(f"gateway vs floor vs peer, {s['connections']} connections; {machine['cpu']}, "
                 f"{machine['cores']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
