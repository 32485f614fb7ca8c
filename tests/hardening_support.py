"""Shared pieces of the hardening tests (issue 6): media types, production settings, the full order page
query, and the checks every refusal makes (right code, nothing leaked, no upstream call)."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.settings import Mode
from tests.upstreams import SERVICES, MockUpstreams

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
PRODUCTION_SECRET = "production-test-secret-0123456789abcdef"
PRODUCTION: dict[str, Any] = {"mode": Mode.PRODUCTION, "jwt_secret": PRODUCTION_SECRET}

# What the reference order page asks for: every field a shopper sees for one order, in one query.
ORDER_PAGE = """query OrderPage($id: ID!) {
  order(id: $id) {
    id market currency placedAt paidAt status displayStatus statusLabel sellerStatus deliveryMethod
    promisedDeliveryDate freeCancellationUntil trackingAvailable afterSalesAvailable
    seller { id name }
    lineItems { id productId skuId name variant imageUrl customization quantity cancelledQuantity tags
                unitPrice { amount currency formatted } total { amount currency formatted } }
    totals { subtotal { formatted } shipping { formatted } tax { formatted } total { amount currency formatted } }
    shippingAddress { name line1 line2 city region postalCode country }
    unshippedItems { quantity lineItem { id name } }
    cancelledItems { quantity lineItem { id name } }
    tracker { headline totalPackages shippedPackages deliveredPackages steps { kind label state time description } }
    alerts { kind severity packageId title cause nextStep suggestedAction revisedDate since }
    packages {
      id number status statusLabel statusSource trackingAvailable trackingNumber trackingUrl shippedAt deliveredAt
      signatureRequired signedBy pickupLocation
      carrier { slug name }
      items { quantity lineItem { id name imageUrl } }
      eta { earliest latest revised originalDate source }
      authentication { status provider submittedAt approvedAt deadline }
      split { reason explanation }
      trackingEvents { time code message location }
      tracker { kind label state time description }
      alerts { kind severity title cause nextStep suggestedAction }
    }
    afterSalesActions {
      kind label available message unavailableReason deadline packageIds returnIds requiresApproval alternative
      items { quantity deadline note lineItem { id name }
              reasons { code label category deadline basis resolutions } }
    }
    returns {
      id kind status statusLabel requestedAt sellerResponseDue
      lines { quantity reason reasonLabel note status lineItem { id name } refund { formatted } }
      refund { state refundedAt amount { formatted } }
      shipping { document carrier trackingNumber shipBy }
      steps { kind label state time description }
      instructions { step title detail deadline }
    }
    cancellations { id status initiator reason requestedAt sellerResponseDue refund { formatted }
                    items { quantity lineItem { id name } } }
  }
}"""


async def assert_no_upstream_call(mocks: MockUpstreams) -> None:
    """The request was refused before the gateway called any upstream."""
    for service in SERVICES:
        assert await mocks.counters(service) == {}, f"{service} was called"


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body.get("errors") or []) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def codes(body: Any) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in (body.get("errors") or [])]


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A refusal: the status, one error with the code, no `data` entry (nothing was executed)."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert "data" not in body, body
    assert only_error(body)["extensions"]["code"] == code, body
    return body


def assert_no_leak(response: httpx.Response) -> None:
    """No stack trace, source path or exception repr reaches a client."""
    text = response.text
    for marker in ("Traceback", "/src/gateway", "site-packages", 'File "', ".py\", line"):
        assert marker not in text, (marker, text[:500])
