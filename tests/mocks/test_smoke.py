from __future__ import annotations

from tests.upstreams import MockUpstreams


async def test_each_service_answers_its_health_route(mocks: MockUpstreams) -> None:
    for service in ("orders", "carrier", "aftersales"):
        status, body = await mocks.call(service, "GET", "/health")
        assert (status, body["service"]) == (200, service)


async def test_unknown_order_is_a_404_in_the_shared_error_shape(mocks: MockUpstreams) -> None:
    status, body = await mocks.call("orders", "GET", "/orders/ord-does-not-exist")
    assert status == 404
    assert body["error"]["code"] == "NOT_FOUND"
