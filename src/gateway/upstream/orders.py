"""The order service: TikTok-Shop-like orders parsed into :class:`OrderRecord`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.domain.model import (
    Actor,
    Address,
    Authentication,
    AuthenticationStatus,
    DeliveryMethod,
    FulfilmentStatus,
    Market,
    OrderRecord,
    PackageRecord,
    ProductTag,
    Signature,
    SkuType,
    SlaExtension,
    Unit,
)
from gateway.domain.policy import POLICIES
from gateway.errors import MalformedOrder, UpstreamBadData
from gateway.upstream.base import Upstream
from gateway.upstream.reader import Reader, each_record

SERVICE = "orders"
ORDER_STATUSES = frozenset({
    "UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION", "IN_TRANSIT",
    "DELIVERED", "COMPLETED", "CANCELLED",
})
# The order service's region codes are the markets' countries ("GB" for the UK); currencies are theirs too.
MARKETS: dict[str, Market] = {p.country: market for market, p in POLICIES.items()}
SIGNATURES = {"NONE": Signature.NONE, "SIGNATURE_REQUIRED": Signature.SIGNATURE,
              "ADULT_SIGNATURE_REQUIRED": Signature.ADULT_SIGNATURE}
DELIVERY = {"HOME_DELIVERY": DeliveryMethod.HOME, "COLLECTION_POINT": DeliveryMethod.PICKUP_POINT}
MAX_BATCH = 50


@dataclass(frozen=True)
class OrderPage:
    # In the upstream's order; a malformed order stays in its place, so positions (cursors) hold.
    orders: tuple[OrderRecord | MalformedOrder, ...]
    next_token: str | None
    total: int


@dataclass(frozen=True)
class OrderSearch:
    buyer_id: str | None = None
    shop_id: str | None = None
    statuses: tuple[str, ...] | None = None
    placed_from: datetime | None = None
    placed_before: datetime | None = None


class OrdersClient(Upstream):
    async def orders(self, ids: Sequence[str]) -> dict[str, OrderRecord | UpstreamBadData]:
        """Batch get; unknown ids are absent, and a malformed order is an error for that order only."""
        found: dict[str, OrderRecord | UpstreamBadData] = {}
        for start in range(0, len(ids), MAX_BATCH):
            chunk = ids[start : start + MAX_BATCH]
            response = await self._get("orders.batch", "orders", [("ids", ",".join(chunk))])
            for r in Reader(SERVICE, response.body).objects("orders"):
                found.update(_order_item(r))
        return found

    async def search(self, query: OrderSearch, page_size: int, token: str | None) -> OrderPage:
        request: dict[str, Any] = {"page_size": page_size}
        if query.buyer_id is not None:
            request["buyer_user_id"] = query.buyer_id
        if query.shop_id is not None:
            request["shop_id"] = query.shop_id
        if query.statuses is not None:
            request["order_status"] = list(query.statuses)
        # Upstream times are whole seconds: round both bounds up, so that "after 12:00:00.5" excludes
        # 12:00:00 and "before 12:00:00.5" includes it.
        if query.placed_from is not None:
            request["create_time_ge"] = math.ceil(query.placed_from.timestamp())
        if query.placed_before is not None:
            request["create_time_lt"] = math.ceil(query.placed_before.timestamp())
        if token:
            request["page_token"] = token
        response = await self._read("orders.search", "orders/search", request)
        body = Reader(SERVICE, response.body)
        orders = tuple(value for r in body.objects("orders") for value in _order_item(r).values())
        return OrderPage(orders, body.opt_text("next_page_token"), body.integer("total_count"))

    async def update_address(self, order_id: str, address: dict[str, str], idempotency_key: str) -> OrderRecord:
        response = await self._write("orders.update_address", f"orders/{order_id}/recipient_address", address,
                                     idempotency_key=idempotency_key)
        if response.status == 404:
            raise UpstreamBadData(SERVICE, f"order {order_id} vanished during the update")
        return parse_order(Reader(SERVICE, response.body).obj("order"))


def _order_item(r: Reader) -> dict[str, OrderRecord | MalformedOrder]:
    """One order of a batch or a search: malformed, it is an error for itself alone, carrying whatever
    ownership could still be read, so that only its owner is ever told of it."""
    found: dict[str, OrderRecord | MalformedOrder] = {}
    for key, value in each_record(r, "id", parse_order).items():
        if isinstance(value, UpstreamBadData):
            buyer, shop = r.data.get("buyer_user_id"), r.data.get("shop_id")
            value = MalformedOrder(key, value.detail, buyer if isinstance(buyer, str) else None,
                                   shop if isinstance(shop, str) else None)
        found[key] = value
    return found


def _address(r: Reader | None) -> Address | None:
    if r is None:
        return None
    return Address(
        name=r.opt_text("name") or "", line1=r.text("address_line1"), line2=r.opt_text("address_line2") or "",
        city=r.text("city"), region=r.opt_text("state") or "", postal_code=r.text("postal_code"),
        country=r.text("region_code"), phone=r.opt_text("phone_number") or "",
    )


def _tags(r: Reader) -> frozenset[ProductTag]:
    tags = set()
    for value in r.strings("product_tags"):
        try:
            tags.add(ProductTag(value))
        except ValueError:
            continue  # a tag we have no rule for changes nothing we decide
    return frozenset(tags)


def _actor(value: str | None, r: Reader, key: str) -> Actor | None:
    if value is None:
        return None
    try:
        return Actor(value)
    except ValueError:
        raise r.bad(f"{r.path}.{key} has unknown value {value!r}") from None


def _unit(r: Reader, currency: str) -> Unit:
    return Unit(
        id=r.text("id"), sku_id=r.text("sku_id"), product_id=r.text("product_id"), product_name=r.text("product_name"),
        sku_name=r.opt_text("sku_name") or "", image_url=r.opt_text("sku_image") or "",
        price=r.money("sale_price", currency), package_id=r.opt_text("package_id"),
        sku_type=r.enum("sku_type", SkuType), handling_days=r.opt_integer("handling_duration_days"),
        customization=r.opt_text("customization"), tags=_tags(r), warehouse_id=r.opt_text("warehouse_id") or "",
        cancelled_by=_actor(r.opt_text("cancel_user"), r, "cancel_user"),
    )


def _package(r: Reader) -> PackageRecord:
    auth = r.opt_obj("authentication")
    signature = r.opt_text("signature_type") or "NONE"
    if signature not in SIGNATURES:
        raise r.bad(f"{r.path}.signature_type has unknown value {signature!r}")
    return PackageRecord(
        id=r.text("id"), fulfilment=r.enum("status", FulfilmentStatus),
        carrier_slug=r.opt_text("shipping_provider_id"), carrier_name=r.opt_text("shipping_provider_name"),
        tracking_number=r.opt_text("tracking_number"), unit_ids=r.strings("order_line_item_ids"),
        warehouse_id=r.opt_text("warehouse_id") or "", weight_g=r.integer("weight_g", 0),
        signature=SIGNATURES[signature],
        must_split=tuple(m.text("type") for m in r.objects("must_split_reasons")),
        authentication=None if auth is None else Authentication(
            status=auth.enum("status", AuthenticationStatus), provider=auth.text("provider"),
            submitted_at=auth.opt_unix("submit_time"), deadline=auth.opt_unix("deadline_time"),
            approved_at=auth.opt_unix("approve_time"),
        ),
        created_at=r.opt_unix("create_time"), estimated_ship_at=r.opt_unix("estimated_ship_time"),
    )


def parse_order(r: Reader) -> OrderRecord:
    region = r.text("region")
    market = MARKETS.get(region)
    if market is None:
        raise r.bad(f"{r.path}.region has unknown value {region!r}")
    payment = r.obj("payment")
    currency = payment.text("currency")
    if currency != POLICIES[market].currency:
        raise r.bad(f"{r.path}.payment.currency {currency!r} does not match region {region}")
    units = tuple(_unit(line, currency) for line in r.objects("line_items"))
    packages = tuple(_package(p) for p in r.objects("packages"))
    unit_ids = {u.id for u in units}
    for p in packages:
        stray = set(p.unit_ids) - unit_ids
        if stray:
            raise r.bad(f"{r.path}: package {p.id} lists unknown line items {sorted(stray)}")
    ext = r.opt_obj("delivery_sla_extension")
    delivery = r.text("delivery_type")
    if delivery not in DELIVERY:
        raise r.bad(f"{r.path}.delivery_type has unknown value {delivery!r}")
    return OrderRecord(
        id=r.text("id"), market=market, currency=currency, buyer_id=r.text("buyer_user_id"), shop_id=r.text("shop_id"),
        shop_name=r.opt_text("shop_name") or r.text("shop_id"), source_status=r.choice("status", ORDER_STATUSES),
        order_type=r.opt_text("order_type") or "NORMAL", on_hold_order=r.flag("is_on_hold_order"),
        placed_at=r.unix("create_time"), paid_at=r.opt_unix("paid_time"), updated_at=r.unix("update_time"),
        ship_by=r.opt_unix("rts_sla_time"), promised_by=r.opt_unix("delivery_sla_time"),
        sla_extension=None if ext is None else SlaExtension(
            ext.text("reason"), ext.unix("original_delivery_sla_time"), ext.unix("extended_delivery_sla_time")),
        delivered_at=r.opt_unix("delivery_time"), cancelled_at=r.opt_unix("cancel_time"),
        cancelled_by=_actor(r.opt_text("cancellation_initiator"), r, "cancellation_initiator"),
        cancel_reason=r.opt_text("cancel_reason"), delivery_method=DELIVERY[delivery],
        address=_address(r.opt_obj("recipient_address")),
        address_updated=r.flag("has_updated_recipient_address"),
        subtotal=payment.money("sub_total", currency), shipping_fee=payment.money("shipping_fee", currency),
        tax=payment.money("tax", currency), total=payment.money("total_amount", currency),
        units=units, packages=packages,
    )

