"""Order history pages: cursor pagination over the order service, filtered on derived statuses.

Date filters are pushed down to the order service. Display and seller statuses are derived from all
three services, so they are filtered here, page by page, scanning at most ``MAX_SCAN_PAGES`` upstream
pages per request. Every page of orders costs one search plus one batched call per other service.

A cursor names a position in the upstream listing (token, page size, offset), plus a fingerprint of
the filter it was issued under, so it cannot be replayed against another filter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from gateway.domain.model import OrderRecord
from gateway.domain.view import OrderView
from gateway.errors import BadUserInput, MalformedOrder
from gateway.loaders import Loaders
from gateway.upstream.orders import OrderSearch

MAX_SCAN_PAGES = 5
FILTERED_PAGE_SIZE = 50


@dataclass(frozen=True)
class Position:
    token: str | None
    size: int
    offset: int
    fingerprint: str

    def encode(self) -> str:
        raw = orjson.dumps([self.token, self.size, self.offset, self.fingerprint])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str, fingerprint: str) -> Position:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            token, size, offset, issued_for = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
            raise BadUserInput("after is not a cursor this API issued", argument="after") from None
        if not (isinstance(token, str | None) and isinstance(size, int) and isinstance(offset, int)
                and 1 <= size <= 100 and offset >= -1):
            raise BadUserInput("after is not a cursor this API issued", argument="after")
        if issued_for != fingerprint:
            raise BadUserInput("after was issued for a different filter", argument="after")
        return cls(token, size, offset, fingerprint)


@dataclass(frozen=True)
class Edge:
    view: OrderView
    cursor: str


@dataclass(frozen=True)
class HistoryPage:
    edges: list[Edge]
    has_next: bool
    end_cursor: str | None
    total: int | None
    # The viewer's orders on this page that the order service sent malformed: not listed, but said.
    unreadable: tuple[MalformedOrder, ...] = ()


def _readable_prefix(rows: list[OrderRecord | MalformedOrder], wanted: int) -> list[OrderRecord | MalformedOrder]:
    """The first rows holding ``wanted`` readable orders (an unreadable one does not take a place)."""
    readable = 0
    for i, row in enumerate(rows):
        if readable == wanted:
            return rows[:i]
        readable += isinstance(row, OrderRecord)
    return rows


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()[:16]


async def history_page(loaders: Loaders, query: OrderSearch, keep: Callable[[OrderView], bool] | None,
                       first: int, after: str | None, filter_key: str) -> HistoryPage:
    filtered = keep is not None
    if after:
        start_at = Position.decode(after, filter_key)
        token, size, start = start_at.token, start_at.size, start_at.offset + 1
    else:
        token, size, start = None, FILTERED_PAGE_SIZE if filtered else min(first + 1, 100), 0
    edges: list[Edge] = []
    unreadable: list[MalformedOrder] = []
    end_cursor: str | None = None
    total: int | None = None
    for scanned in range(1, MAX_SCAN_PAGES + 1):
        page = await loaders.upstreams.orders.search(query, size, token)
        total = None if filtered else page.total
        rows = list(page.orders[start:])
        wanted = first - len(edges)
        examined = rows if filtered else _readable_prefix(rows, wanted)
        views = await loaders.views([r for r in examined if isinstance(r, OrderRecord)], complete=filtered)
        by_id = {v.id: v for v in views}
        more = False
        for i, record in enumerate(examined):
            position = Position(token, size, start + i, filter_key).encode()
            if isinstance(record, MalformedOrder):
                # Whatever the filter: whether it would have matched cannot be known.
                if len(edges) < first and loaders.viewer is not None and \
                        loaders.viewer.owns(record.buyer_id, record.shop_id):
                    unreadable.append(record)
                continue
            view = by_id.get(record.id)
            if view is None:
                continue
            if len(edges) == first:
                more = keep is None or keep(view)
                if more:
                    break
                continue
            if keep is None or keep(view):
                edges.append(Edge(view, position))
                end_cursor = position
        if len(edges) == first:
            more = more or len(rows) > len(examined) or page.next_token is not None
            return HistoryPage(edges, more, end_cursor, total, tuple(unreadable))
        if page.next_token is None:
            return HistoryPage(edges, False, end_cursor, total, tuple(unreadable))
        if scanned == MAX_SCAN_PAGES:
            # Out of scan budget: hand back a cursor at the start of the next upstream page, so the next
            # call resumes after everything scanned here (offset -1: before its first row).
            resume = Position(page.next_token, size, -1, filter_key).encode()
            return HistoryPage(edges, True, resume, total, tuple(unreadable))
        token, start = page.next_token, 0
        size = FILTERED_PAGE_SIZE if filtered else min(first - len(edges) + 1, 100)
    raise AssertionError("unreachable")
