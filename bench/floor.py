"""The FLOOR: the least Python can do to answer the benchmark's queries on this stack.

An aiohttp server (uvloop) with no GraphQL: it dispatches on ``operationName``, makes the same upstream
calls as the gateway (one batched call per service, the order and after-sales in parallel, then the
carrier) with a bare ``aiohttp`` session, parses them with the gateway's own border parsers, computes
every value with the gateway's pure domain layer (``gateway.domain``) and writes the same JSON by
hand with orjson. No loaders, no retries, breakers or bulkheads, no schema: what is left is the
physical cost of HTTP in and out, JSON, parsing and the domain rules.

Run: ``python -m bench.floor`` with the gateway's settings in the environment (PORT, *_URL,
JWT_SECRET, GATEWAY_NOW).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from yarl import URL

from gateway.auth import Role, TokenSettings, Viewer, bearer, verify
from gateway.domain.actions import Action
from gateway.domain.alerts import Alert
from gateway.domain.items import LineItem, count_by_item
from gateway.domain.model import AfterSalesRecord, OrderRecord, OrderSnapshot, Tracking, TrackingKey
from gateway.domain.packages import PackageStatus, PackageView
from gateway.domain.tracker import TrackerStep
from gateway.domain.view import OrderView
from gateway.errors import GatewayError, Unauthenticated, UpstreamBadData
from gateway.settings import Settings
from gateway.upstream.aftersales import parse_after_sales
from gateway.upstream.carrier import parse_tracking
from gateway.upstream.orders import parse_order
from gateway.upstream.reader import Reader, each_record

Json = dict[str, Any]

# The schema's presentation table (gateway/schema/tracking.py), copied so the floor never imports GraphQL.
PACKAGE_LABELS = {
    PackageStatus.PENDING: "Preparing to ship",
    PackageStatus.AWAITING_AUTHENTICATION: "Being authenticated",
    PackageStatus.LABEL_CREATED: "Label created",
    PackageStatus.IN_TRANSIT: "In transit",
    PackageStatus.OUT_FOR_DELIVERY: "Out for delivery",
    PackageStatus.AVAILABLE_FOR_PICKUP: "Ready to collect",
    PackageStatus.DELIVERY_ATTEMPTED: "Delivery attempted",
    PackageStatus.DELIVERED: "Delivered",
    PackageStatus.RETURNING_TO_SENDER: "Returning to seller",
    PackageStatus.RETURNED_TO_SENDER: "Returned to seller",
    PackageStatus.LOST: "Lost",
    PackageStatus.DAMAGED: "Damaged",
    PackageStatus.CANCELLED: "Cancelled",
}


# -- upstream calls ----------------------------------------------------------------------------


class Upstreams:
    """One keep-alive pool per service, as the gateway has; nothing else around the calls."""

    def __init__(self, settings: Settings) -> None:
        def session() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=settings.upstream_pool_size,
                                                                        keepalive_timeout=30))

        self.orders_url, self.carrier_url = URL(settings.orders_url), URL(settings.carrier_url)
        self.aftersales_url = URL(settings.aftersales_url)
        self.orders, self.carrier, self.aftersales = session(), session(), session()

    async def close(self) -> None:
        for s in (self.orders, self.carrier, self.aftersales):
            await s.close()

    @staticmethod
    async def _json(response: aiohttp.ClientResponse, service: str) -> Any:
        raw = await response.read()
        if response.status >= 400 and response.status != 404:
            raise UpstreamBadData(service, f"HTTP {response.status}")
        return orjson.loads(raw)

    async def get_orders(self, ids: Sequence[str]) -> dict[str, OrderRecord | UpstreamBadData]:
        async with self.orders.get(self.orders_url / "orders", params={"ids": ",".join(ids)}) as response:
            body = await self._json(response, "orders")
        found: dict[str, OrderRecord | UpstreamBadData] = {}
        for r in Reader("orders", body).objects("orders"):
            found.update(each_record(r, "id", parse_order))
        return found

    async def search(self, buyer: str, size: int) -> tuple[list[OrderRecord], str | None]:
        request = {"page_size": size, "buyer_user_id": buyer}
        async with self.orders.post(self.orders_url / "orders/search", data=orjson.dumps(request),
                                    headers={"Content-Type": "application/json"}) as response:
            body = Reader("orders", await self._json(response, "orders"))
        return [parse_order(r) for r in body.objects("orders")], body.opt_text("next_page_token")

    async def trackings(self, keys: Sequence[TrackingKey]) -> dict[TrackingKey, Tracking | UpstreamBadData]:
        if not keys:
            return {}
        request = {"trackings": [{"slug": k.carrier, "tracking_number": k.number} for k in dict.fromkeys(keys)]}
        async with self.carrier.post(self.carrier_url / "trackings/batch_get", data=orjson.dumps(request),
                                     headers={"Content-Type": "application/json"}) as response:
            body = await self._json(response, "carrier")
        found: dict[TrackingKey, Tracking | UpstreamBadData] = {}
        for r in Reader("carrier", body).objects("trackings"):
            (parsed,) = each_record(r, "tracking_number", parse_tracking).values()
            found[TrackingKey(r.text("slug"), r.text("tracking_number"))] = parsed
        return found

    async def after_sales(self, order_ids: Sequence[str]) -> dict[str, AfterSalesRecord | UpstreamBadData]:
        request = {"order_ids": list(order_ids)}
        async with self.aftersales.post(self.aftersales_url / "aftersales/batch_get", data=orjson.dumps(request),
                                        headers={"Content-Type": "application/json"}) as response:
            body = await self._json(response, "aftersales")
        found: dict[str, AfterSalesRecord | UpstreamBadData] = {}
        for r in Reader("aftersales", body).objects("orders"):
            found.update(each_record(r, "order_id", parse_after_sales))
        return found


def _keys(orders: Iterable[OrderRecord]) -> list[TrackingKey]:
    return [p.tracking_key for o in orders for p in o.packages if p.tracking_key is not None]


def _snapshot(order: OrderRecord, now: datetime, trackings: dict[TrackingKey, Tracking | UpstreamBadData],
              after_sales: dict[str, AfterSalesRecord | UpstreamBadData]) -> OrderSnapshot:
    by_package = {}
    for p in order.packages:
        key = p.tracking_key
        found = trackings.get(key) if key is not None else None
        if isinstance(found, Tracking):
            by_package[p.id] = found
    record = after_sales.get(order.id)
    return OrderSnapshot(order, now, by_package,
                         record if isinstance(record, AfterSalesRecord) else AfterSalesRecord(order.id))


# -- the JSON, field for field as the GraphQL documents in bench/workloads.py ask -------------------


def _money(view: OrderView, money: Any) -> Json:
    return {"formatted": view.market.money(money)}


def _steps(steps: Iterable[TrackerStep]) -> list[Json]:
    return [{"kind": s.kind.value, "label": s.label, "state": s.state.value, "time": s.time,
             "description": s.description} for s in steps]


def _line_item(item: LineItem) -> Json:
    return {"id": item.id, "name": item.first.product_name}


def _package(view: OrderView, p: PackageView) -> Json:
    record, eta, split = p.record, p.eta, p.split
    return {
        "id": p.id, "number": p.number, "status": p.status.value,
        "statusLabel": view.market.word(PACKAGE_LABELS[p.status]),
        "carrier": {"name": record.carrier_name or record.carrier_slug} if record.carrier_slug else None,
        "trackingNumber": record.tracking_number,
        "trackingUrl": p.tracking.link if p.tracking else None,
        "items": [{"quantity": c.quantity, "lineItem": {"id": c.item.id, "name": c.item.first.product_name,
                                                         "imageUrl": c.item.first.image_url}}
                  for c in count_by_item(view.items, (u.id for u in p.units))],
        "eta": None if eta is None else {"earliest": eta.earliest, "latest": eta.latest, "revised": eta.revised,
                                         "originalDate": eta.original},
        "split": None if split is None else {"reason": split.reason.value, "explanation": split.explanation},
        "tracker": _steps(view.tracker(p)),
    }


def _alert(a: Alert) -> Json:
    return {"kind": a.kind.value, "severity": a.severity.value, "packageId": a.package_id, "title": a.title,
            "cause": a.cause, "nextStep": a.next_step, "suggestedAction": a.suggestion.value,
            "revisedDate": a.revised_date}


def _action(view: OrderView, a: Action) -> Json:
    return {
        "kind": a.kind.value, "label": view.market.word(a.label), "available": a.available, "message": a.message,
        "unavailableReason": a.unavailable.value if a.unavailable else None, "deadline": a.deadline,
        "requiresApproval": a.requires_approval, "alternative": a.alternative.value if a.alternative else None,
        "items": [{"quantity": i.quantity, "deadline": i.deadline, "note": i.note, "lineItem": _line_item(i.item),
                   "reasons": [{"code": o.rule.reason.value, "label": o.rule.label, "deadline": o.deadline}
                               for o in i.reasons]} for i in a.items],
    }


def order_page_json(view: OrderView) -> Json:
    order, summary = view.snapshot.order, view.summary
    status, label = view.display
    return {
        "id": view.id, "placedAt": order.placed_at, "status": view.status.value, "displayStatus": status.value,
        "statusLabel": label, "seller": {"name": order.shop_name}, "totals": {"total": _money(view, order.total)},
        "lineItems": [{"id": i.id, "name": i.first.product_name, "variant": i.first.sku_name,
                       "imageUrl": i.first.image_url, "quantity": i.quantity,
                       "unitPrice": _money(view, i.unit_price)} for i in view.items],
        "tracker": {"headline": summary.headline, "totalPackages": summary.total,
                    "shippedPackages": summary.shipped, "deliveredPackages": summary.delivered,
                    "steps": _steps(summary.steps)},
        "packages": [_package(view, p) for p in view.packages],
        "alerts": [_alert(a) for a in view.alerts],
        "afterSalesActions": [_action(view, a) for a in view.actions],
    }


def history_node_json(view: OrderView) -> Json:
    order = view.snapshot.order
    status, label = view.display
    return {
        "id": view.id, "placedAt": order.placed_at, "displayStatus": status.value, "statusLabel": label,
        "seller": {"name": order.shop_name}, "totals": {"total": _money(view, order.total)},
        "lineItems": [{"name": i.first.product_name, "imageUrl": i.first.image_url, "quantity": i.quantity}
                      for i in view.items],
        "tracker": {"headline": view.summary.headline},
    }


def _cursor(token: str | None, size: int, offset: int, fingerprint: str) -> str:
    """The gateway's history cursor (gateway/history.py), so the two answers are byte-for-byte equal."""
    return base64.urlsafe_b64encode(orjson.dumps([token, size, offset, fingerprint])).decode().rstrip("=")


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()[:16]


