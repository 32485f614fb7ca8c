"""The canonical records: what the three upstreams said, in one vocabulary. Frozen, no I/O.

The upstream clients parse into these at the border; everything derived (status, tracker, alerts,
actions) is computed from them by the other modules of this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum


class Market(Enum):
    US = "US"
    UK = "UK"


class DeliveryMethod(Enum):
    HOME = "HOME"
    PICKUP_POINT = "PICKUP_POINT"


class SkuType(Enum):
    NORMAL = "NORMAL"
    PRE_ORDER = "PRE_ORDER"
    MADE_TO_ORDER = "MADE_TO_ORDER"
    BACK_ORDER = "BACK_ORDER"


class ProductTag(Enum):
    FINAL_SALE = "FINAL_SALE"
    PERSONALISED = "PERSONALISED"
    PERISHABLE = "PERISHABLE"
    HYGIENE_SEALED = "HYGIENE_SEALED"
    PRE_OWNED = "PRE_OWNED"
    REQUIRES_AUTHENTICATION = "REQUIRES_AUTHENTICATION"
    OVERSIZE = "OVERSIZE"
    HIGH_VALUE = "HIGH_VALUE"


class Signature(Enum):
    NONE = "NONE"
    SIGNATURE = "SIGNATURE"
    ADULT_SIGNATURE = "ADULT_SIGNATURE"


class AuthenticationStatus(Enum):
    PENDING = "PENDING"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class FulfilmentStatus(Enum):
    """The order service's own view of a package (TikTok Shop package status)."""

    TO_FULFILL = "TO_FULFILL"
    PROCESSING = "PROCESSING"
    FULFILLING = "FULFILLING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class CarrierTag(Enum):
    """AfterShip's delivery status tags, as the carrier service reports them."""

    PENDING = "Pending"
    INFO_RECEIVED = "InfoReceived"
    IN_TRANSIT = "InTransit"
    OUT_FOR_DELIVERY = "OutForDelivery"
    ATTEMPT_FAIL = "AttemptFail"
    DELIVERED = "Delivered"
    AVAILABLE_FOR_PICKUP = "AvailableForPickup"
    EXCEPTION = "Exception"
    EXPIRED = "Expired"


class ReturnKind(Enum):
    RETURN_AND_REFUND = "RETURN_AND_REFUND"
    REFUND_ONLY = "REFUND_ONLY"
    REPLACEMENT = "REPLACEMENT"


class ReturnStatus(Enum):
    REQUESTED = "REQUESTED"
    APPROVED_AWAITING_SHIPMENT = "APPROVED_AWAITING_SHIPMENT"
    IN_RETURN_TRANSIT = "IN_RETURN_TRANSIT"
    RECEIVED = "RECEIVED"
    REFUND_PENDING = "REFUND_PENDING"
    REFUNDED = "REFUNDED"
    REPLACED = "REPLACED"
    AWAITING_BUYER_RESPONSE = "AWAITING_BUYER_RESPONSE"
    IN_ARBITRATION = "IN_ARBITRATION"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class CancellationStatus(Enum):
    REQUESTED = "REQUESTED"
    CANCELLED = "CANCELLED"
    DECLINED = "DECLINED"


