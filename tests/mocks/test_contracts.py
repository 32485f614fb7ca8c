"""Contract tests: real answers from the running mocks, validated against mocks/openapi/*.yaml.

Every exchange goes through openapi-core (request parameters and body, response status, headers and
body schema, formats included). The documents use ``additionalProperties: false`` on the mocks' own
objects, so a field added, renamed or retyped in a mock fails here until the document says so.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import pytest
from openapi_spec_validator import validate as validate_spec

from mocks import aftersales_service, orders_service
from mocks.catalog import SCENARIOS, build_world
from mocks.catalog.reasons import CANCEL_REASONS, RETURN_REASONS
from mocks.catalog.story import CARRIER_NAMES, PACKAGE_STATUS, SUBTAG_MESSAGES
from mocks.control import MALFORMED_KINDS, Fault
from tests.mocks.conftest import GENERATED
from tests.mocks.contract import (
    DOCUMENTS,
    Contract,
    ContractError,
    cancel_id,
    combined_id,
    document,
    enum_of,
    return_id,
)
from tests.upstreams import SERVICES, TEST_NOW, MockUpstreams

T = TypeVar("T")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
SCENARIO_IDS = [s.id for s in SCENARIOS]
WORLD = build_world(TEST_NOW)
BIG = 1024 * 1024 + 64  # over the mocks' 1 MiB client_max_size


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def tracking_path(order_id: str, n: int = 0) -> str:
    pkg = [p for p in WORLD.orders[order_id]["packages"] if p["tracking_number"]][n]
    return f"/trackings/{pkg['shipping_provider_id']}/{pkg['tracking_number']}"


def documented_operations(name: str) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document(name)["paths"].items()
            for method in item if method in HTTP_METHODS}


def documented_statuses(name: str) -> set[tuple[str, str, str, str]]:
    return {(name, method, path, str(status)) for path, item in document(name)["paths"].items()
            for method, op in item.items() if method in HTTP_METHODS for status in op["responses"]}


class Collector:
    """Runs many contract checks and reports every failure at once."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.failures: list[str] = []

    async def call(self, service: str, method: str, target: str, *, json: Any = None,
                   expect: int = 200) -> Any:
        try:
            exchange = await self.contract.call(service, method, target, json=json)
        except ContractError as exc:
            self.failures.append(str(exc))
            return None
        if exchange.status != expect:
            self.failures.append(f"{method} {service}{target}: wanted {expect}, got {exchange!r}")
            return None
        return exchange.body

    def assert_clean(self) -> None:
        assert not self.failures, f"{len(self.failures)} contract failures:\n" + "\n".join(self.failures[:20])


# ---- the documents themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_document_is_a_valid_openapi_3_1_document(name: str) -> None:
    doc = document(name)
    assert doc["openapi"].startswith("3.1.")
    validate_spec(doc)


