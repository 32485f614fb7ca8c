"""US and UK policy as data: windows, reasons, wording, formats.

A new market is a new :class:`MarketPolicy` row and a column in the reason table, not a new branch in
the rules. Sources for each number are in ../shared/DOMAIN.md section 5 (TikTok Shop US return
policy and money-back guarantee; UK Consumer Contracts Regulations 2013 and Consumer Rights Act 2015).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from zoneinfo import ZoneInfo

from gateway.domain.model import Market, Money, ProductTag


class ReasonCategory(Enum):
    CHANGE_OF_MIND = "CHANGE_OF_MIND"
    FAULTY = "FAULTY"
    DELIVERY = "DELIVERY"


class ReturnReason(Enum):
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
    DOES_NOT_FIT = "DOES_NOT_FIT"
    TOO_SMALL = "TOO_SMALL"
    TOO_LARGE = "TOO_LARGE"
    WRONG_SIZE_ORDERED = "WRONG_SIZE_ORDERED"
    MULTIPLE_SIZES_ORDERED = "MULTIPLE_SIZES_ORDERED"
    DOES_NOT_SUIT = "DOES_NOT_SUIT"
    QUALITY_NOT_AS_EXPECTED = "QUALITY_NOT_AS_EXPECTED"
    UNAUTHORISED_PURCHASE = "UNAUTHORISED_PURCHASE"
    OTHER = "OTHER"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    WRONG_ITEM = "WRONG_ITEM"
    DAMAGED = "DAMAGED"
    DEFECTIVE = "DEFECTIVE"
    MISSING_PARTS = "MISSING_PARTS"
    MISSING_ITEM = "MISSING_ITEM"
    EXPIRED_OR_SPOILED = "EXPIRED_OR_SPOILED"
    NOT_FROZEN = "NOT_FROZEN"
    SUSPECTED_COUNTERFEIT = "SUSPECTED_COUNTERFEIT"
    MISSED_DELIVERY_DATE = "MISSED_DELIVERY_DATE"
    NOT_RECEIVED = "NOT_RECEIVED"
    LATE = "LATE"


@dataclass(frozen=True)
class ReasonRule:
    reason: ReturnReason
    label: str
    category: ReasonCategory
    upstream_code: str
    markets: frozenset[Market]
    # Chosen in the return picker; NOT_RECEIVED and LATE belong to their own actions.
    pickable: bool = True


_D = "ecom_order_delivered_refund_and_return_reason_"
_BOTH = frozenset({Market.US, Market.UK})
_US = frozenset({Market.US})
_UK = frozenset({Market.UK})
_COM, _FAULT, _DELIV = ReasonCategory.CHANGE_OF_MIND, ReasonCategory.FAULTY, ReasonCategory.DELIVERY
R = ReturnReason

REASONS: dict[ReturnReason, ReasonRule] = {
    rule.reason: rule
    for rule in (
        ReasonRule(R.NO_LONGER_NEEDED, "No longer needed", _COM, _D + "no_need", _BOTH),
        ReasonRule(R.DOES_NOT_FIT, "Item doesn't fit", _COM, _D + "not_fit", _US),
        ReasonRule(R.TOO_SMALL, "Too small or too short", _COM, _D + "too_small", _UK),
        ReasonRule(R.TOO_LARGE, "Too big or too long", _COM, _D + "too_big", _UK),
        ReasonRule(R.WRONG_SIZE_ORDERED, "Ordered the wrong size", _COM, _D + "wrong_size", _UK),
        ReasonRule(R.MULTIPLE_SIZES_ORDERED, "Ordered more than one size", _COM, _D + "multiple_sizes", _UK),
        ReasonRule(R.DOES_NOT_SUIT, "Doesn't suit me", _COM, _D + "not_suit", _UK),
        ReasonRule(R.QUALITY_NOT_AS_EXPECTED, "Quality or style not as expected", _COM, _D + "quality", _UK),
        ReasonRule(R.UNAUTHORISED_PURCHASE, "Unauthorised purchase", _COM, _D + "unauthorised", _UK),
        ReasonRule(R.OTHER, "Other", _COM, _D + "other", _UK),
        ReasonRule(R.NOT_AS_DESCRIBED, "Doesn't match the description", _FAULT, _D + "not_as_described", _BOTH),
        ReasonRule(R.WRONG_ITEM, "Wrong item sent", _FAULT, _D + "wrong_item", _BOTH),
        ReasonRule(R.DAMAGED, "Damaged item or packaging", _FAULT, _D + "damaged", _BOTH),
        ReasonRule(R.DEFECTIVE, "Defective or doesn't work", _FAULT, _D + "defective", _BOTH),
        ReasonRule(R.MISSING_PARTS, "Missing or broken parts", _FAULT, _D + "missing_parts", _BOTH),
        ReasonRule(R.MISSING_ITEM, "Item missing from the package", _FAULT, _D + "missing_item", _BOTH),
        ReasonRule(R.EXPIRED_OR_SPOILED, "Expired or spoiled", _FAULT, _D + "expired", _UK),
        ReasonRule(R.NOT_FROZEN, "Not frozen on arrival", _FAULT, _D + "not_frozen", _UK),
        ReasonRule(R.SUSPECTED_COUNTERFEIT, "Suspected counterfeit", _FAULT, _D + "counterfeit", _UK),
        ReasonRule(R.MISSED_DELIVERY_DATE, "Arrived after the estimated date", _DELIV, _D + "missed_edd", _UK),
        ReasonRule(R.NOT_RECEIVED, "Package wasn't received", _DELIV,
                   "ecom_order_delivered_refund_reason_not_received", _BOTH, pickable=False),
        ReasonRule(R.LATE, "Package won't arrive on time", _DELIV, "ecom_order_shipped_refund_reason_late", _BOTH,
                   pickable=False),
    )
}
REASON_BY_UPSTREAM_CODE: dict[str, ReturnReason] = {rule.upstream_code: r for r, rule in REASONS.items()}


class CancelReason(Enum):
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
    FOUND_BETTER_PRICE = "FOUND_BETTER_PRICE"
    CHANGE_PAYMENT_METHOD = "CHANGE_PAYMENT_METHOD"
    CHANGE_ADDRESS = "CHANGE_ADDRESS"
    ORDERED_BY_MISTAKE = "ORDERED_BY_MISTAKE"
    NOT_SHIPPED_ON_TIME = "NOT_SHIPPED_ON_TIME"
    DONT_WANT_TO_WAIT = "DONT_WANT_TO_WAIT"
    OUT_OF_STOCK = "OUT_OF_STOCK"  # the seller's reason


CANCEL_REASON_LABELS: dict[CancelReason, str] = {
    CancelReason.NO_LONGER_NEEDED: "No longer needed",
    CancelReason.FOUND_BETTER_PRICE: "Found a better price",
    CancelReason.CHANGE_PAYMENT_METHOD: "Need to change the payment method",
    CancelReason.CHANGE_ADDRESS: "Need to change the shipping address",
    CancelReason.ORDERED_BY_MISTAKE: "Ordered by mistake",
    CancelReason.NOT_SHIPPED_ON_TIME: "It wasn't shipped on time",
    CancelReason.DONT_WANT_TO_WAIT: "Don't want to wait any longer",
    CancelReason.OUT_OF_STOCK: "Out of stock",
}
SELLER_CANCEL_REASONS = frozenset({CancelReason.OUT_OF_STOCK})

# The after-sales service's cancellation reason codes.
CANCEL_REASON_CODES: dict[CancelReason, str] = {
    CancelReason.NO_LONGER_NEEDED: "cancel_reason_no_longer_needed",
    CancelReason.FOUND_BETTER_PRICE: "cancel_reason_better_price",
    CancelReason.CHANGE_PAYMENT_METHOD: "cancel_reason_change_payment",
    CancelReason.CHANGE_ADDRESS: "cancel_reason_wrong_address",
    CancelReason.ORDERED_BY_MISTAKE: "cancel_reason_mistake",
    CancelReason.NOT_SHIPPED_ON_TIME: "cancel_reason_not_shipped_on_time",
    CancelReason.DONT_WANT_TO_WAIT: "cancel_reason_dont_want_to_wait",
    CancelReason.OUT_OF_STOCK: "cancel_reason_out_of_stock",
}


class WindowStart(Enum):
    EACH_PACKAGE = "EACH_PACKAGE"  # from the day that item's package was delivered
    LAST_PACKAGE = "LAST_PACKAGE"  # from the day the last package of the order was delivered


@dataclass(frozen=True)
class ReturnWindow:
    """A period during which items may be returned for some reasons, and which items it excludes."""

    basis: str
    categories: frozenset[ReasonCategory]
    days: int
    start: WindowStart = WindowStart.EACH_PACKAGE
    reasons: frozenset[ReturnReason] | None = None  # None: every reason of the categories
    excluded: frozenset[ProductTag] = frozenset()

    def covers(self, rule: ReasonRule, tags: frozenset[ProductTag]) -> bool:
        if rule.category not in self.categories:
            return False
        if self.reasons is not None and rule.reason not in self.reasons:
            return False
        return not (tags & self.excluded)


_UK_REG_28 = frozenset({ProductTag.PERSONALISED, ProductTag.PERISHABLE, ProductTag.HYGIENE_SEALED})
_GRAMS_PER_POUND = 453.59237


@dataclass(frozen=True)
class FreeReturnLimit:
    """Return shipping is free only for an item under both limits; above either, the shopper may pay for it."""

    max_pounds: int
    max_price: Decimal
    described: str

    def covers(self, price: Money, weight_g: float) -> bool:
        return price.amount < self.max_price and weight_g / _GRAMS_PER_POUND < self.max_pounds


@dataclass(frozen=True)
class MarketPolicy:
    market: Market
    currency: str
    symbol: str
    zone: ZoneInfo
    locale: str
    return_windows: tuple[ReturnWindow, ...]
    not_received_days: int
    # ISO 3166-1 alpha-2: where its orders ship, and the order service's region code for the market.
    country: str
    postcode: re.Pattern[str]
    postcode_hint: str  # completes "Enter ...": "a 5-digit ZIP code"
    # The address's region (state, county), when the market's addresses need one in a set form.
    region_format: re.Pattern[str] | None = None
    region_hint: str = ""
    adult_age: int = 18  # who may sign for an adult-signature parcel
    # True where no reporting window for "delivered but not received" is documented: the return window
    # applies when it ends later (see not_received_until).
    not_received_follows_returns: bool = False
    free_return_limit: FreeReturnLimit | None = None  # None: every return label is free
    free_cancel: timedelta = timedelta(hours=1)
    seller_response: timedelta = timedelta(hours=24)
    return_label_days: int = 14
    transit_days: tuple[int, int] = (3, 5)
    customs_hold_after: timedelta = timedelta(hours=48)
    stalled_after: timedelta = timedelta(days=5)
    refund_timing: str = ""
    refund_only_timing: str = ""
    return_drop_off: str = ""
    spelling: dict[str, str] = field(default_factory=dict)

    def not_received_until(self, delivered_at: datetime, last_delivered_at: datetime | None) -> datetime:
        """Until when a package marked delivered on ``delivered_at`` can be reported not received.

        ``last_delivered_at`` is when the order's last package arrived (None while some are still on their way).
        """
        until = delivered_at + timedelta(days=self.not_received_days)
        if not self.not_received_follows_returns:
            return until
        for window in self.return_windows:
            anchor = delivered_at if window.start is WindowStart.EACH_PACKAGE else last_delivered_at
            if anchor is not None:
                until = max(until, anchor + timedelta(days=window.days))
        return until

    def word(self, key: str) -> str:
        return self.spelling.get(key, key)

    def money(self, m: Money) -> str:
        return f"{self.symbol}{m.amount:,.2f}"

    def local(self, t: datetime) -> datetime:
        return t.astimezone(self.zone)

    def day(self, d: date, today: date | None = None) -> str:
        """A short date in the market's style: "Tue, Nov 24" (US) or "Tue 24 Nov" (UK)."""
        return _day(self.market, d, today.year if today is not None else None)

    def moment(self, t: datetime, today: date | None = None) -> str:
        """A date and time in the market's zone and style: "Tue, Nov 24 at 3:05 PM" or "Tue 24 Nov, 15:05"."""
        return _moment(self.market, self.zone, t, today.year if today is not None else None)