# -- the two operations ------------------------------------------------------------------------------


class Floor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tokens = TokenSettings(secret=settings.jwt_secret, issuer=settings.jwt_issuer,
                                    audience=settings.jwt_audience, algorithms=settings.jwt_algorithms,
                                    leeway=settings.jwt_leeway, public_key=settings.jwt_public_key or None)
        self.upstreams: Upstreams | None = None

    def now(self) -> datetime:
        return self.settings.clock or datetime.now(UTC)

    async def order_page(self, viewer: Viewer, order_id: str) -> Json:
        up = self.upstreams
        assert up is not None
        after_sales = asyncio.ensure_future(up.after_sales([order_id]))
        orders = await up.get_orders([order_id])
        order = orders.get(order_id)
        if not isinstance(order, OrderRecord) or not viewer.can_see(order):
            after_sales.cancel()
            return {"data": {"order": None}, "errors": [{"message": f"order {order_id} not found",
                                                         "path": ["order"], "extensions": {"code": "NOT_FOUND"}}]}
        trackings = await up.trackings(_keys([order]))
        view = OrderView(_snapshot(order, self.now(), trackings, await after_sales))
        return {"data": {"order": order_page_json(view)}}

    async def history(self, viewer: Viewer, first: int) -> Json:
        up = self.upstreams
        assert up is not None
        if viewer.role is not Role.BUYER:
            return {"data": None, "errors": [{"message": "only a buyer can ask for this"}]}
        size = min(first + 1, 100)
        rows, next_token = await up.search(viewer.subject, size)
        examined = rows[:first]
        trackings, after_sales = await asyncio.gather(up.trackings(_keys(examined)),
                                                      up.after_sales([o.id for o in examined]))
        now = self.now()
        key = _fingerprint("buyer", viewer.subject, [], None, None)
        edges = []
        for i, order in enumerate(examined):
            if viewer.can_see(order):
                view = OrderView(_snapshot(order, now, trackings, after_sales))
                edges.append({"cursor": _cursor(None, size, i, key), "node": history_node_json(view)})
        more = len(edges) == first and (len(rows) > len(examined) or next_token is not None)
        return {"data": {"orders": {"edges": edges, "pageInfo": {
            "hasNextPage": more, "endCursor": edges[-1]["cursor"] if edges else None}}}}

    async def handle(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        try:
            token = bearer(request.headers.get("Authorization"))
            if token is None:
                raise Unauthenticated("a bearer token is required")
            viewer = verify(token, self.tokens)
            variables = body.get("variables") or {}
            operation = body.get("operationName")
            if operation == "OrderPage":
                answer = await self.order_page(viewer, str(variables["id"]))
            elif operation == "History":
                answer = await self.history(viewer, int(variables.get("first", 10)))
            else:
                return web.Response(status=400, text=f"the floor only answers OrderPage and History, not {operation}")
        except GatewayError as error:
            answer = {"data": None, "errors": [{"message": error.message, "extensions": error.extensions}]}
        return web.Response(body=orjson.dumps(answer), content_type="application/json")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/graphql", self.handle)

        async def health(_: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app.router.add_get("/healthz", health)

        async def lifespan(_: web.Application) -> Any:
            self.upstreams = Upstreams(self.settings)
            yield
            await self.upstreams.close()

        app.cleanup_ctx.append(lifespan)
        return app


def main() -> None:
    import uvloop

    settings = Settings.from_env()
    uvloop.install()
    web.run_app(Floor(settings).app(), host=settings.host, port=settings.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
