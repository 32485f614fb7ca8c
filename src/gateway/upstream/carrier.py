"""The carrier service: AfterShip-like trackings parsed into :class:`Tracking`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from gateway.domain.model import CarrierTag, Signature, Tracking, TrackingEvent, TrackingKey
from gateway.errors import UpstreamBadData
from gateway.upstream.base import RequestScope, Transport, Upstream
from gateway.upstream.reader import Reader, each_record

if TYPE_CHECKING:
    from gateway.stores import TrackingCache

SERVICE = "carrier"
MAX_BATCH = 100
SIGNATURES = {"none": Signature.NONE, "signature": Signature.SIGNATURE, "adult_signature": Signature.ADULT_SIGNATURE}


class CarrierClient(Upstream):
    def __init__(self, transport: Transport, scope: RequestScope, cache: TrackingCache | None = None) -> None:
        super().__init__(transport, scope)
        self.cache = cache

    async def trackings(self, keys: Sequence[TrackingKey]) -> dict[TrackingKey, Tracking | UpstreamBadData]:
        """Batch get; unknown trackings are absent, a malformed one is an error for that tracking only.
        With the tracking cache on, recent raw answers are reused (and parsed again, like any answer)."""
        raw: dict[TrackingKey, Any] = {}
        if self.cache is not None:
            cached = await self.cache.get_many([_cache_key(k) for k in keys])
            raw = {k: orjson.loads(cached[_cache_key(k)]) for k in keys if _cache_key(k) in cached}
            for key in keys:
                self.transport.observer.cache_lookup("tracking", key in raw)
        missing = [k for k in keys if k not in raw]
        for start in range(0, len(missing), MAX_BATCH):
            chunk = missing[start : start + MAX_BATCH]
            body = {"trackings": [{"slug": k.carrier, "tracking_number": k.number} for k in chunk]}
            response = await self._read("trackings.batch", "trackings/batch_get", body)
            fetched = {}
            for r in Reader(SERVICE, response.body).objects("trackings"):
                key = TrackingKey(r.text("slug"), r.text("tracking_number"))
                raw[key] = fetched[key] = r.data
            if self.cache is not None and fetched:
                await self.cache.put_many({_cache_key(k): orjson.dumps(v) for k, v in fetched.items()})
        found: dict[TrackingKey, Tracking | UpstreamBadData] = {}
        for key, item in raw.items():
            (parsed,) = each_record(Reader(SERVICE, item, f"$.trackings[{key.number}]"), "tracking_number",
                                    parse_tracking).values()
            found[key] = parsed
        return found


def _cache_key(key: TrackingKey) -> str:
    return f"{key.carrier}:{key.number}"


def _estimate(r: Reader, key: str) -> Reader | None:
    return r.opt_obj(key)


def parse_tracking(r: Reader) -> Tracking:
    events = tuple(
        TrackingEvent(time=c.iso("checkpoint_time"), tag=c.enum("tag", CarrierTag), subtag=c.text("subtag"),
                      message=c.opt_text("message") or c.opt_text("subtag_message") or "",
                      location=c.opt_text("location") or "")
        for c in r.objects("checkpoints")
    )
    for earlier, later in itertools.pairwise(events):
        if later.time < earlier.time:
            raise r.bad(f"{r.path}.checkpoints go back in time at {later.time.isoformat()}")
    first, latest = _estimate(r, "first_estimated_delivery"), _estimate(r, "latest_estimated_delivery")
    signature = r.opt_text("signature_requirement") or "none"
    if signature not in SIGNATURES:
        raise r.bad(f"{r.path}.signature_requirement has unknown value {signature!r}")
    tag = r.enum("tag", CarrierTag)
    delivered_at = r.opt_iso("shipment_delivery_date")
    if tag is CarrierTag.DELIVERED and delivered_at is None:
        delivered_at = next((e.time for e in reversed(events) if e.tag is CarrierTag.DELIVERED), None)
    return Tracking(
        key=TrackingKey(r.text("slug"), r.text("tracking_number")), tag=tag, subtag=r.text("subtag"), events=events,
        promised_date=r.opt_date("order_promised_delivery_date"),
        first_estimate=first.opt_date("datetime") if first else None,
        latest_estimate=latest.opt_date("datetime") if latest else None,
        signature=SIGNATURES[signature], signed_by=r.opt_text("signed_by"),
        failed_attempts=r.integer("failed_delivery_attempts", 0), return_to_sender=r.flag("return_to_sender"),
        delivered_at=delivered_at, pickup_location=r.opt_text("pickup_location"),
        link=r.opt_text("courier_tracking_link"),
    )
