"""The three mock upstreams, driven over their control API: latency faults and call counters."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

SERVICES = ("orders", "carrier", "aftersales")


def _call(method: str, url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@dataclass(frozen=True)
class MockControl:
    urls: dict[str, str]  # service -> base URL ending in "/"

    def set_latency(self, latency_ms: int) -> None:
        """Every route of every service answers ``latency_ms`` later (0: no fault at all)."""
        for service in SERVICES:
            _call("DELETE", self.urls[service] + "_control/faults")
            if latency_ms:
                _call("POST", self.urls[service] + "_control/faults", {"route": "*", "latency_ms": latency_ms})

    def reset_counters(self) -> None:
        for service in SERVICES:
            _call("DELETE", self.urls[service] + "_control/counters")

    def counters(self) -> dict[str, int]:
        """Upstream calls per route (``orders.batch``, ``trackings.batch``...) since the last reset."""
        routes: dict[str, int] = {}
        for service in SERVICES:
            routes.update(_call("GET", self.urls[service] + "_control/counters")["routes"])
        return routes