# The same few hundred dates and times are worded on every request: word each once.
@lru_cache(maxsize=8192)
def _day(market: Market, d: date, this_year: int | None) -> str:
    year = "" if this_year is None or d.year == this_year else f" {d.year}"
    if market is Market.US:
        text = f"{d:%a}, {d:%b} {d.day}"
        return text + ("," + year if year else "")
    return f"{d:%a} {d.day} {d:%b}{year}"


@lru_cache(maxsize=8192)
def _moment(market: Market, zone: ZoneInfo, t: datetime, this_year: int | None) -> str:
    local = t.astimezone(zone)
    day = _day(market, local.date(), this_year)
    if market is Market.US:
        return f"{day} at {local:%I:%M %p}".replace(" at 0", " at ")
    return f"{day}, {local:%H:%M}"


POLICIES: dict[Market, MarketPolicy] = {
    Market.US: MarketPolicy(
        market=Market.US, currency="USD", symbol="$", zone=ZoneInfo("America/New_York"), locale="en-US",
        return_windows=(
            ReturnWindow("30-day return policy", frozenset({_COM}), 30,
                         excluded=frozenset({ProductTag.FINAL_SALE, ProductTag.PERSONALISED,
                                             ProductTag.HYGIENE_SEALED, ProductTag.PERISHABLE})),
            ReturnWindow("30-day return policy", frozenset({_FAULT, _DELIV}), 30),
            ReturnWindow("Money-back guarantee (damaged or defective, 90 days)", frozenset({_FAULT}), 90,
                         reasons=frozenset({R.DAMAGED, R.DEFECTIVE}),
                         excluded=frozenset({ProductTag.PRE_OWNED, ProductTag.FINAL_SALE})),
        ),
        # TikTok Shop US: "Package wasn't received" within 30 days of Delivered (DOMAIN.md section 5, US).
        not_received_days=30,
        country="US", postcode=re.compile(r"^\d{5}(-\d{4})?$"), postcode_hint="a 5-digit ZIP code",
        region_format=re.compile(r"[A-Za-z]{2}"), region_hint="Use the 2-letter state code.", adult_age=21,
        # TikTok Shop US return policy: free return shipping only for items under 70 lb and under $1,700.
        free_return_limit=FreeReturnLimit(70, Decimal("1700"), "under 70 lb and under $1,700"),
        transit_days=(3, 5),
        refund_timing="Refunds land 3-10 business days after the seller receives the return.",
        refund_only_timing="Refunds land 3-10 business days after the request is approved.",
        return_drop_off="a UPS Store or USPS location",
        spelling={"Cancelled": "Canceled", "cancelled": "canceled", "Ready to collect": "Ready for pickup",
                  "pickup point": "pickup location", "parcel": "package"},
    ),
    Market.UK: MarketPolicy(
        market=Market.UK, currency="GBP", symbol="£", zone=ZoneInfo("Europe/London"), locale="en-GB",
        return_windows=(
            ReturnWindow("30-day extended returns", frozenset({_COM}), 30, excluded=_UK_REG_28),
            ReturnWindow("Consumer Contracts Regulations 2013 (14 days after the last item arrives)",
                         frozenset({_COM}), 14, start=WindowStart.LAST_PACKAGE, excluded=_UK_REG_28),
            ReturnWindow("Consumer Rights Act 2015 (30-day right to reject faulty goods)",
                         frozenset({_FAULT, _DELIV}), 30),
        ),
        # No UK reporting window is documented (DOMAIN.md section 6: UNCERTAIN, use the return window), and
        # the goods stay at the trader's risk until the shopper has them (CRA 2015 s.29): so a report is
        # accepted until the later of 30 days after delivery and the end of the return windows (14 days
        # after the last package arrives, under CCR 2013), never shorter than a return would be.
        not_received_days=30,
        country="GB", postcode=re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.IGNORECASE),
        postcode_hint="a UK postcode",
        not_received_follows_returns=True,
        transit_days=(1, 3),
        refund_timing="Refunds are made within 14 days of the seller receiving the return.",
        refund_only_timing="Refunds are made within 14 days of the request being approved.",
        return_drop_off="a Post Office or InPost locker",
    ),
}


def policy(market: Market) -> MarketPolicy:
    return POLICIES[market]


def offered_reasons(market: Market) -> list[ReasonRule]:
    return [rule for rule in REASONS.values() if market in rule.markets and rule.pickable]
