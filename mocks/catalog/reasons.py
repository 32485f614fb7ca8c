"""The after-sales service's own reason vocabulary (TikTok-Shop-like codes), per market and stage.

The gateway keeps its own canonical reason list and maps onto these codes; the service rejects a
code that its market or the order's stage does not offer, as the real API does.
"""

from __future__ import annotations

from dataclasses import dataclass

_DELIVERED = "ecom_order_delivered_refund_and_return_reason_"
_US, _GB, _BOTH = frozenset({"US"}), frozenset({"GB"}), frozenset({"US", "GB"})
# Line stages, in TikTok Shop's line ``display_status`` vocabulary (DOMAIN 1.1).
DELIVERED_STAGE = frozenset({"DELIVERED"})
SHIPPED_STAGES = frozenset({"AWAITING_COLLECTION", "IN_TRANSIT"})


@dataclass(frozen=True)
class ReturnReasonCode:
    """One refund/return reason: its buyer-facing text, the markets that offer it, and the line stages
    it is offered in (the real API rejects a reason the order's status does not offer, DOMAIN 1.5)."""

    text: str
    markets: frozenset[str]
    stages: frozenset[str] = DELIVERED_STAGE


RETURN_REASONS: dict[str, ReturnReasonCode] = {
    _DELIVERED + "no_need": ReturnReasonCode("No longer needed", _BOTH),
    _DELIVERED + "not_fit": ReturnReasonCode("Item doesn't fit", _US),
    _DELIVERED + "missing_item": ReturnReasonCode("Received but missing item", _BOTH),
    _DELIVERED + "damaged": ReturnReasonCode("Damaged item or packaging", _BOTH),
    _DELIVERED + "defective": ReturnReasonCode("Defective item", _BOTH),
    _DELIVERED + "missing_parts": ReturnReasonCode("Missing or broken parts", _BOTH),
    _DELIVERED + "not_as_described": ReturnReasonCode("Doesn't match description", _BOTH),
    _DELIVERED + "wrong_item": ReturnReasonCode("Wrong item", _BOTH),
    _DELIVERED + "missed_edd": ReturnReasonCode("Missed estimated delivery date", _GB),
    _DELIVERED + "counterfeit": ReturnReasonCode("Suspected counterfeit", _GB),
    _DELIVERED + "not_suit": ReturnReasonCode("Does not suit me", _GB),
    _DELIVERED + "multiple_sizes": ReturnReasonCode("Multiple sizes ordered", _GB),
    _DELIVERED + "too_big": ReturnReasonCode("Too big or too long", _GB),
    _DELIVERED + "too_small": ReturnReasonCode("Too small or too short", _GB),
    _DELIVERED + "wrong_size": ReturnReasonCode("Ordered incorrect size", _GB),
    _DELIVERED + "quality": ReturnReasonCode("Quality or style not as expected", _GB),
    _DELIVERED + "unauthorised": ReturnReasonCode("Unauthorised purchase", _GB),
    _DELIVERED + "expired": ReturnReasonCode("Expired or spoiled", _GB),
    _DELIVERED + "not_frozen": ReturnReasonCode("Not frozen on arrival", _GB),
    _DELIVERED + "other": ReturnReasonCode("Other", _GB),
    "ecom_order_delivered_refund_reason_not_received": ReturnReasonCode("Package wasn't received", _BOTH),
    # Shipped but not delivered: "Product wouldn't arrive on time" (US), "Package didn't arrive on time" (UK).
    "ecom_order_shipped_refund_reason_late": ReturnReasonCode("Product wouldn't arrive on time", _BOTH,
                                                              SHIPPED_STAGES),
}

CANCEL_REASONS: dict[str, str] = {
    "cancel_reason_no_longer_needed": "No longer needed",
    "cancel_reason_better_price": "Found a better price",
    "cancel_reason_change_payment": "Need to change payment method",
    "cancel_reason_wrong_address": "Need to change shipping address",
    "cancel_reason_mistake": "Ordered by mistake",
    "cancel_reason_not_shipped_on_time": "Item wasn't shipped on time",
    "cancel_reason_dont_want_to_wait": "Don't want to wait",
    "cancel_reason_out_of_stock": "Out of stock",
    "system_cancel_unpaid_time_out": "Payment not completed in time",
    "system_cancel_order_reason_shipping_timeout": "Seller did not ship in time",
    "package_lost": "Package lost",
    "package_damaged": "Package damaged",
    "returned_to_shipper_other": "Delivery failed; returned to seller",
}
# The platform's own reasons (role SYSTEM, DOMAIN 1.4): recorded by the catalogue, never accepted from a
# buyer or a seller.
SYSTEM_CANCEL_REASONS = frozenset({
    "system_cancel_unpaid_time_out", "system_cancel_order_reason_shipping_timeout", "package_lost",
    "package_damaged", "returned_to_shipper_other",
})


def return_reason_text(code: str) -> str:
    return RETURN_REASONS[code].text


def reason_offered(code: str, region: str) -> bool:
    entry = RETURN_REASONS.get(code)
    return entry is not None and region in entry.markets
