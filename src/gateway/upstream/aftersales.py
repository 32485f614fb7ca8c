"""The after-sales service: returns and cancellations parsed into canonical records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.domain.model import (
    Actor,
    AfterSalesRecord,
    CancellationRecord,
    CancellationStatus,
    Money,
    ReturnKind,
    ReturnRecord,
    ReturnStatus,
)
from gateway.errors import UpstreamBadData
from gateway.upstream.base import Upstream
from gateway.upstream.reader import Reader, each_record

SERVICE = "aftersales"
MAX_BATCH = 50
RETURN_KINDS = {"RETURN_AND_REFUND": ReturnKind.RETURN_AND_REFUND, "REFUND": ReturnKind.REFUND_ONLY,
                "REPLACEMENT": ReturnKind.REPLACEMENT}
# TikTok Shop's return statuses; both spellings of the reject status exist in the wild.
RETURN_STATUSES = {
    "RETURN_OR_REFUND_REQUEST_PENDING": ReturnStatus.REQUESTED,
    "REFUND_OR_RETURN_REQUEST_REJECT": ReturnStatus.REJECTED,
    "RETURN_OR_REFUND_REQUEST_REJECT": ReturnStatus.REJECTED,
    "AWAITING_BUYER_SHIP": ReturnStatus.APPROVED_AWAITING_SHIPMENT,
    "BUYER_SHIPPED_ITEM": ReturnStatus.IN_RETURN_TRANSIT,
    "REJECT_RECEIVE_PACKAGE": ReturnStatus.REJECTED,
    "RETURN_OR_REFUND_REQUEST_SUCCESS": ReturnStatus.REFUND_PENDING,
    "RETURN_OR_REFUND_REQUEST_CANCEL": ReturnStatus.CANCELLED,
    "RETURN_OR_REFUND_REQUEST_COMPLETE": ReturnStatus.REFUNDED,
    "AWAITING_BUYER_RESPONSE": ReturnStatus.AWAITING_BUYER_RESPONSE,
    "REPLACEMENT_REQUEST_PENDING": ReturnStatus.REQUESTED,
    "REPLACEMENT_REQUEST_REJECT": ReturnStatus.REJECTED,
    "REPLACEMENT_REQUEST_REFUND_SUCCESS": ReturnStatus.REFUNDED,
    "REPLACEMENT_REQUEST_CANCEL": ReturnStatus.CANCELLED,
    "REPLACEMENT_REQUEST_COMPLETE": ReturnStatus.REPLACED,
}
CANCEL_STATUSES = {
    "CANCELLATION_REQUEST_PENDING": CancellationStatus.REQUESTED,
    "CANCELLATION_REQUEST_SUCCESS": CancellationStatus.CANCELLED,
    "CANCELLATION_REQUEST_COMPLETE": CancellationStatus.CANCELLED,
    "CANCELLATION_REQUEST_CANCEL": CancellationStatus.DECLINED,
    "CANCELLATION_REQUEST_CANCELLED": CancellationStatus.DECLINED,
}
ARBITRATION_OPEN = "IN_PROGRESS"


class AfterSalesClient(Upstream):
    async def for_orders(self, order_ids: Sequence[str]) -> dict[str, AfterSalesRecord | UpstreamBadData]:
        found: dict[str, AfterSalesRecord | UpstreamBadData] = {}
        for start in range(0, len(order_ids), MAX_BATCH):
            chunk = list(order_ids[start : start + MAX_BATCH])
            response = await self._read("aftersales.batch", "aftersales/batch_get", {"order_ids": chunk})
            for r in Reader(SERVICE, response.body).objects("orders"):
                found.update(each_record(r, "order_id", parse_after_sales))
        return found

    async def create_returns(self, body: dict[str, Any], idempotency_key: str) -> list[ReturnRecord]:
        """One return per reason group, all in one parcel, created atomically upstream."""
        response = await self._write("returns.batch_create", "returns/batch_create", body,
                                     idempotency_key=idempotency_key)
        self._expect_found(response.status, f"order {body.get('order_id')}")
        return [parse_return(r) for r in Reader(SERVICE, response.body).objects("returns")]

    async def change_returns(self, combined_id: str, action: str, body: dict[str, Any],
                             idempotency_key: str) -> list[ReturnRecord]:
        """Cancel (buyer), approve or reject (seller) every live return of one parcel."""
        response = await self._write("returns.combined_action", f"combined_returns/{combined_id}/{action}", body,
                                     idempotency_key=idempotency_key)
        self._expect_found(response.status, f"return {combined_id}")
        return [parse_return(r) for r in Reader(SERVICE, response.body).objects("returns")]

    async def create_cancellation(self, body: dict[str, Any], idempotency_key: str) -> CancellationRecord:
        response = await self._write("cancellations.create", "cancellations", body, idempotency_key=idempotency_key)
        self._expect_found(response.status, f"order {body.get('order_id')}")
        return parse_cancellation(Reader(SERVICE, response.body).obj("cancellation"))

    async def answer_cancellation(self, cancel_id: str, accept: bool, body: dict[str, Any],
                                  idempotency_key: str) -> CancellationRecord:
        action = "approve" if accept else "reject"
        response = await self._write(f"cancellations.{action}", f"cancellations/{cancel_id}/{action}", body,
                                     idempotency_key=idempotency_key)
        self._expect_found(response.status, f"cancellation {cancel_id}")
        return parse_cancellation(Reader(SERVICE, response.body).obj("cancellation"))

    def _expect_found(self, status: int, what: str) -> None:
        if status == 404:
            # We read it a moment ago: the after-sales service disagrees with what we were shown.
            raise UpstreamBadData(SERVICE, f"{what} is unknown to the after-sales service")


def _money(r: Reader, key: str) -> Money:
    amount = r.obj(key)
    return amount.money("refund_total", amount.text("currency"))


def _first_deadline(r: Reader) -> Any:
    for action in r.objects("seller_next_action_response"):
        return action.unix("deadline")
    return None


def parse_return(r: Reader) -> ReturnRecord:
    source = r.text("return_status")
    status = RETURN_STATUSES.get(source)
    if status is None:
        raise r.bad(f"{r.path}.return_status has unknown value {source!r}")
    if r.opt_text("arbitration_status") == ARBITRATION_OPEN:
        status = ReturnStatus.IN_ARBITRATION
    kind = r.text("return_type")
    if kind not in RETURN_KINDS:
        raise r.bad(f"{r.path}.return_type has unknown value {kind!r}")
    lines = list(r.objects("return_line_items"))
    return ReturnRecord(
        id=r.text("return_id"), order_id=r.text("order_id"),
        group_id=r.opt_text("combined_return_id") or r.text("return_id"), kind=RETURN_KINDS[kind], status=status,
        source_status=source, reason_code=r.text("return_reason"), reason_text=r.opt_text("return_reason_text") or "",
        note=r.opt_text("buyer_note"), unit_ids=tuple(line.text("order_line_item_id") for line in lines),
        unit_refunds=tuple(_money(line, "refund_amount") for line in lines), refund=_money(r, "refund_amount"),
        handover=r.opt_text("handover_method") or "DROP_OFF",
        document_type=r.opt_text("return_shipping_document_type"), carrier_name=r.opt_text("return_provider_name"),
        tracking_number=r.opt_text("return_tracking_number"), ship_by=r.opt_unix("ship_due_time"),
        seller_deadline=_first_deadline(r), created_at=r.unix("create_time"), approved_at=r.opt_unix("approve_time"),
        shipped_back_at=r.opt_unix("buyer_ship_time"), received_at=r.opt_unix("receive_time"),
        refunded_at=r.opt_unix("refund_time"), rejected_reason=r.opt_text("reject_reason"),
    )


def parse_cancellation(r: Reader) -> CancellationRecord:
    source = r.text("cancel_status")
    status = CANCEL_STATUSES.get(source)
    if status is None:
        raise r.bad(f"{r.path}.cancel_status has unknown value {source!r}")
    return CancellationRecord(
        id=r.text("cancel_id"), order_id=r.text("order_id"), initiator=r.enum("role", Actor), status=status,
        reason_code=r.text("cancel_reason"), reason_text=r.opt_text("cancel_reason_text") or "",
        unit_ids=tuple(line.text("order_line_item_id") for line in r.objects("cancel_line_items")),
        refund=_money(r, "refund_amount"), created_at=r.unix("create_time"), seller_deadline=_first_deadline(r),
    )


def parse_after_sales(r: Reader) -> AfterSalesRecord:
    return AfterSalesRecord(
        order_id=r.text("order_id"),
        returns=tuple(parse_return(x) for x in r.objects("returns")),
        cancellations=tuple(parse_cancellation(x) for x in r.objects("cancellations")),
    )