def _object_schemas(node: Any, where: str) -> Iterable[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        if "object" in types and "properties" in node:
            yield where, node
        for key, value in node.items():
            yield from _object_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _object_schemas(value, f"{where}/{i}")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_object_the_mocks_define_is_closed(name: str) -> None:
    open_objects = [where for where, schema in _object_schemas(document(name), name)
                    if schema.get("additionalProperties") is not False]
    assert open_objects == []


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_operation_documents_its_statuses_and_has_an_id(name: str) -> None:
    for path, item in document(name)["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            assert op.get("operationId"), (method, path)
            statuses = set(op["responses"])
            assert any(s.startswith("2") for s in statuses), (method, path)
            if name != "control":
                # Faults can be injected on every public route, and they say so.
                assert {"429", "5XX"} <= statuses, (method, path)
                if method == "post":
                    assert {"400", "413"} <= statuses, (method, path)


async def test_every_route_is_documented_and_every_documented_route_exists(mocks: MockUpstreams) -> None:
    for service in SERVICES:
        public: set[tuple[str, str]] = set()
        control: set[tuple[str, str]] = set()
        for route in mocks.servers[service].app.router.routes():
            if route.method == "HEAD":
                continue
            path = route.resource.canonical if route.resource is not None else ""
            (control if path.startswith("/_control") else public).add((route.method.lower(), path))
        assert public == documented_operations(service), service
        assert control == documented_operations("control"), service


async def test_route_names_in_the_control_document_are_the_mocks_route_names(mocks: MockUpstreams) -> None:
    names = {route.name for service in SERVICES for route in mocks.servers[service].app.router.routes()
             if route.name}
    assert enum_of("control", "RouteName") == names | {"unknown"}


def test_vocabularies_in_the_documents_match_the_mocks() -> None:
    assert enum_of("orders", "OrderStatus") == orders_service.ORDER_STATUSES
    assert enum_of("orders", "PackageStatus") == set(PACKAGE_STATUS.values())
    assert enum_of("orders", "CarrierSlug") == set(CARRIER_NAMES) == enum_of("carrier", "Slug")
    assert enum_of("orders", "CarrierName") == set(CARRIER_NAMES.values())
    assert enum_of("orders", "CancelReason") == set(CANCEL_REASONS) == enum_of("aftersales", "CancelReason")
    assert enum_of("aftersales", "ReturnReason") == set(RETURN_REASONS)
    assert enum_of("aftersales", "ReturnType") == aftersales_service.RETURN_TYPES
    statuses = aftersales_service.LIVE_RETURN | aftersales_service.OPEN_RETURN
    assert enum_of("aftersales", "ReturnStatus") >= statuses
    assert enum_of("aftersales", "CancelStatus") >= aftersales_service.LIVE_CANCEL
    assert set(SUBTAG_MESSAGES) <= enum_of("carrier", "Subtag")
    assert {s.split("_")[0] for s in enum_of("carrier", "Subtag")} == enum_of("carrier", "Tag")
    control = document("control")["components"]["schemas"]
    assert set(control["FaultSpec"]["properties"]["malformed"]["enum"]) == {*MALFORMED_KINDS, None}
    assert set(control["FaultSpec"]["properties"]) == set(Fault.__dataclass_fields__) - {"id", "hits"}
    assert set(control["Fault"]["required"]) == set(Fault.__dataclass_fields__)


# ---- named scenarios ------------------------------------------------------------------------------


async def test_every_named_scenario_through_the_single_item_routes(contract: Contract) -> None:
    check = Collector(contract)
    trackings = returns = cancellations = 0
    for oid in SCENARIO_IDS:
        body = await check.call("orders", "GET", f"/orders/{oid}")
        order = body["order"] if body else {"packages": []}
        for pkg in order["packages"]:
            if pkg["tracking_number"]:
                trackings += 1
                slug, number = pkg["shipping_provider_id"], pkg["tracking_number"]
                await check.call("carrier", "GET", f"/trackings/{slug}/{number}")
        record = await check.call("aftersales", "GET", f"/orders/{oid}/aftersales") or {}
        cancellations += len(record.get("cancellations", []))
        for ret in record.get("returns", []):
            returns += 1
            await check.call("aftersales", "GET", f"/returns/{ret['return_id']}")
    check.assert_clean()
    assert trackings == len(WORLD.trackings)
    assert (returns, cancellations) == (len(WORLD.returns), len(WORLD.cancellations))


async def test_every_named_scenario_through_the_batch_routes(contract: Contract) -> None:
    check = Collector(contract)
    orders: list[dict[str, Any]] = []
    for ids in chunks(SCENARIO_IDS, 49):
        body = await check.call("orders", "GET", "/orders?ids=" + ",".join([*ids, "ord-missing"]))
        assert [o["id"] for o in body["orders"]] == ids
        assert body["not_found"] == ["ord-missing"]
        orders += body["orders"]
    keys = [{"slug": p["shipping_provider_id"], "tracking_number": p["tracking_number"]}
            for o in orders for p in o["packages"] if p["tracking_number"]]
    missing = {"slug": "ups", "tracking_number": "1ZMISSING"}
    found = 0
    for batch in chunks(keys, 99):
        body = await check.call("carrier", "POST", "/trackings/batch_get",
                                json={"trackings": [*batch, missing]})
        assert [(t["slug"], t["tracking_number"]) for t in body["trackings"]] == [
            (k["slug"], k["tracking_number"]) for k in batch]
        assert body["not_found"] == [missing]
        found += len(body["trackings"])
    assert found == len(WORLD.trackings)
    returns = cancellations = 0
    for ids in chunks(SCENARIO_IDS, 50):
        body = await check.call("aftersales", "POST", "/aftersales/batch_get", json={"order_ids": ids})
        assert [entry["order_id"] for entry in body["orders"]] == ids
        returns += sum(len(entry["returns"]) for entry in body["orders"])
        cancellations += sum(len(entry["cancellations"]) for entry in body["orders"])
    assert (returns, cancellations) == (len(WORLD.returns), len(WORLD.cancellations))
    check.assert_clean()


async def test_search_pages_for_every_demo_buyer_and_shop_conform(contract: Contract) -> None:
    check = Collector(contract)
    owners = [("buyer_user_id", b) for b in sorted({o["buyer_user_id"] for o in WORLD.orders.values()})]
    owners += [("shop_id", s) for s in sorted({o["shop_id"] for o in WORLD.orders.values()})]
    for field, value in owners:
        expected = sorted((o for o in WORLD.orders.values() if o[field] == value),
                          key=lambda o: (-o["create_time"], o["id"]))
        seen: list[str] = []
        token = None
        while True:
            body = await check.call("orders", "POST", "/orders/search",
                                    json={field: value, "page_size": 4, "page_token": token})
            seen += [o["id"] for o in body["orders"]]
            assert body["total_count"] == len(expected)
            token = body["next_page_token"]
            if token is None:
                break
        assert seen == [o["id"] for o in expected], value
    now = int(TEST_NOW.timestamp())
    body = await check.call("orders", "POST", "/orders/search", json={
        "buyer_user_id": "buyer-us-alice", "order_status": ["IN_TRANSIT", "DELIVERED"],
        "create_time_ge": now - 10 * 86400, "create_time_lt": now})
    assert body["orders"] and {o["status"] for o in body["orders"]} <= {"IN_TRANSIT", "DELIVERED"}
    check.assert_clean()


# ---- generated data -------------------------------------------------------------------------------


async def test_a_seeded_sample_of_generated_orders_with_their_trackings_and_aftersales(
    big_mocks: MockUpstreams,
) -> None:
    check = Collector(Contract(big_mocks))
    sample = sorted(random.Random(20261120).sample([f"ord-g-{i:06d}" for i in range(1, GENERATED + 1)], 150))
    orders: list[dict[str, Any]] = []
    for ids in chunks(sample, 50):
        body = await check.call("orders", "GET", "/orders?ids=" + ",".join(ids))
        assert body["not_found"] == []
        orders += body["orders"]
    for oid in sample[:20]:
        await check.call("orders", "GET", f"/orders/{oid}")
    keys = [{"slug": p["shipping_provider_id"], "tracking_number": p["tracking_number"]}
            for o in orders for p in o["packages"] if p["tracking_number"]]
    for batch in chunks(keys, 100):
        body = await check.call("carrier", "POST", "/trackings/batch_get", json={"trackings": batch})
        assert body["not_found"] == []
    for key in keys[:20]:
        await check.call("carrier", "GET", f"/trackings/{key['slug']}/{key['tracking_number']}")
    returns: list[dict[str, Any]] = []
    cancellations = 0
    for ids in chunks(sample, 50):
        body = await check.call("aftersales", "POST", "/aftersales/batch_get", json={"order_ids": ids})
        returns += [r for entry in body["orders"] for r in entry["returns"]]
        cancellations += sum(len(entry["cancellations"]) for entry in body["orders"])
    for ret in returns:
        await check.call("aftersales", "GET", f"/returns/{ret['return_id']}")
    for oid in sample[:20]:
        await check.call("aftersales", "GET", f"/orders/{oid}/aftersales")
    # The sample is big enough to mean something.
    assert len({o["status"] for o in orders}) >= 7
    assert len(keys) > 100 and len(returns) > 5 and cancellations > 2
    # A demo buyer's long history pages through generated orders too.
    token, pages = None, 0
    while True:
        query = {"buyer_user_id": "buyer-uk-olivia", "page_size": 10, "page_token": token}
        body = await check.call("orders", "POST", "/orders/search", json=query)
        pages += 1
        token = body["next_page_token"]
        if token is None:
            break
    assert pages > 2
    check.assert_clean()


# ---- writes ---------------------------------------------------------------------------------------

RETURN = "ecom_order_delivered_refund_and_return_reason_"
ALICE, THREADLINE, HEARTH = "buyer-us-alice", "shop-us-threadline", "shop-us-hearth-home"
ADDRESS = {"name": "Alice Johnson", "phone_number": "+1 217 555 0142", "address_line1": "9 Elm Court",
           "address_line2": "Apt 2", "city": "Springfield", "state": "IL", "postal_code": "62701",
           "region_code": "US"}


async def test_every_write_route_answers_its_documented_success(contract: Contract) -> None:
    async def write(service: str, path: str, body: dict[str, Any], status: int, key: str) -> dict[str, Any]:
        headers = {"Idempotency-Key": key}
        first = await contract.call(service, "POST", path, json=body, headers=headers, expect=status)
        again = await contract.call(service, "POST", path, json=body, headers=headers, expect=status)
        assert again.headers.get("Idempotent-Replayed") == "true" and again.body == first.body
        assert "Idempotent-Replayed" not in first.headers
        result: dict[str, Any] = first.body
        return result

    # Create a return: the shop auto-approves RETURN_AND_REFUND, so a label is issued at once.
    created = (await write("aftersales", "/returns", {
        "order_id": "ord-us-delivered", "buyer_user_id": ALICE, "return_type": "RETURN_AND_REFUND",
        "return_reason": RETURN + "damaged", "order_line_item_ids": ["ord-us-delivered-l1"],
        "buyer_note": "Cracked", "handover_method": "PICKUP"}, 201, "w-create"))["return"]
    assert created["return_status"] == "AWAITING_BUYER_SHIP" and created["return_tracking_number"]
    # Add a line to an approved parcel that has not shipped back yet: same label.
    group = WORLD.returns[return_id("ord-us-return-in-progress")]
    joined = (await write("aftersales", "/returns", {
        "order_id": "ord-us-return-in-progress", "buyer_user_id": ALICE, "return_type": "RETURN_AND_REFUND",
        "return_reason": RETURN + "wrong_item", "order_line_item_ids": ["ord-us-return-in-progress-l3"],
        "combined_return_id": group["combined_return_id"]}, 201, "w-combine"))["return"]
    assert joined["combined_return_id"] == group["combined_return_id"]
    assert joined["return_tracking_number"] == group["return_tracking_number"]
    # The buyer withdraws a return.
    withdrawn = (await write("aftersales", f"/returns/{created['return_id']}/cancel",
                             {"buyer_user_id": ALICE}, 200, "w-cancel"))["return"]
    assert withdrawn["return_status"] == "RETURN_OR_REFUND_REQUEST_CANCEL"
    # The seller approves a pending refund, and rejects a pending replacement.
    approved = (await write("aftersales", f"/returns/{return_id('ord-us-not-received')}/approve",
                            {"shop_id": THREADLINE}, 200, "w-approve"))["return"]
    assert approved["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS" and approved["approve_time"]
    replacement = (await write("aftersales", "/returns", {
        "order_id": "ord-us-delivered", "buyer_user_id": ALICE, "return_type": "REPLACEMENT",
        "return_reason": RETURN + "defective", "order_line_item_ids": ["ord-us-delivered-l2"]},
        201, "w-replacement"))["return"]
    assert replacement["return_status"] == "REPLACEMENT_REQUEST_PENDING"
    rejected = (await write("aftersales", f"/returns/{replacement['return_id']}/reject",
                            {"shop_id": THREADLINE, "reject_reason": "Item shows wear"}, 200,
                            "w-reject"))["return"]
    assert rejected["reject_reason"] == "Item shows wear"
    # Cancellations: a buyer's request after the free hour waits for the seller, who approves it.
    pending = (await write("aftersales", "/cancellations", {
        "order_id": "ord-us-awaiting-shipment", "role": "BUYER", "buyer_user_id": ALICE,
        "cancel_reason": "cancel_reason_dont_want_to_wait"}, 201, "w-cxl"))["cancellation"]
    assert pending["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    assert [a["action"] for a in pending["seller_next_action_response"]] == ["SELLER_RESPOND_CANCEL"]
    done = (await write("aftersales", f"/cancellations/{pending['cancel_id']}/approve",
                        {"shop_id": HEARTH}, 200, "w-cxl-approve"))["cancellation"]
    assert done["cancel_status"] == "CANCELLATION_REQUEST_COMPLETE"
    turned_down = (await write("aftersales", f"/cancellations/{cancel_id('ord-us-cancel-requested')}/reject",
                               {"shop_id": HEARTH, "reject_reason": "Already packed"}, 200, "w-cxl-reject"))
    assert turned_down["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_CANCEL"
    # A seller cancels one line; an unpaid order is cancelled at once with nothing to refund.
    line = (await write("aftersales", "/cancellations", {
        "order_id": "ord-us-split-backorder", "role": "SELLER", "shop_id": THREADLINE,
        "cancel_reason": "cancel_reason_out_of_stock", "order_line_item_ids": ["ord-us-split-backorder-l2"]},
        201, "w-cxl-line"))["cancellation"]
    assert line["cancel_status"] == "CANCELLATION_REQUEST_COMPLETE" and len(line["cancel_line_items"]) == 1
    unpaid = (await write("aftersales", "/cancellations", {
        "order_id": "ord-us-awaiting-payment", "role": "BUYER", "buyer_user_id": ALICE,
        "cancel_reason": "cancel_reason_mistake"}, 201, "w-cxl-unpaid"))["cancellation"]
    assert unpaid["refund_amount"]["refund_total"] == "0.00"
    # Change the shipping address before anything ships.
    order = (await write("orders", "/orders/ord-us-awaiting-shipment/recipient_address", ADDRESS, 200,
                         "w-address"))["order"]
    assert order["recipient_address"] == ADDRESS and order["has_updated_recipient_address"] is True
    assert order["update_time"] == int(TEST_NOW.timestamp())
    # And everything written reads back in the documented shapes.
    for oid in ("ord-us-delivered", "ord-us-return-in-progress", "ord-us-not-received",
                "ord-us-awaiting-shipment", "ord-us-cancel-requested", "ord-us-split-backorder"):
        await contract.call("aftersales", "GET", f"/orders/{oid}/aftersales", expect=200)
    await contract.call("orders", "GET", "/orders/ord-us-awaiting-shipment", expect=200)


# ---- every documented status ----------------------------------------------------------------------

AS = "aftersales"
# (service, method, path template, concrete target, route name for faults, a body the route accepts)
OPERATIONS: list[tuple[str, str, str, str, str, dict[str, Any] | None]] = [
    ("orders", "GET", "/health", "/health", "orders.health", None),
    ("orders", "GET", "/orders", "/orders?ids=ord-us-in-transit", "orders.batch", None),
    ("orders", "GET", "/orders/{order_id}", "/orders/ord-us-in-transit", "orders.get", None),
    ("orders", "POST", "/orders/search", "/orders/search", "orders.search", {"shop_id": THREADLINE}),
    ("orders", "POST", "/orders/{order_id}/recipient_address", "/orders/ord-uk-on-hold/recipient_address",
     "orders.update_address",
     {**ADDRESS, "region_code": "GB", "postal_code": "M2 5DB", "city": "Manchester"}),
    ("carrier", "GET", "/health", "/health", "carrier.health", None),
    ("carrier", "GET", "/trackings/{slug}/{tracking_number}", tracking_path("ord-us-in-transit"),
     "trackings.get", None),
    ("carrier", "POST", "/trackings/batch_get", "/trackings/batch_get", "trackings.batch",
     {"trackings": [{"slug": "ups", "tracking_number": "1ZMISSING"}]}),
    (AS, "GET", "/health", "/health", "aftersales.health", None),
    (AS, "POST", "/aftersales/batch_get", "/aftersales/batch_get", "aftersales.batch",
     {"order_ids": ["ord-uk-batch-return"]}),
    (AS, "GET", "/orders/{order_id}/aftersales", "/orders/ord-uk-refunded/aftersales", "aftersales.order",
     None),
    (AS, "GET", "/orders/{order_id}/aftersale_eligibility", "/orders/ord-us-split-custom/aftersale_eligibility",
     "aftersales.eligibility", None),
    (AS, "POST", "/returns", "/returns", "returns.create", {
        "order_id": "ord-uk-delivered", "buyer_user_id": "buyer-uk-olivia", "return_type": "REFUND",
        "return_reason": RETURN + "no_need", "order_line_item_ids": ["ord-uk-delivered-l1"]}),
    (AS, "POST", "/returns/batch_create", "/returns/batch_create", "returns.batch_create", {
        "order_id": "ord-uk-harry-delivered", "buyer_user_id": "buyer-uk-harry", "return_type": "REFUND",
        "groups": [{"return_reason": RETURN + "too_big", "order_line_item_ids": ["ord-uk-harry-delivered-l1"]},
                   {"return_reason": RETURN + "quality", "order_line_item_ids": ["ord-uk-harry-delivered-l2"],
                    "buyer_note": "Thin fabric"}]}),
    (AS, "POST", "/combined_returns/{combined_id}/{action}",
     f"/combined_returns/{combined_id('ord-us-return-in-progress')}/cancel", "returns.combined_action",
     {"buyer_user_id": ALICE}),
    (AS, "GET", "/returns/{return_id}", f"/returns/{return_id('ord-uk-refunded')}", "returns.get", None),
    (AS, "POST", "/returns/{return_id}/cancel", f"/returns/{return_id('ord-uk-return-in-progress')}/cancel",
     "returns.cancel", {"buyer_user_id": "buyer-uk-olivia"}),
    (AS, "POST", "/returns/{return_id}/approve", f"/returns/{return_id('ord-uk-not-received')}/approve",
     "returns.approve", {"shop_id": "shop-uk-kettle-tea"}),
    (AS, "POST", "/returns/{return_id}/reject", f"/returns/{return_id('ord-us-not-received')}/reject",
     "returns.reject", {"shop_id": THREADLINE, "reject_reason": "Carrier photo shows it at the door"}),
    (AS, "POST", "/cancellations", "/cancellations", "cancellations.create", {
        "order_id": "ord-uk-awaiting-shipment", "role": "BUYER", "buyer_user_id": "buyer-uk-olivia",
        "cancel_reason": "cancel_reason_no_longer_needed"}),
    (AS, "POST", "/cancellations/{cancel_id}/approve", f"/cancellations/{cancel_id('ord-us-cancel-requested')}/approve",
     "cancellations.approve", {"shop_id": HEARTH}),
    (AS, "POST", "/cancellations/{cancel_id}/reject", f"/cancellations/{cancel_id('ord-us-cancel-requested')}/reject",
     "cancellations.reject", {"shop_id": HEARTH, "reject_reason": "Already packed"}),
]
OP = {(service, method, template): (target, route, body)
      for service, method, template, target, route, body in OPERATIONS}
CREATE_RETURN = OP[AS, "POST", "/returns"][2]
BATCH_RETURN = OP[AS, "POST", "/returns/batch_create"][2]
COMBINED = "/combined_returns/{combined_id}/{action}"

class StatusProbe:
    """Sends requests, checks each answer against the contract, and records the statuses produced."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.seen: set[tuple[str, str, str, str]] = set()

    async def hit(self, service: str, method: str, template: str, status: int | None, *,
                  target: str | None = None, json: Any = None, data: bytes | None = None,
                  headers: dict[str, str] | None = None, doc: str | None = None,
                  check_request: bool = False) -> Any:
        target = target or OP[service, method, template][0]
        exchange = await self.contract.raw(service, method, target, json=json, data=data, headers=headers)
        self.contract.check(exchange, document_name=doc, request=check_request)
        if status is not None:
            assert exchange.status == status, exchange
        key = "5XX" if exchange.status >= 500 else str(exchange.status)
        self.seen.add((doc or service, method.lower(), template, key))
        return exchange

    async def control(self, method: str, path: str, status: int, *, target: str | None = None,
                      service: str = "orders", **kwargs: Any) -> Any:
        return await self.hit(service, method, f"/_control/{path}", status,
                              target=target or f"/_control/{path}", doc="control", **kwargs)


async def test_every_documented_status_is_produced_and_conforms(contract: Contract,
                                                                 mocks: MockUpstreams) -> None:
    probe = StatusProbe(contract)
    hit = probe.hit

    # Injected faults (429 with Retry-After, and 5xx) and oversized bodies, on every public operation.
    for service, method, template, _, route, body in OPERATIONS:
        await mocks.fault(service, route=route, status=429, retry_after=3, times=1)
        throttled = await hit(service, method, template, 429, json=body)
        assert throttled.headers["Retry-After"] == "3"
        await mocks.fault(service, route=route, status=503, times=1)
        await hit(service, method, template, 503, json=body)
        if method == "POST":
            await hit(service, method, template, 413, data=b'{"pad": "' + b"x" * BIG + b'"}')

    # Successes, in an order that leaves each conflict ready to provoke.
    for service, method, template, _, _, body in OPERATIONS:
        if template == "/cancellations/{cancel_id}/reject":
            continue  # its pending cancellation is approved here; a fresh one is rejected below
        expected = 201 if template in ("/returns", "/returns/batch_create", "/cancellations") else 200
        await hit(service, method, template, expected, json=body, check_request=True)
    fresh = await hit(AS, "POST", "/cancellations", 201, check_request=True, json={
        "order_id": "ord-us-split-custom", "role": "BUYER", "buyer_user_id": ALICE,
        "cancel_reason": "cancel_reason_better_price", "order_line_item_ids": ["ord-us-split-custom-l1"]})
    assert fresh.body["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    fresh_id = fresh.body["cancellation"]["cancel_id"]
    reject = ("/cancellations/{cancel_id}/reject", f"/cancellations/{fresh_id}/reject")
    printworks = "shop-us-printworks"
    await hit(AS, "POST", reject[0], 400, target=reject[1], json={"shop_id": printworks})
    await hit(AS, "POST", reject[0], 200, target=reject[1], check_request=True,
              json={"shop_id": printworks, "reject_reason": "Already collected"})

    # 400s.
    await hit("orders", "GET", "/orders", 400, target="/orders")
    await hit("orders", "GET", "/orders", 400, target="/orders?ids=" + ",".join(f"o{i}" for i in range(51)))
    await hit("orders", "POST", "/orders/search", 400, json={"buyer_user_id": ALICE, "shop_id": THREADLINE})
    await hit("orders", "POST", "/orders/{order_id}/recipient_address", 400, json={"address_line1": "1 High"})
    await hit("carrier", "POST", "/trackings/batch_get", 400, json={"trackings": []})
    await hit(AS, "POST", "/aftersales/batch_get", 400, json={"order_ids": [1]})
    await hit(AS, "POST", "/returns", 400, json={**CREATE_RETURN, "return_type": "EXCHANGE"})
    for template in ("/returns/{return_id}/cancel", "/returns/{return_id}/approve",
                     "/returns/{return_id}/reject", "/cancellations", "/cancellations/{cancel_id}/approve",
                     "/returns/batch_create", COMBINED):
        await hit(AS, "POST", template, 400, data=b"[1, 2]")
    await hit(AS, "POST", "/returns/{return_id}/reject", 400, data=b"{not json",
              target=f"/returns/{return_id('ord-uk-not-received')}/reject")

    # 404s.
    await hit("orders", "GET", "/orders/{order_id}", 404, target="/orders/ord-missing")
    await hit("orders", "POST", "/orders/{order_id}/recipient_address", 404,
              target="/orders/ord-missing/recipient_address", json=ADDRESS)
    await hit("carrier", "GET", "/trackings/{slug}/{tracking_number}", 404, target="/trackings/ups/1ZMISSING")
    await hit(AS, "GET", "/orders/{order_id}/aftersales", 404, target="/orders/ord-missing/aftersales")
    await hit(AS, "GET", "/orders/{order_id}/aftersale_eligibility", 404,
              target="/orders/ord-missing/aftersale_eligibility")
    await hit(AS, "GET", "/returns/{return_id}", 404, target="/returns/ret-missing")
    await hit(AS, "POST", "/returns", 404, json={**CREATE_RETURN, "order_id": "ord-missing"})
    await hit(AS, "POST", "/returns/batch_create", 404, json={**BATCH_RETURN, "order_id": "ord-missing"})
    await hit(AS, "POST", COMBINED, 404, target="/combined_returns/cmb-missing/cancel", json={"buyer_user_id": ALICE})
    for template, target, body in (
        ("/returns/{return_id}/cancel", "/returns/ret-missing/cancel", {"buyer_user_id": ALICE}),
        ("/returns/{return_id}/approve", f"/returns/{return_id('ord-us-return-in-progress')}/approve",
         {"shop_id": "shop-x"}),
        ("/returns/{return_id}/reject", "/returns/ret-missing/reject",
         {"shop_id": THREADLINE, "reject_reason": "x"}),
        ("/cancellations", "/cancellations", {"order_id": "ord-us-on-hold", "role": "BUYER",
                                              "buyer_user_id": "buyer-us-bob",
                                              "cancel_reason": "package_lost"}),
        ("/cancellations/{cancel_id}/approve", "/cancellations/cxl-missing/approve", {"shop_id": HEARTH}),
        ("/cancellations/{cancel_id}/reject", "/cancellations/cxl-missing/reject",
         {"shop_id": HEARTH, "reject_reason": "x"}),
    ):
        await hit(AS, "POST", template, 404, target=target, json=body)

    # 409s: each route's own conflict, and a reused Idempotency-Key.
    await hit("orders", "POST", "/orders/{order_id}/recipient_address", 409,
              target="/orders/ord-us-in-transit/recipient_address", json=ADDRESS)
    await hit(AS, "POST", "/returns", 409, json=CREATE_RETURN)  # the same line again
    await hit(AS, "POST", "/returns/batch_create", 409, json=BATCH_RETURN)
    await hit(AS, "POST", COMBINED, 409, json={"buyer_user_id": ALICE})  # nothing left to withdraw
    await hit(AS, "POST", "/returns/{return_id}/cancel", 409,
              target=f"/returns/{return_id('ord-uk-batch-return')}/cancel", json={"buyer_user_id": "buyer-uk-olivia"})
    # What a line's stage does not allow: sending back what has not arrived, cancelling what has shipped.
    not_eligible = [
        await hit(AS, "POST", "/returns", 409, json={**CREATE_RETURN, "order_id": "ord-uk-in-transit",
                                                     "order_line_item_ids": ["ord-uk-in-transit-l1"]}),
        await hit(AS, "POST", "/returns/batch_create", 409, json={
            **BATCH_RETURN, "order_id": "ord-uk-in-transit", "buyer_user_id": "buyer-uk-olivia",
            "groups": [{"return_reason": RETURN + "too_big", "order_line_item_ids": ["ord-uk-in-transit-l1"]}]}),
        await hit(AS, "POST", "/cancellations", 409, json={**OP[AS, "POST", "/cancellations"][2],
                                                           "order_id": "ord-uk-delivered"}),
    ]
    assert {e.body["error"]["code"] for e in not_eligible} == {"NOT_ELIGIBLE"}
    for service, method, template, _, _, body in OPERATIONS:
        if template in ("/returns/{return_id}/approve", "/returns/{return_id}/reject",
                        "/cancellations/{cancel_id}/approve", "/cancellations"):
            await hit(service, method, template, 409, json=body)  # no longer pending, or already requested
    await hit(AS, "POST", reject[0], 409, target=reject[1],
              json={"shop_id": printworks, "reject_reason": "Again"})
    on_hold = "/orders/ord-us-on-hold/recipient_address"
    await hit("orders", "POST", "/orders/{order_id}/recipient_address", 200, target=on_hold, json=ADDRESS,
              headers={"Idempotency-Key": "k"})
    reused = await hit("orders", "POST", "/orders/{order_id}/recipient_address", 409, target=on_hold,
                       json={**ADDRESS, "city": "Chicago"}, headers={"Idempotency-Key": "k"})
    assert reused.body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"

    # The control plane, on each service.
    for service in SERVICES:
        await probe.control("GET", "counters", 200, service=service)
        await probe.control("GET", "requests", 200, service=service, target="/_control/requests?limit=5",
                            check_request=True)
        await probe.control("GET", "clock", 200, service=service)
    await probe.control("GET", "requests", 400, target="/_control/requests?limit=many")
    fault = {"route": "orders.get", "key": "ord-us-lost", "latency_ms": 5, "times": 2}
    added = await probe.control("POST", "faults", 201, check_request=True, json=fault)
    await probe.control("POST", "faults", 400, json={"latency": 5})
    await probe.control("GET", "faults", 200)
    await probe.control("DELETE", "faults/{fault_id}", 200, target=f"/_control/faults/{added.body['id']}")
    await probe.control("DELETE", "faults/{fault_id}", 404, target="/_control/faults/f999")
    await probe.control("DELETE", "faults", 200)
    await probe.control("DELETE", "counters", 200)
    await probe.control("PUT", "clock", 200, json={"now": "2026-12-01T08:30:00+00:00"}, check_request=True)
    await probe.control("PUT", "clock", 400, json={"now": "soon"})
    await probe.control("POST", "reset", 200)

    documented = set().union(*(documented_statuses(name) for name in DOCUMENTS))
    assert documented - probe.seen == set()
    assert probe.seen <= documented


# ---- the checker itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(("mutation", "expected"), [
    (lambda o: o.update(gift_wrap=True), "Additional properties"),
    (lambda o: o["payment"].update(total_amount="12.5"), "does not match"),
    (lambda o: o.update(paid_time="2026-11-20T12:00:00Z"), "is not of type"),
    (lambda o: o.update(status=None), "None"),
    (lambda o: o["line_items"][0].pop("display_status"), "required property"),
    (lambda o: o["packages"][0].update(signature_type="SIGNATURE"), "is not one of"),
    (lambda o: o.update(create_time=-1), "minimum"),
])
async def test_the_contract_check_catches_drift(contract: Contract, mutation: Any, expected: str) -> None:
    exchange = await contract.call("orders", "GET", "/orders/ord-us-in-transit", expect=200)
    body = exchange.body
    mutation(body["order"])
    exchange.raw = json.dumps(body).encode()
    violations = contract.violations(exchange)
    assert violations and expected in " ".join(violations), violations


async def test_the_contract_check_rejects_an_undocumented_status(contract: Contract) -> None:
    exchange = await contract.call("orders", "GET", "/orders/ord-us-in-transit", expect=200)
    exchange.status = 418
    assert contract.violations(exchange)
