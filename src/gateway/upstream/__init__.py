"""Clients for the three upstream services; nothing here knows about GraphQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.upstream.aftersales import AfterSalesClient
from gateway.upstream.base import RequestScope, Transport
from gateway.upstream.carrier import CarrierClient
from gateway.upstream.orders import OrdersClient

if TYPE_CHECKING:
    from gateway.stores import TrackingCache

__all__ = ["AfterSalesClient", "CarrierClient", "OrdersClient", "RequestScope", "Transport", "Transports", "Upstreams"]


@dataclass(frozen=True)
class Transports:
    """The app-lifetime half: one transport (connection pool, policy) per service."""

    orders: Transport
    carrier: Transport
    aftersales: Transport
    tracking_cache: TrackingCache | None = None

    def for_request(self, scope: RequestScope) -> Upstreams:
        return Upstreams(OrdersClient(self.orders, scope), CarrierClient(self.carrier, scope, self.tracking_cache),
                         AfterSalesClient(self.aftersales, scope))


@dataclass(frozen=True)
class Upstreams:
    """The per-request half: domain-named clients carrying this request's id and deadline."""

    orders: OrdersClient
    carrier: CarrierClient
    aftersales: AfterSalesClient
