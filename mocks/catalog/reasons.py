"""The after-sales service's own reason vocabulary (TikTok-Shop-like codes), per market and stage.

The gateway keeps its own canonical reason list and maps onto these codes; the service rejects a
code that its market or the order's stage does not offer, as the real API does.
"""

from __future__ import annotations

_DELIVERED = "ecom_order_delivered_refund_and_return_reason_"

# code -> (text, markets)
RETURN_REASONS: dict[str, tuple[str, frozenset[str]]] = {
    _DELIVERED + "no_need": ("No longer needed", frozenset({"US", "GB"})),
    _DELIVERED + "not_fit": ("Item doesn't fit", frozenset({"US"})),
    _DELIVERED + "missing_item": ("Received but missing item", frozenset({"US", "GB"})),
    _DELIVERED + "damaged": ("Damaged item or packaging", frozenset({"US", "GB"})),
    _DELIVERED + "defective": ("Defective item", frozenset({"US", "GB"})),
    _DELIVERED + "missing_parts": ("Missing or broken parts", frozenset({"US", "GB"})),
    _DELIVERED + "not_as_described": ("Doesn't match description", frozenset({"US", "GB"})),
    _DELIVERED + "wrong_item": ("Wrong item", frozenset({"US", "GB"})),
    _DELIVERED + "missed_edd": ("Missed estimated delivery date", frozenset({"GB"})),
    _DELIVERED + "counterfeit": ("Suspected counterfeit", frozenset({"GB"})),
    _DELIVERED + "not_suit": ("Does not suit me", frozenset({"GB"})),
    _DELIVERED + "multiple_sizes": ("Multiple sizes ordered", frozenset({"GB"})),
    _DELIVERED + "too_big": ("Too big or too long", frozenset({"GB"})),
    _DELIVERED + "too_small": ("Too small or too short", frozenset({"GB"})),
    _DELIVERED + "wrong_size": ("Ordered incorrect size", frozenset({"GB"})),
    _DELIVERED + "quality": ("Quality or style not as expected", frozenset({"GB"})),
    _DELIVERED + "unauthorised": ("Unauthorised purchase", frozenset({"GB"})),
    _DELIVERED + "expired": ("Expired or spoiled", frozenset({"GB"})),
    _DELIVERED + "not_frozen": ("Not frozen on arrival", frozenset({"GB"})),
    _DELIVERED + "other": ("Other", frozenset({"GB"})),
    "ecom_order_delivered_refund_reason_not_received": ("Package wasn't received", frozenset({"US", "GB"})),
    "ecom_order_shipped_refund_reason_late": ("Product wouldn't arrive on time", frozenset({"US", "GB"})),
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
    "returned_to_shipper_other": "Delivery failed; returned to seller",
}


def return_reason_text(code: str) -> str:
    return RETURN_REASONS[code][0]


def reason_offered(code: str, region: str) -> bool:
    entry = RETURN_REASONS.get(code)
    return entry is not None and region in entry[1]
