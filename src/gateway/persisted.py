"""Persisted queries: Apollo's automatic persisted queries (APQ), and a safelist mode.

APQ: a client sends ``extensions.persistedQuery.sha256Hash`` without the query; an unknown hash
answers ``PERSISTED_QUERY_NOT_FOUND``, the client resends with the query, which is stored after its
hash is checked. Safelist: only documents registered in a manifest may run at all, by hash or by
text; anything else is refused before parsing. The store is in memory per process, or in Redis
(``gateway.stores``) so replicas share it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from enum import Enum
from pathlib import Path
from typing import Protocol


class PersistedMode(Enum):
    OFF = "off"
    APQ = "apq"
    SAFELIST = "safelist"


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class QueryStore(Protocol):
    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, query: str) -> None: ...


class MemoryQueryStore:
    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._queries: OrderedDict[str, str] = OrderedDict()

    async def get(self, digest: str) -> str | None:
        query = self._queries.get(digest)
        if query is not None:
            self._queries.move_to_end(digest)
        return query

    async def put(self, digest: str, query: str) -> None:
        self._queries[digest] = query
        self._queries.move_to_end(digest)
        while len(self._queries) > self.capacity:
            self._queries.popitem(last=False)


def load_safelist(path: Path) -> dict[str, str]:
    """Read a manifest: Apollo's persisted-query manifest ({"operations": [{"id", "body"}]}) or {hash: query}.
    Every entry's hash is checked against its body, so a manifest cannot smuggle in another document."""
    raw = json.loads(path.read_text())
    if isinstance(raw, dict) and isinstance(raw.get("operations"), list):
        operations = raw["operations"]
        if not all(isinstance(op, dict) and "id" in op and "body" in op for op in operations):
            raise ValueError(f"{path}: every operation needs an id and a body")
        entries = {op["id"]: op["body"] for op in operations}
    elif isinstance(raw, dict):
        entries = dict(raw)
    else:
        raise ValueError(f"{path}: not a persisted-query manifest")
    for digest, body in entries.items():
        if not isinstance(body, str) or sha256(body) != digest:
            raise ValueError(f"{path}: the hash {digest} does not match its document")
    return entries