class Actor(Enum):
    BUYER = "BUYER"
    SELLER = "SELLER"
    SYSTEM = "SYSTEM"
    OPERATOR = "OPERATOR"


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        assert self.currency == other.currency, "never add two currencies"
        return Money(self.amount + other.amount, self.currency)

    def times(self, n: int) -> Money:
        return Money(self.amount * n, self.currency)

    @staticmethod
    def zero(currency: str) -> Money:
        return Money(Decimal("0.00"), currency)


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str
    phone: str


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of one product, as the order service lists it (one line item per unit)."""

    id: str
    sku_id: str
    product_id: str
    product_name: str
    sku_name: str
    image_url: str
    price: Money
    package_id: str | None
    sku_type: SkuType
    handling_days: int | None
    customization: str | None
    tags: frozenset[ProductTag]
    warehouse_id: str
    cancelled_by: Actor | None


@dataclass(frozen=True, slots=True)
class Authentication:
    status: AuthenticationStatus
    provider: str
    submitted_at: datetime | None
    deadline: datetime | None
    approved_at: datetime | None


@dataclass(frozen=True, slots=True)
class PackageRecord:
    id: str
    fulfilment: FulfilmentStatus
    carrier_slug: str | None
    carrier_name: str | None
    tracking_number: str | None
    unit_ids: tuple[str, ...]
    warehouse_id: str
    weight_g: int
    signature: Signature
    must_split: tuple[str, ...]
    authentication: Authentication | None
    created_at: datetime | None
    estimated_ship_at: datetime | None

    @property
    def tracking_key(self) -> TrackingKey | None:
        if self.carrier_slug and self.tracking_number:
            return TrackingKey(self.carrier_slug, self.tracking_number)
        return None


@dataclass(frozen=True, slots=True)
class SlaExtension:
    reason: str
    original: datetime
    extended: datetime


@dataclass(frozen=True, slots=True)
class OrderRecord:
    id: str
    market: Market
    currency: str
    buyer_id: str
    shop_id: str
    shop_name: str
    source_status: str
    order_type: str
    on_hold_order: bool
    placed_at: datetime
    paid_at: datetime | None
    updated_at: datetime
    ship_by: datetime | None
    promised_by: datetime | None
    sla_extension: SlaExtension | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: Actor | None
    cancel_reason: str | None
    delivery_method: DeliveryMethod
    address: Address | None
    address_updated: bool
    subtotal: Money
    shipping_fee: Money
    tax: Money
    total: Money
    units: tuple[Unit, ...]
    packages: tuple[PackageRecord, ...]


@dataclass(frozen=True, slots=True, order=True)
class TrackingKey:
    """Carriers recycle numbers: a tracking is only unique per carrier."""

    carrier: str
    number: str


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    time: datetime
    tag: CarrierTag
    subtag: str
    message: str
    location: str


@dataclass(frozen=True, slots=True)
class Tracking:
    key: TrackingKey
    tag: CarrierTag
    subtag: str
    events: tuple[TrackingEvent, ...]
    promised_date: date | None
    first_estimate: date | None
    latest_estimate: date | None
    signature: Signature
    signed_by: str | None
    failed_attempts: int
    return_to_sender: bool
    delivered_at: datetime | None
    pickup_location: str | None
    link: str | None


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    """One upstream return: one reason for all its units (the after-sales service's granularity)."""

    id: str
    order_id: str
    group_id: str
    kind: ReturnKind
    status: ReturnStatus
    source_status: str
    reason_code: str
    reason_text: str
    note: str | None
    unit_ids: tuple[str, ...]
    unit_refunds: tuple[Money, ...]
    refund: Money
    handover: str
    document_type: str | None
    carrier_name: str | None
    tracking_number: str | None
    ship_by: datetime | None
    seller_deadline: datetime | None
    created_at: datetime
    approved_at: datetime | None
    shipped_back_at: datetime | None
    received_at: datetime | None
    refunded_at: datetime | None
    rejected_reason: str | None


@dataclass(frozen=True, slots=True)
class CancellationRecord:
    id: str
    order_id: str
    initiator: Actor
    status: CancellationStatus
    reason_code: str
    reason_text: str
    unit_ids: tuple[str, ...]
    refund: Money
    created_at: datetime
    seller_deadline: datetime | None


@dataclass(frozen=True, slots=True)
class AfterSalesRecord:
    order_id: str
    returns: tuple[ReturnRecord, ...] = ()
    cancellations: tuple[CancellationRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """Why a part of the snapshot is missing: which service, and how it failed."""

    service: str
    code: str
    message: str


@dataclass(frozen=True)
class OrderSnapshot:
    """Everything known about one order at one instant; every derived field reads only this."""

    order: OrderRecord
    now: datetime
    trackings: dict[str, Tracking] = field(default_factory=dict)  # by package id
    after_sales: AfterSalesRecord | None = None
    tracking_failure: SourceFailure | None = None
    after_sales_failure: SourceFailure | None = None

    @property
    def tracking_available(self) -> bool:
        return self.tracking_failure is None

    @property
    def after_sales_available(self) -> bool:
        return self.after_sales_failure is None and self.after_sales is not None
