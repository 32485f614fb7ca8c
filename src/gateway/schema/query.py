"""Root query fields: thin, load, wrap, delegate."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.auth import Role
from gateway.context import Info
from gateway.domain.policy import CANCEL_REASON_LABELS, SELLER_CANCEL_REASONS, offered_reasons
from gateway.domain.policy import CancelReason as CancelReasonEnum
from gateway.errors import BadUserInput, NotFound, UpstreamBadData
from gateway.history import HistoryPage, fingerprint, history_page
from gateway.schema.aftersales import ReturnReasonOption
from gateway.schema.enums import CancelReason, DisplayStatus, Market, SellerOrderStatus, ViewerRole
from gateway.schema.order import Order
from gateway.upstream.orders import OrderSearch


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type(description="A page of orders, newest first.")
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="Orders matching the date filters; null when filtering on a derived status.")

    @strawberry.field
    def nodes(self) -> list[Order]:
        return [edge.node for edge in self.edges]

    @classmethod
    def of(cls, page: HistoryPage) -> OrderConnection:
        return cls(edges=[OrderEdge(cursor=e.cursor, node=Order(view=e.view)) for e in page.edges],
                   page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
                   total_count=page.total)


@strawberry.input(description="Filters for the buyer's order history.")
class OrderHistoryFilter:
    display_status: list[DisplayStatus] | None = None
    placed_after: datetime | None = None
    placed_before: datetime | None = None


@strawberry.input(description="Filters for a seller's orders.")
class SellerOrderFilter:
    status: list[SellerOrderStatus] | None = None
    placed_after: datetime | None = None
    placed_before: datetime | None = None


@strawberry.type
class CancelReasonOption:
    code: CancelReason
    label: str


@strawberry.type
class Viewer:
    id: strawberry.ID
    role: ViewerRole
    shop_id: strawberry.ID | None


def _check_page(info: Info, first: int, placed_after: datetime | None, placed_before: datetime | None) -> None:
    limit = info.context.max_page_size
    if not 1 <= first <= limit:
        raise BadUserInput(f"first must be between 1 and {limit}", argument="first")
    for name, value in (("placedAfter", placed_after), ("placedBefore", placed_before)):
        if value is not None and value.tzinfo is None:
            raise BadUserInput(f"{name} must include a UTC offset", argument=name)
    if placed_after and placed_before and placed_after >= placed_before:
        raise BadUserInput("placedAfter must be earlier than placedBefore", argument="filter")


def _listed(info: Info, page: HistoryPage) -> OrderConnection:
    for order in page.unreadable:
        info.context.notice(UpstreamBadData("orders", f"order {order.order_id} could not be read and is left "
                                                      f"out of this page ({order.detail})"), info)
    return OrderConnection.of(page)


@strawberry.type
class Query:
    @strawberry.field(description="One order by id. Unknown ids and other people's orders answer alike: "
                                  "null, with a NOT_FOUND error.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        info.context.require_viewer()
        view = await info.context.loaders.view(str(id))
        if view is None:
            raise NotFound(f"order {id} not found")
        return Order(view=view)

    @strawberry.field(description="The signed-in buyer's order history, newest first.")
    async def orders(self, info: Info, first: int = 10, after: str | None = None,
                     filter: OrderHistoryFilter | None = None) -> OrderConnection:
        viewer = info.context.require_viewer(Role.BUYER)
        f = filter or OrderHistoryFilter()
        _check_page(info, first, f.placed_after, f.placed_before)
        statuses = frozenset(f.display_status) if f.display_status else None
        query = OrderSearch(buyer_id=viewer.subject, placed_from=f.placed_after, placed_before=f.placed_before)
        keep = (lambda v: v.display[0] in statuses) if statuses else None
        key = fingerprint("buyer", viewer.subject, sorted(s.value for s in statuses or ()), f.placed_after,
                          f.placed_before)
        return _listed(info, await history_page(info.context.loaders, query, keep, first, after, key))

    @strawberry.field(description="A seller's own orders, newest first, by the seller's statuses.")
    async def seller_orders(self, info: Info, first: int = 10, after: str | None = None,
                            filter: SellerOrderFilter | None = None) -> OrderConnection:
        viewer = info.context.require_viewer(Role.SELLER)
        f = filter or SellerOrderFilter()
        _check_page(info, first, f.placed_after, f.placed_before)
        statuses = frozenset(f.status) if f.status else None
        query = OrderSearch(shop_id=viewer.shop_id, placed_from=f.placed_after, placed_before=f.placed_before)
        keep = (lambda v: v.seller_status in statuses) if statuses else None
        key = fingerprint("seller", viewer.shop_id, sorted(s.value for s in statuses or ()), f.placed_after,
                          f.placed_before)
        return _listed(info, await history_page(info.context.loaders, query, keep, first, after, key))

    @strawberry.field(description="Who the bearer token says you are.")
    def viewer(self, info: Info) -> Viewer:
        v = info.context.require_viewer()
        return Viewer(id=strawberry.ID(v.subject), role=v.role, shop_id=strawberry.ID(v.shop_id) if v.shop_id else None)

    @strawberry.field(description="The return reasons a market offers, for building a reason picker.")
    def return_reasons(self, market: Market) -> list[ReturnReasonOption]:
        return [ReturnReasonOption.of(rule) for rule in offered_reasons(market)]

    @strawberry.field(description="The reasons a buyer may give when cancelling, with their labels.")
    def cancel_reasons(self) -> list[CancelReasonOption]:
        return [CancelReasonOption(code=reason, label=CANCEL_REASON_LABELS[reason]) for reason in CancelReasonEnum
                if reason not in SELLER_CANCEL_REASONS]
