"""Line items: the order service lists one line per unit; shoppers think in products and quantities."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.domain.model import Money, OrderRecord, ProductTag, Unit


@dataclass(frozen=True, slots=True)
class LineItem:
    """All units of one SKU (with one customisation) in an order. Its id is its first unit's id."""

    id: str
    units: tuple[Unit, ...]

    @property
    def first(self) -> Unit:
        return self.units[0]

    @property
    def quantity(self) -> int:
        return len(self.units)

    @property
    def unit_price(self) -> Money:
        return self.first.price

    @property
    def total(self) -> Money:
        return self.first.price.times(self.quantity)

    @property
    def tags(self) -> frozenset[ProductTag]:
        return self.first.tags


@dataclass(frozen=True, slots=True)
class ItemQuantity:
    item: LineItem
    quantity: int


def line_items(order: OrderRecord) -> tuple[LineItem, ...]:
    groups: dict[tuple[str, str | None], list[Unit]] = {}
    for unit in order.units:
        groups.setdefault((unit.sku_id, unit.customization), []).append(unit)
    return tuple(LineItem(units[0].id, tuple(units)) for units in groups.values())


def count_by_item(items: Iterable[LineItem], unit_ids: Iterable[str]) -> tuple[ItemQuantity, ...]:
    """How many of ``unit_ids`` belong to each line item, in line-item order, zeros left out."""
    wanted = set(unit_ids)
    counted = (ItemQuantity(item, sum(1 for u in item.units if u.id in wanted)) for item in items)
    return tuple(c for c in counted if c.quantity)
