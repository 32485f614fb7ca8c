"""The Order type: a thin face over :class:`OrderView`; every field reads the same assessed order."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from gateway.auth import Role
from gateway.context import Info
from gateway.domain.items import count_by_item
from gateway.domain.packages import promised_date
from gateway.domain.view import OrderView
from gateway.errors import upstream_error
from gateway.schema.aftersales import AfterSalesAction, Cancellation, Return
from gateway.schema.common import Address, Money, Seller
from gateway.schema.enums import DeliveryMethod, DisplayStatus, Market, OrderStatus, SellerOrderStatus
from gateway.schema.items import ItemQuantity, LineItem
from gateway.schema.tracking import Alert, OrderTracker, Package


@strawberry.type
class OrderTotals:
    subtotal: Money
    shipping: Money
    tax: Money
    total: Money


def _after_sales_error(view: OrderView) -> Exception:
    failure = view.snapshot.after_sales_failure
    assert failure is not None
    return upstream_error(failure.service, failure.code, failure.message)


@strawberry.type(description="One order, answering 'where is it?' and 'what can I do with it?'.")
class Order:
    view: strawberry.Private[OrderView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.view.id)

    @strawberry.field
    def market(self) -> Market:
        return self.view.snapshot.order.market

    @strawberry.field(description="The market's IANA time zone: the one every label and description uses.")
    def time_zone(self) -> str:
        return self.view.market.zone.key

    @strawberry.field(description="The market's locale (en-US, en-GB), for formatting raw dates and numbers.")
    def locale(self) -> str:
        return self.view.market.locale

    @strawberry.field
    def currency(self) -> str:
        return self.view.snapshot.order.currency

    @strawberry.field
    def placed_at(self) -> datetime:
        return self.view.snapshot.order.placed_at

    @strawberry.field
    def paid_at(self) -> datetime | None:
        return self.view.snapshot.order.paid_at

    @strawberry.field
    def seller(self) -> Seller:
        order = self.view.snapshot.order
        return Seller(id=strawberry.ID(order.shop_id), name=order.shop_name)

    @strawberry.field
    def status(self) -> OrderStatus:
        return self.view.status

    @strawberry.field(description="The shopper-facing status; identical in the order list and here.")
    def display_status(self) -> DisplayStatus:
        return self.view.display[0]

    @strawberry.field(description="The shopper-facing label for displayStatus, e.g. 'Arriving Tue, Nov 24'.")
    def status_label(self) -> str:
        return self.view.display[1]

    @strawberry.field(description="The status as the seller's order tabs show it.")
    def seller_status(self) -> SellerOrderStatus:
        return self.view.seller_status

    @strawberry.field
    def line_items(self) -> list[LineItem]:
        return [LineItem(item=i, view=self.view) for i in self.view.items]

    @strawberry.field
    def totals(self) -> OrderTotals:
        order, market = self.view.snapshot.order, self.view.market
        return OrderTotals(subtotal=Money.of(order.subtotal, market), shipping=Money.of(order.shipping_fee, market),
                           tax=Money.of(order.tax, market), total=Money.of(order.total, market))

    @strawberry.field
    def shipping_address(self) -> Address | None:
        address = self.view.snapshot.order.address
        return Address.of(address) if address else None

    @strawberry.field
    def delivery_method(self) -> DeliveryMethod:
        return self.view.snapshot.order.delivery_method

    @strawberry.field(description="The delivery date promised at checkout (or as extended by the platform).")
    def promised_delivery_date(self) -> date | None:
        return promised_date(self.view.snapshot, self.view.market)

    @strawberry.field(description="Until when the order can be cancelled without the seller's approval.")
    def free_cancellation_until(self) -> datetime | None:
        order = self.view.snapshot.order
        if not self.view.in_free_cancel_window or order.paid_at is None:
            return None
        return order.paid_at + self.view.market.free_cancel

    @strawberry.field
    def packages(self) -> list[Package]:
        return [Package(package=p, view=self.view) for p in self.view.packages]

    @strawberry.field(description="Items not yet assigned to any package.")
    def unshipped_items(self) -> list[ItemQuantity]:
        unassigned = [u.id for u in self.view.live_units if u.package_id is None]
        return [ItemQuantity.of(c, self.view) for c in count_by_item(self.view.items, unassigned)]

    @strawberry.field
    def cancelled_items(self) -> list[ItemQuantity]:
        counted = count_by_item(self.view.items, self.view.cancelled_unit_ids)
        return [ItemQuantity.of(c, self.view) for c in counted]

    @strawberry.field(description="The order-level horizontal tracker summary.")
    def tracker(self) -> OrderTracker:
        return OrderTracker.of(self.view.summary)

    @strawberry.field(description="Abnormal situations across the order's packages, most urgent first.")
    def alerts(self) -> list[Alert]:
        return [Alert.of(a) for a in self.view.alerts]

    @strawberry.field(description="False when the carrier service could not be reached: tracking fields are "
                                  "then null or reflect only the order service.")
    def tracking_available(self) -> bool:
        return self.view.snapshot.tracking_available

    @strawberry.field(description="False when the after-sales service could not be reached: returns and actions "
                                  "are then null.")
    def after_sales_available(self) -> bool:
        return self.view.snapshot.after_sales_available

    @strawberry.field(description="Every after-sales entrance for the viewer (the buyer's, or the seller's), "
                                  "available or not. Null (with an error) when the after-sales service is unavailable.")
    def after_sales_actions(self, info: Info) -> list[AfterSalesAction] | None:
        if not self.view.snapshot.after_sales_available:
            raise _after_sales_error(self.view)
        viewer = info.context.viewer
        actions = self.view.seller_actions if viewer and viewer.role is Role.SELLER else self.view.actions
        return [AfterSalesAction.of(a, self.view) for a in actions]

    @strawberry.field(description="Returns and refunds, one per parcel sent back.")
    def returns(self) -> list[Return] | None:
        if not self.view.snapshot.after_sales_available:
            raise _after_sales_error(self.view)
        return [Return(group=g, view=self.view) for g in self.view.returns]

    @strawberry.field
    def cancellations(self) -> list[Cancellation] | None:
        snapshot = self.view.snapshot
        if not snapshot.after_sales_available or snapshot.after_sales is None:
            raise _after_sales_error(self.view)
        return [Cancellation(record=c, view=self.view) for c in snapshot.after_sales.cancellations]
