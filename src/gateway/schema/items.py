"""Line items and item quantities."""

from __future__ import annotations

import strawberry

from gateway.domain import items
from gateway.domain.view import OrderView
from gateway.schema.common import Money
from gateway.schema.enums import ProductTag


@strawberry.type(description="All units of one product variant in the order.")
class LineItem:
    item: strawberry.Private[items.LineItem]
    view: strawberry.Private[OrderView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.item.id)

    @strawberry.field
    def product_id(self) -> str:
        return self.item.first.product_id

    @strawberry.field
    def sku_id(self) -> str:
        return self.item.first.sku_id

    @strawberry.field
    def name(self) -> str:
        return self.item.first.product_name

    @strawberry.field(description="Variant, e.g. colour and size.")
    def variant(self) -> str:
        return self.item.first.sku_name

    @strawberry.field
    def image_url(self) -> str:
        return self.item.first.image_url

    @strawberry.field
    def customization(self) -> str | None:
        return self.item.first.customization

    @strawberry.field
    def quantity(self) -> int:
        return self.item.quantity

    @strawberry.field(description="Units of this item that were cancelled.")
    def cancelled_quantity(self) -> int:
        return sum(1 for u in self.item.units if u.id in self.view.cancelled_unit_ids)

    @strawberry.field
    def unit_price(self) -> Money:
        return Money.of(self.item.unit_price, self.view.market)

    @strawberry.field
    def total(self) -> Money:
        return Money.of(self.item.total, self.view.market)

    @strawberry.field
    def tags(self) -> list[ProductTag]:
        return sorted(self.item.tags, key=lambda t: t.value)


@strawberry.type(description="Some quantity of one line item: the contents of a package, a return, a request.")
class ItemQuantity:
    line_item: LineItem
    quantity: int

    @classmethod
    def of(cls, counted: items.ItemQuantity, view: OrderView) -> ItemQuantity:
        return cls(line_item=LineItem(item=counted.item, view=view), quantity=counted.quantity)
