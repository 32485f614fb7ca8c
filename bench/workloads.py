"""What every system is asked: the GraphQL documents, and the request pools of each workload.

The documents are the same bytes for the gateway, the floor and the peer (the floor dispatches on
``operationName`` instead of parsing them). Pools are drawn from the mocks' deterministic world (same
``MOCK_NOW``, seed and ``MOCK_ORDERS`` as the running mocks), so a run is reproducible.

Order pages rotate over many distinct multi-package orders, and history pages over many buyers, so
that concurrent requests rarely ask for the same entity at the same moment: the gateway shares
in-flight upstream reads across requests (single-flight), and hammering one order id would let it
skip most of its upstream work, which neither the peer nor a real order page would see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mocks.catalog import SCENARIOS, build_world

ORDER_PAGE = """query OrderPage($id: ID!) {
  order(id: $id) {
    id placedAt status displayStatus statusLabel
    seller { name }
    totals { total { formatted } }
    lineItems { id name variant imageUrl quantity unitPrice { formatted } }
    tracker {
      headline totalPackages shippedPackages deliveredPackages
      steps { kind label state time description }
    }
    packages {
      id number status statusLabel
      carrier { name } trackingNumber trackingUrl
      items { quantity lineItem { id name imageUrl } }
      eta { earliest latest revised originalDate }
      split { reason explanation }
      tracker { kind label state time description }
    }
    alerts { kind severity packageId title cause nextStep suggestedAction revisedDate }
    afterSalesActions {
      kind label available message unavailableReason deadline requiresApproval alternative
      items { quantity deadline note lineItem { id name } reasons { code label deadline } }
    }
  }
}"""

HISTORY = """query History($first: Int!) {
  orders(first: $first) {
    edges {
      cursor
      node {
        id placedAt displayStatus statusLabel
        seller { name }
        totals { total { formatted } }
        lineItems { name imageUrl quantity }
        tracker { headline }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""

# The order the issue names first; it leads the order-page pool.
FEATURED_ORDER = "ord-uk-split-three"
HISTORY_PAGE_SIZE = 20


@dataclass(frozen=True)
class Request:
    """One GraphQL POST: who asks (the token's subject) and what."""

    subject: str
    operation: str
    variables: dict[str, Any]

    def body(self) -> dict[str, Any]:
        query = ORDER_PAGE if self.operation == "OrderPage" else HISTORY
        return {"query": query, "operationName": self.operation, "variables": self.variables}

    @property
    def label(self) -> str:
        return f"{self.operation}({', '.join(f'{v}' for v in self.variables.values())}) as {self.subject}"


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    requests: tuple[Request, ...]  # sent round-robin


@dataclass(frozen=True)
class World:
    """The parts of the mocks' world the workloads need."""

    multi_package: tuple[tuple[str, str], ...]  # (order id, buyer id), named scenarios first
    scenario_orders: tuple[tuple[str, str], ...]  # every named scenario
    history_buyers: tuple[str, ...]  # buyers with more than a page of orders, demo shoppers first


def load_world(now: datetime, seed: int, generated: int, page_size: int = HISTORY_PAGE_SIZE) -> World:
    world = build_world(now, seed=seed, generated=generated)
    orders = world.orders
    multi = [(o["id"], o["buyer_user_id"]) for o in orders.values() if len(o["packages"]) >= 2]
    multi.sort(key=lambda pair: (pair[0] != FEATURED_ORDER, not pair[0].startswith("ord-u"), pair[0]))
    counts = Counter(o["buyer_user_id"] for o in orders.values())
    buyers = sorted((b for b, n in counts.items() if n > page_size),
                    key=lambda b: (b.startswith("buyer-g-"), b))
    scenarios = tuple((s.id, s.buyer.id) for s in SCENARIOS)
    return World(tuple(multi), scenarios, tuple(buyers))


def order_page(order_id: str, buyer: str) -> Request:
    return Request(buyer, "OrderPage", {"id": order_id})


def history(buyer: str, first: int = HISTORY_PAGE_SIZE) -> Request:
    return Request(buyer, "History", {"first": first})


def workloads(world: World, pool: int = 64, page_size: int = HISTORY_PAGE_SIZE) -> dict[str, Workload]:
    pages = tuple(order_page(o, b) for o, b in world.multi_package[:pool])
    histories = tuple(history(b, page_size) for b in world.history_buyers[:pool])
    # 70 % order pages, 30 % history, interleaved deterministically (7 + 3 in every 10 requests).
    mixed: list[Request] = []
    p = h = 0
    for block in range(max(len(pages) // 7, len(histories) // 3, 1)):
        for _ in range(7):
            mixed.append(pages[p % len(pages)])
            p += 1
        for _ in range(3):
            mixed.append(histories[h % len(histories)])
            h += 1
        del block
    return {
        "order-page": Workload("order-page", f"order page, {len(pages)} multi-package orders", pages),
        "history": Workload("history", f"history page of {page_size} orders, {len(histories)} buyers", histories),
        "mixed": Workload("mixed", "70% order pages / 30% history pages", tuple(mixed)),
    }
