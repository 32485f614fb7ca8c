"""Before anything is measured: every system must give the gateway's exact answer to every request.

The comparison is on parsed JSON (key order aside, every value equal, lists in order). The gateway's
answer must itself be free of errors. A mismatch names the request, the system and the first path
at which the answers differ, with both values.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.workloads import Request
from gateway.auth import Role, TokenSettings, mint


@dataclass(frozen=True)
class Tokens:
    settings: TokenSettings

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cache", {})

    def for_(self, subject: str) -> str:
        cache: dict[str, str] = self._cache  # type: ignore[attr-defined]
        if subject not in cache:
            cache[subject] = mint(self.settings, subject, Role.BUYER, ttl=7 * 24 * 3600, now=time.time())
        return cache[subject]


@dataclass(frozen=True)
class Mismatch:
    request: str
    system: str
    path: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        return (f"{self.system} differs from the gateway for {self.request} at {self.path}: "
                f"expected {self.expected!r:.200}, got {self.got!r:.200}")


def first_difference(expected: Any, got: Any, path: str = "$") -> tuple[str, Any, Any] | None:
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in list(expected) + [k for k in got if k not in expected]:
            if key not in expected or key not in got:
                return f"{path}.{key}", expected.get(key, "<missing>"), got.get(key, "<missing>")
            found = first_difference(expected[key], got[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(got, list):
        for i, (a, b) in enumerate(zip(expected, got, strict=False)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        if len(expected) != len(got):
            return f"{path}.length", len(expected), len(got)
        return None
    if expected != got or type(expected) is not type(got):
        return path, expected, got
    return None


async def post(session: aiohttp.ClientSession, url: str, token: str, request: Request) -> Any:
    async with session.post(url, json=request.body(), headers={"Authorization": f"Bearer {token}"}) as response:
        text = await response.text()
        if response.status != 200:
            raise AssertionError(f"{url} answered HTTP {response.status} to {request.label}: {text[:300]}")
        return await response.json(content_type=None)


async def compare(urls: dict[str, str], reference: str, requests: Sequence[Request], tokens: Tokens,
                  concurrency: int = 8) -> list[Mismatch]:
    """Ask every system every request; list where any answer differs from ``reference``'s."""
    mismatches: list[Mismatch] = []
    slots = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def one(request: Request) -> None:
            async with slots:
                token = tokens.for_(request.subject)
                expected = await post(session, urls[reference], token, request)
                if "errors" in expected or not expected.get("data"):
                    mismatches.append(Mismatch(request.label, reference, "$.errors", None, expected.get("errors")))
                    return
                for name, url in urls.items():
                    if name == reference:
                        continue
                    got = await post(session, url, token, request)
                    found = first_difference(expected, got)
                    if found:
                        mismatches.append(Mismatch(request.label, name, *found))

        await asyncio.gather(*(one(r) for r in requests))
    return mismatches


def unique(requests: Sequence[Request]) -> list[Request]:
    seen: dict[tuple[str, str, str], Request] = {}
    for r in requests:
        seen.setdefault((r.subject, r.operation, repr(sorted(r.variables.items()))), r)
    return list(seen.values())
