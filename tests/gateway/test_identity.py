"""Who may see what: bearer tokens verified, roles enforced, other people's orders answered as unknown ids."""

from __future__ import annotations

import time
import warnings
from typing import Any

import jwt
import pytest

from gateway.auth import Role
from mocks.catalog import build_world
from tests.harness import ALICE, BOB, OLIVIA, Gateway
from tests.upstreams import TEST_NOW, MockUpstreams

THREADLINE = "shop-us-threadline"
SELLER = "seller-threadline"
ANOTHER_KEY = "not-the-gateway-secret-but-long-enough-0123456789"
WORLD = build_world(TEST_NOW)

PROTECTED = {
    "order": '{ order(id: "ord-us-in-transit") { id status } }',
    "orders": "{ orders(first: 5) { totalCount } }",
    "sellerOrders": "{ sellerOrders(first: 5) { totalCount } }",
    "viewer": "{ viewer { id role shopId } }",
}
ORDER = """query($id: ID!) { order(id: $id) {
  id status displayStatus seller { id } packages { id status trackingEvents { code } } afterSalesActions { kind }
} }"""
HISTORY = """query($after: String) { orders(first: 50, after: $after) {
  totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"""


def _claims(gw: Gateway, **changes: Any) -> dict[str, Any]:
    """Valid claims for Alice, issued now (the wall clock verify checks against); None removes a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": ALICE, "role": "buyer", "iss": gw.settings.jwt_issuer,
                              "aud": gw.settings.jwt_audience, "iat": now, "exp": now + 600}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(gw: Gateway, claims: dict[str, Any], key: str | None = None, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        # HS512 with the (HS256-sized) gateway secret: PyJWT warns about the key length; that is the point.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, key or gw.settings.jwt_secret, algorithm=algorithm)


async def _with_header(gw: Gateway, query: str, header: str, variables: dict[str, Any] | None = None
                       ) -> dict[str, Any]:
    response = await gw.post(query, variables, as_=None, headers={"Authorization": header})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def _without_id(body: dict[str, Any], order_id: str) -> dict[str, Any]:
    """The body with the asked-for id blanked out of error messages (the only place it may appear)."""
    errors = [{**e, "message": e["message"].replace(order_id, "<id>")} for e in body.get("errors", [])]
    return {**body, "errors": errors}


# -- no token, bad tokens ------------------------------------------------------------------------

@pytest.mark.parametrize("field", sorted(PROTECTED))
async def test_no_token_is_unauthenticated_and_costs_no_upstream_call(
        mocks: MockUpstreams, gateway: Gateway, field: str) -> None:
    response = await gateway.post(PROTECTED[field], as_=None)
    assert response.status_code == 200
    body = response.json()
    error = _only_error(body)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["path"] == [field]
    assert body["data"] is None or body["data"][field] is None
    for service in ("orders", "carrier", "aftersales"):
        assert await mocks.counters(service) == {}, service


@pytest.mark.parametrize("header", [
    "Token abc", "Basic dXNlcjpwYXNzd29yZA==", "Bearer", "Bearer    ", "Bearer not-a-jwt", "Bearer a.b.c",
    "Bearer eyJhbGciOiJIUzI1NiJ9.e30",
])
async def test_a_malformed_authorization_header_is_unauthenticated(gateway: Gateway, header: str) -> None:
    for field in ("viewer", "order"):
        body = await _with_header(gateway, PROTECTED[field], header)
        assert _only_error(body)["extensions"]["code"] == "UNAUTHENTICATED", (field, body)
        assert body["data"] is None or body["data"][field] is None


BAD_TOKENS = {
    "bad signature": lambda gw: _sign(gw, _claims(gw), key=ANOTHER_KEY),
    "expired": lambda gw: _sign(gw, _claims(gw, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
    "issued in the future": lambda gw: _sign(gw, _claims(gw, iat=int(time.time()) + 3600,
                                                         exp=int(time.time()) + 7200)),
    "wrong audience": lambda gw: _sign(gw, _claims(gw, aud="some-other-api")),
    "wrong issuer": lambda gw: _sign(gw, _claims(gw, iss="https://evil.example")),
    "no expiry": lambda gw: _sign(gw, _claims(gw, exp=None)),
    "no subject": lambda gw: _sign(gw, _claims(gw, sub=None)),
    "empty subject": lambda gw: _sign(gw, _claims(gw, sub="")),
    "unknown role": lambda gw: _sign(gw, _claims(gw, role="admin")),
    "no role": lambda gw: _sign(gw, _claims(gw, role=None)),
    "seller without shop": lambda gw: _sign(gw, _claims(gw, role="seller")),
    "unsigned (alg none)": lambda gw: jwt.encode(_claims(gw), "", algorithm="none"),
    "algorithm not accepted (HS512)": lambda gw: _sign(gw, _claims(gw), algorithm="HS512"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_an_untrusted_token_is_unauthenticated(mocks: MockUpstreams, gateway: Gateway, case: str) -> None:
    token = BAD_TOKENS[case](gateway)
    for field in ("viewer", "order", "orders"):
        body = await _with_header(gateway, PROTECTED[field], f"Bearer {token}")
        error = _only_error(body)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", (case, field, body)
        assert body["data"] is None or body["data"][field] is None
    assert await mocks.counters("orders") == {}


async def test_a_token_built_the_same_way_but_valid_is_accepted(gateway: Gateway) -> None:
    # The control for the cases above: the same helpers with nothing wrong give a working identity,
    # and an expiry inside the configured clock-skew leeway is still accepted.
    assert gateway.settings.jwt_leeway >= 10
    for claims in (_claims(gateway), _claims(gateway, exp=int(time.time()) - 5)):
        body = await _with_header(gateway, PROTECTED["viewer"], f"Bearer {_sign(gateway, claims)}")
        assert body == {"data": {"viewer": {"id": ALICE, "role": "BUYER", "shopId": None}}}


async def test_viewer_is_the_tokens_identity(gateway: Gateway) -> None:
    assert await gateway.query(PROTECTED["viewer"], as_=OLIVIA) == {
        "data": {"viewer": {"id": OLIVIA, "role": "BUYER", "shopId": None}}}
    assert await gateway.query(PROTECTED["viewer"], as_=SELLER, role=Role.SELLER, shop_id=THREADLINE) == {
        "data": {"viewer": {"id": SELLER, "role": "SELLER", "shopId": THREADLINE}}}


async def test_a_shop_id_claim_on_a_buyer_token_is_ignored(gateway: Gateway) -> None:
    # Bob's token, smuggling Threadline's shop id: he is still a buyer, and Alice's Threadline order stays hidden.
    token = _sign(gateway, _claims(gateway, sub=BOB, shop_id=THREADLINE))
    body = await _with_header(gateway, PROTECTED["viewer"], f"Bearer {token}")
    assert body == {"data": {"viewer": {"id": BOB, "role": "BUYER", "shopId": None}}}
    body = await _with_header(gateway, ORDER, f"Bearer {token}", {"id": "ord-us-in-transit"})
    assert _only_error(body)["extensions"]["code"] == "NOT_FOUND"


# -- other people's orders -------------------------------------------------------------------------

async def test_another_buyers_order_answers_exactly_like_an_unknown_id(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    theirs = await gateway.query(ORDER, {"id": "ord-us-bob-in-transit"}, as_=ALICE)
    unknown = await gateway.query(ORDER, {"id": "ord-us-no-such-order"}, as_=ALICE)
    assert _without_id(theirs, "ord-us-bob-in-transit") == _without_id(unknown, "ord-us-no-such-order")
    assert theirs["data"] == {"order": None}
    assert _only_error(theirs)["extensions"] == {"code": "NOT_FOUND"}
    # Nothing about Bob's parcel was fetched for Alice.
    assert "trackings.batch" not in await mocks.counters("carrier")
    # The control: the order exists, and Bob sees it.
    mine = await gateway.query(ORDER, {"id": "ord-us-bob-in-transit"}, as_=BOB)
    assert "errors" not in mine and mine["data"]["order"]["id"] == "ord-us-bob-in-transit"


async def test_another_buyers_malformed_order_still_answers_like_an_unknown_id(
        mocks: MockUpstreams, gateway: Gateway) -> None:
    await mocks.fault("orders", route="orders.batch", key="ord-us-bob-in-transit", malformed="unknown_enum")
    theirs = await gateway.query(ORDER, {"id": "ord-us-bob-in-transit"}, as_=ALICE)
    unknown = await gateway.query(ORDER, {"id": "ord-us-no-such-order"}, as_=ALICE)
    assert _without_id(theirs, "ord-us-bob-in-transit") == _without_id(unknown, "ord-us-no-such-order")


# -- sellers ---------------------------------------------------------------------------------------

def _shop_order_ids(shop_id: str) -> set[str]:
    return {o["id"] for o in WORLD.orders.values() if o["shop_id"] == shop_id}


async def test_a_seller_sees_its_shops_orders_by_id_and_in_seller_orders(gateway: Gateway) -> None:
    expected = _shop_order_ids(THREADLINE)
    assert "ord-us-in-transit" in expected and len(expected) > 5
    body = await gateway.query(ORDER, {"id": "ord-us-in-transit"}, as_=SELLER, role=Role.SELLER,
                               shop_id=THREADLINE)
    assert "errors" not in body, body["errors"]
    assert body["data"]["order"]["seller"] == {"id": THREADLINE}
    listed = await gateway.query("{ sellerOrders(first: 50) { totalCount nodes { id seller { id } } } }",
                                 as_=SELLER, role=Role.SELLER, shop_id=THREADLINE)
    assert "errors" not in listed, listed["errors"]
    page = listed["data"]["sellerOrders"]
    assert {n["id"] for n in page["nodes"]} == expected
    assert {n["seller"]["id"] for n in page["nodes"]} == {THREADLINE}
    assert page["totalCount"] == len(expected)


async def test_a_seller_gets_not_found_for_another_shops_order(gateway: Gateway) -> None:
    other = next(o for o in WORLD.orders.values() if o["id"] == "ord-us-bob-in-transit")
    assert other["shop_id"] != THREADLINE
    as_seller = {"as_": SELLER, "role": Role.SELLER, "shop_id": THREADLINE}
    theirs = await gateway.query(ORDER, {"id": "ord-us-bob-in-transit"}, **as_seller)
    unknown = await gateway.query(ORDER, {"id": "ord-us-no-such-order"}, **as_seller)
    assert theirs["data"] == {"order": None}
    assert _only_error(theirs)["extensions"] == {"code": "NOT_FOUND"}
    assert _without_id(theirs, "ord-us-bob-in-transit") == _without_id(unknown, "ord-us-no-such-order")


async def test_a_seller_token_naming_a_buyer_as_subject_does_not_see_that_buyers_orders(gateway: Gateway) -> None:
    # Roles do not mix: a seller whose subject is Bob's id sees Threadline's orders, not Bob's (Hearth & Home).
    body = await gateway.query(ORDER, {"id": "ord-us-bob-in-transit"}, as_=BOB, role=Role.SELLER,
                               shop_id=THREADLINE)
    assert _only_error(body)["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(("field", "who"), [
    ("orders", {"as_": SELLER, "role": Role.SELLER, "shop_id": THREADLINE}),
    ("sellerOrders", {"as_": ALICE}),
])
async def test_the_other_roles_history_is_forbidden(mocks: MockUpstreams, gateway: Gateway, field: str,
                                                     who: dict[str, Any]) -> None:
    body = await gateway.query(PROTECTED[field], **who)
    error = _only_error(body)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == [field]
    assert body["data"] is None
    assert await mocks.counters("orders") == {}


# -- history ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("buyer", [ALICE, BOB, OLIVIA, "buyer-uk-harry", "buyer-nobody"])
async def test_the_history_lists_exactly_the_buyers_own_orders(gateway: Gateway, buyer: str) -> None:
    expected = {o["id"] for o in WORLD.orders.values() if o["buyer_user_id"] == buyer}
    seen: list[str] = []
    after = None
    while True:
        body = await gateway.query(HISTORY, {"after": after}, as_=buyer)
        assert "errors" not in body, body["errors"]
        page = body["data"]["orders"]
        assert page["totalCount"] == len(expected)
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    assert set(seen) == expected
