"""Authentication and object-level authorization (issue 6): HS256 with leeway, RS256 with a PEM key or a
JWKS endpoint (rotation, unknown keys), no token material in the logs, and for every query and mutation
entry point in the schema: nobody reads or acts on an order that is not theirs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import gateway.auth
from gateway.app import create_app
from gateway.auth import Role
from gateway.schema import schema
from gateway.settings import Mode, Settings, SettingsError
from tests.hardening_support import PRODUCTION, assert_no_upstream_call, only_error
from tests.harness import ALICE, BOB, Gateway, running_gateway, settings_for
from tests.upstreams import MockUpstreams

VIEWER = "{ viewer { id role shopId } }"
ORDER = 'query($id: ID!) { order(id: $id) { id seller { id } } }'


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY_1, KEY_2, STRANGER = _rsa(), _rsa(), _rsa()


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def _claims(gw: Gateway, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": ALICE, "role": "buyer", "iss": gw.settings.jwt_issuer,
                              "aud": gw.settings.jwt_audience, "iat": now, "exp": now + 600}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hs256_by_hand(claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token signed with any bytes (PyJWT refuses a PEM as an HMAC secret; an attacker does not)."""
    signing = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing}.{_b64(hmac.new(secret, signing.encode(), hashlib.sha256).digest())}"


async def _viewer(gw: Gateway, token: str) -> dict[str, Any]:
    response = await gw.client.post("/graphql", json={"query": VIEWER},
                                    headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _accepted(body: dict[str, Any], subject: str = ALICE) -> None:
    assert body == {"data": {"viewer": {"id": subject, "role": "BUYER", "shopId": None}}}, body


def _unauthenticated(body: dict[str, Any]) -> None:
    assert body["data"] is None, body
    assert only_error(body)["extensions"]["code"] == "UNAUTHENTICATED", body


# -- HS256 ---------------------------------------------------------------------------------------------

async def test_hs256_happy_path(gateway: Gateway) -> None:
    _accepted(await _viewer(gateway, jwt.encode(_claims(gateway), gateway.settings.jwt_secret, algorithm="HS256")))


@pytest.mark.parametrize(("leeway", "expired_ago", "accepted"), [
    (60, 30, True), (60, 90, False), (0, 5, False), (30, 10, True), (30, 45, False),
])
async def test_an_expired_token_is_accepted_only_within_the_leeway(
        mocks: MockUpstreams, leeway: int, expired_ago: int, accepted: bool) -> None:
    async with running_gateway(mocks, jwt_leeway=leeway) as gw:
        now = int(time.time())
        token = jwt.encode(_claims(gw, iat=now - 3600, exp=now - expired_ago), gw.settings.jwt_secret,
                           algorithm="HS256")
        body = await _viewer(gw, token)
        if accepted:
            _accepted(body)
        else:
            _unauthenticated(body)
            assert "expired" in only_error(body)["message"]


UNTRUSTED: dict[str, Callable[[Gateway], str]] = {
    "wrong issuer": lambda gw: jwt.encode(_claims(gw, iss="https://evil.example"), gw.settings.jwt_secret,
                                          algorithm="HS256"),
    "wrong audience": lambda gw: jwt.encode(_claims(gw, aud="another-api"), gw.settings.jwt_secret,
                                            algorithm="HS256"),
    "wrong signature": lambda gw: jwt.encode(_claims(gw), "another-secret-that-is-long-enough-0123456789",
                                             algorithm="HS256"),
    "tampered claims": lambda gw: (lambda t: t.split(".")[0] + "." + _b64(json.dumps(
        _claims(gw, sub=BOB)).encode()) + "." + t.split(".")[2])(
        jwt.encode(_claims(gw), gw.settings.jwt_secret, algorithm="HS256")),
    "alg none": lambda gw: jwt.encode(_claims(gw), None, algorithm="none"),
    "alg none, signature kept": lambda gw: (lambda t: _b64(b'{"alg":"none","typ":"JWT"}') + t[t.index("."):])(
        jwt.encode(_claims(gw), gw.settings.jwt_secret, algorithm="HS256")),
    "RS256 where HS256 is expected": lambda gw: jwt.encode(_claims(gw), KEY_1, algorithm="RS256"),
}


@pytest.mark.parametrize("case", sorted(UNTRUSTED))
async def test_an_untrusted_token_is_unauthenticated_before_any_upstream_call(
        mocks: MockUpstreams, gateway: Gateway, case: str) -> None:
    token = UNTRUSTED[case](gateway)
    _unauthenticated(await _viewer(gateway, token))
    response = await gateway.client.post("/graphql", json={"query": ORDER, "variables": {"id": "ord-us-in-transit"}},
                                         headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert body["data"] == {"order": None} and only_error(body)["extensions"]["code"] == "UNAUTHENTICATED"
    await assert_no_upstream_call(mocks)


# -- RS256 with a PEM public key --------------------------------------------------------------------------

RS256_PEM: dict[str, Any] = {"mode": Mode.PRODUCTION, "jwt_secret": "", "jwt_algorithms": ("RS256",),
                             "jwt_public_key": _pem(KEY_1)}


async def test_rs256_with_a_public_key(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, **RS256_PEM) as gw:
        _accepted(await _viewer(gw, jwt.encode(_claims(gw), KEY_1, algorithm="RS256")))
        for forged in (jwt.encode(_claims(gw), STRANGER, algorithm="RS256"),  # another key
                       jwt.encode(_claims(gw), PRODUCTION["jwt_secret"], algorithm="HS256"),  # HS256 not accepted
                       _hs256_by_hand(_claims(gw), _pem(KEY_1).encode()),  # the public key as an HMAC secret
                       jwt.encode(_claims(gw), None, algorithm="none"),
                       jwt.encode(_claims(gw, exp=int(time.time()) - 3600), KEY_1, algorithm="RS256")):
            _unauthenticated(await _viewer(gw, forged))


@asynccontextmanager
async def _raw_client(mocks: MockUpstreams, **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    """The app with exceptions turned into 500s, as a real server answers them."""
    settings = settings_for(mocks, **overrides)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client, Gateway(client, settings)


async def test_mixed_hs256_and_rs256_verifies_each_token_with_its_own_key_and_never_fails_with_500(
        mocks: MockUpstreams) -> None:
    async with _raw_client(mocks, **{**RS256_PEM, "jwt_secret": PRODUCTION["jwt_secret"],
                                     "jwt_algorithms": ("HS256", "RS256")}) as (client, gw):
        async def viewer(token: str) -> httpx.Response:
            return await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"})

        forged = await viewer(_hs256_by_hand(_claims(gw), _pem(KEY_1).encode()))
        assert forged.status_code == 200, forged.text
        _unauthenticated(forged.json())
        _accepted((await viewer(jwt.encode(_claims(gw), KEY_1, algorithm="RS256"))).json())
        legitimate = await viewer(jwt.encode(_claims(gw), PRODUCTION["jwt_secret"], algorithm="HS256"))
        assert legitimate.status_code == 200, legitimate.text
        _accepted(legitimate.json())


# -- RS256 from a JWKS endpoint ------------------------------------------------------------------------

@dataclass
class Jwks:
    """A JWKS endpoint whose keys (and failures) the test changes; it counts its fetches."""

    keys: list[dict[str, Any]]
    status: int = 200
    fetches: int = 0
    url: str = ""
    server: TestServer | None = field(default=None, repr=False)

    async def handle(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.status != 200:
            return web.Response(status=self.status, text="<html>upstream error</html>")
        return web.json_response({"keys": self.keys})


@asynccontextmanager
async def _jwks(*keys: dict[str, Any]) -> AsyncIterator[Jwks]:
    jwks = Jwks(list(keys))
    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        jwks.server, jwks.url = server, str(server.make_url("/.well-known/jwks.json"))
        yield jwks
    finally:
        await server.close()


class Clock:
    """The JWKS cache's clock, moved by the test (real time plus an offset)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def time(self) -> float:
        return time.time()


@pytest.fixture
def jwks_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(gateway.auth, "time", types.SimpleNamespace(monotonic=clock.monotonic, time=clock.time))
    return clock


def _rs256(gw: Gateway, key: rsa.RSAPrivateKey, kid: str | None, **claims: Any) -> str:
    return jwt.encode(_claims(gw, **claims), key, algorithm="RS256", headers={"kid": kid} if kid else None)


def _jwks_settings(jwks: Jwks) -> dict[str, Any]:
    return {"mode": Mode.PRODUCTION, "jwt_secret": "", "jwt_algorithms": ("RS256",), "jwt_jwks_url": jwks.url}


async def test_rs256_via_jwks_with_key_rotation_and_unknown_keys(mocks: MockUpstreams, jwks_clock: Clock) -> None:
    async with _jwks(_jwk(KEY_1, "k1")) as jwks, running_gateway(mocks, **_jwks_settings(jwks)) as gw:
        _accepted(await _viewer(gw, _rs256(gw, KEY_1, "k1")))
        _accepted(await _viewer(gw, _rs256(gw, KEY_1, "k1", sub=BOB)), BOB)
        assert jwks.fetches == 1  # cached
        # Unknown key ids are refused; within the refresh interval they do not make the gateway refetch.
        _unauthenticated(await _viewer(gw, _rs256(gw, STRANGER, "k-unknown")))
        _unauthenticated(await _viewer(gw, _rs256(gw, STRANGER, "k1")))  # a known kid, the wrong key
        _unauthenticated(await _viewer(gw, _rs256(gw, KEY_1, "k1", exp=int(time.time()) - 3600)))
        assert jwks.fetches == 1
        # The issuer rotates: k2 is published, k1 withdrawn. A k2 token is accepted once the keys are refetched
        # (a new kid triggers that, at most once per refresh interval).
        jwks.keys = [_jwk(KEY_2, "k2")]
        jwks_clock.offset += 31
        _accepted(await _viewer(gw, _rs256(gw, KEY_2, "k2")))
        assert jwks.fetches == 2
        _unauthenticated(await _viewer(gw, _rs256(gw, KEY_1, "k1")))  # withdrawn
        assert jwks.fetches == 2


async def test_a_token_without_kid_is_verified_with_the_only_key(mocks: MockUpstreams, jwks_clock: Clock) -> None:
    async with _jwks(_jwk(KEY_1, "k1")) as jwks, running_gateway(mocks, **_jwks_settings(jwks)) as gw:
        _accepted(await _viewer(gw, _rs256(gw, KEY_1, None)))
        _unauthenticated(await _viewer(gw, _rs256(gw, STRANGER, None)))


async def test_a_kid_spray_does_not_turn_into_a_jwks_fetch_per_request(mocks: MockUpstreams,
                                                                     jwks_clock: Clock) -> None:
    async with _jwks(_jwk(KEY_1, "k1")) as jwks, running_gateway(mocks, **_jwks_settings(jwks)) as gw:
        for n in range(20):
            _unauthenticated(await _viewer(gw, _rs256(gw, STRANGER, f"spray-{n}")))
        assert jwks.fetches == 1


async def test_jwks_unreachable_at_first_use_is_unauthenticated_not_an_error(mocks: MockUpstreams,
                                                                            jwks_clock: Clock) -> None:
    async with _jwks(_jwk(KEY_1, "k1")) as jwks, running_gateway(mocks, **_jwks_settings(jwks)) as gw:
        jwks.status = 503
        body = await _viewer(gw, _rs256(gw, KEY_1, "k1"))
        _unauthenticated(body)
        assert "signing keys unavailable" in only_error(body)["message"]
        jwks.status = 200
        jwks_clock.offset += 31
        _accepted(await _viewer(gw, _rs256(gw, KEY_1, "k1")))


async def test_a_jwks_outage_after_the_ttl_keeps_serving_cached_keys_without_a_fetch_per_request(
        mocks: MockUpstreams, jwks_clock: Clock) -> None:
    # A failed refetch backs off for the refresh interval: an outage is not one fetch per request (each
    # serialised behind the lock, and up to 2 s long when the endpoint hangs).
    async with _jwks(_jwk(KEY_1, "k1")) as jwks, running_gateway(mocks, **_jwks_settings(jwks)) as gw:
        _accepted(await _viewer(gw, _rs256(gw, KEY_1, "k1")))
        jwks.status = 500
        jwks_clock.offset += 301  # past the cache's TTL
        for _ in range(10):
            _accepted(await _viewer(gw, _rs256(gw, KEY_1, "k1")))
        assert jwks.fetches <= 2, jwks.fetches


def _ec_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": "ES256"}


def _with_header(token: str, **header: Any) -> str:
    """The token with its header rewritten (the signature no longer matches, as an attacker's would not)."""
    return _b64(json.dumps({"typ": "JWT", **header}).encode()) + token[token.index("."):]


async def test_hs256_beside_a_jwks_is_verified_with_the_secret_and_no_token_is_ever_a_500(
        mocks: MockUpstreams, jwks_clock: Clock) -> None:
    """HS256 and RS256 both accepted, RS256 keys from a JWKS: an HS256 token never meets a public key (PyJWT
    raised TypeError for that: a bare 500 before the rate limiter), and every token that cannot be verified
    is UNAUTHENTICATED, as a real server answers it."""
    ec_key = ec.generate_private_key(ec.SECP256R1())
    settings = {**_jwks_settings(Jwks([])), "jwt_secret": PRODUCTION["jwt_secret"],
                "jwt_algorithms": ("HS256", "RS256", "ES256")}
    async with _jwks(_jwk(KEY_1, "k1"), _ec_jwk(ec_key, "k-ec")) as jwks, \
            _raw_client(mocks, **{**settings, "jwt_jwks_url": jwks.url}) as (client, gw):
        async def viewer(token: str) -> dict[str, Any]:
            response = await client.post("/graphql", json={"query": VIEWER},
                                         headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200 and response.headers["x-request-id"], response.text
            body: dict[str, Any] = response.json()
            return body

        hs256 = jwt.encode(_claims(gw), PRODUCTION["jwt_secret"], algorithm="HS256")
        _accepted(await viewer(hs256))
        _accepted(await viewer(jwt.encode(_claims(gw), PRODUCTION["jwt_secret"], algorithm="HS256",
                                          headers={"kid": "k1"})))  # a kid does not send HS256 to the JWKS
        assert jwks.fetches == 0
        _accepted(await viewer(_rs256(gw, KEY_1, "k1")))
        _accepted(await viewer(jwt.encode(_claims(gw), ec_key, algorithm="ES256", headers={"kid": "k-ec"})))
        unverifiable = {
            "HS256 signed with the JWKS key's PEM": _hs256_by_hand(_claims(gw), _pem(KEY_1).encode()),
            "HS256 with another secret": jwt.encode(_claims(gw), "another-secret-that-is-long-enough-0123456789",
                                                    algorithm="HS256"),
            "RS256 naming the EC key": _rs256(gw, KEY_1, "k-ec"),
            "ES256 naming the RSA key": jwt.encode(_claims(gw), ec_key, algorithm="ES256", headers={"kid": "k1"}),
            "RS384, not accepted": jwt.encode(_claims(gw), KEY_1, algorithm="RS384", headers={"kid": "k1"}),
            "alg as a list": _with_header(hs256, alg=["HS256"]),
            "alg as a number": _with_header(hs256, alg=256),
            "kid as a list": _with_header(_rs256(gw, KEY_1, "k1"), alg="RS256", kid=["k1"]),
            "kid as an object": _with_header(_rs256(gw, KEY_1, "k1"), alg="RS256", kid={"k": 1}),
            "header not an object": _b64(b"[1]") + hs256[hs256.index("."):],
        }
        for case, token in unverifiable.items():
            body = await viewer(token)
            assert body["data"] is None and only_error(body)["extensions"] == {"code": "UNAUTHENTICATED"}, case
        assert jwks.fetches == 1


async def test_an_unverifiable_token_is_still_rate_limited(mocks: MockUpstreams) -> None:
    # The refusal comes after the limiter, like any request's: a flood of bad tokens is not free.
    async with running_gateway(mocks, rate_limit_per_minute=1, rate_limit_burst=2) as gw:
        forged = _hs256_by_hand(_claims(gw), b"not-the-secret")
        statuses = [(await gw.client.post("/graphql", json={"query": VIEWER},
                                          headers={"Authorization": f"Bearer {forged}"})).status_code
                    for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(("env", "message"), [
    ({"JWT_ALGORITHMS": "none"}, "JWT_ALGORITHMS: none not supported"),
    ({"JWT_ALGORITHMS": "HS256,RS257"}, "JWT_ALGORITHMS: RS257 not supported"),
    ({"JWT_ALGORITHMS": " , "}, "JWT_ALGORITHMS must name at least one"),
    ({"JWT_ALGORITHMS": "RS256"}, "JWT_ALGORITHMS includes RS256, which needs JWT_PUBLIC_KEY or JWT_JWKS_URL"),
    ({"JWT_ALGORITHMS": "HS256,ES256", "JWT_SECRET": "x" * 40}, "includes ES256, which needs JWT_PUBLIC_KEY"),
    ({"JWT_ALGORITHMS": "RS256,HS512", "JWT_JWKS_URL": "https://issuer.example/jwks.json"},
     "JWT_ALGORITHMS includes HS512, which needs JWT_SECRET"),
    ({"JWT_JWKS_URL": "https://issuer.example/jwks.json"}, "JWT_JWKS_URL is set but JWT_ALGORITHMS \\(HS256\\) names"),
    ({"JWT_ALGORITHMS": "RS256", "JWT_JWKS_URL": "ftp://issuer.example/jwks"}, "JWT_JWKS_URL must be an http"),
    ({"JWT_ALGORITHMS": "RS256", "JWT_PUBLIC_KEY": "not a pem"}, "JWT_PUBLIC_KEY is not a PEM public key"),
    ({"JWT_ALGORITHMS": "ES256", "JWT_PUBLIC_KEY": _pem(KEY_1)}, "not a PEM public key that ES256 can use"),
    ({"JWT_ALGORITHMS": "RS256", "JWT_PUBLIC_KEY": _pem(KEY_1), "JWT_JWKS_URL": "https://issuer.example/jwks"},
     "not both"),
], ids=lambda value: "" if isinstance(value, str) else ",".join(f"{k}={v[:12]}" for k, v in value.items()))
def test_token_settings_are_checked_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env={"GATEWAY_MODE": "production", **env}, dotenv=None)


@pytest.mark.parametrize("env", [
    {"JWT_SECRET": "x" * 40},
    {"JWT_ALGORITHMS": "RS256", "JWT_PUBLIC_KEY": "PEM"},
    {"JWT_ALGORITHMS": "RS256,PS256,ES256", "JWT_JWKS_URL": "https://issuer.example/jwks.json"},
    {"JWT_ALGORITHMS": "HS256,RS256", "JWT_SECRET": "x" * 40, "JWT_JWKS_URL": "https://issuer.example/jwks.json"},
], ids=["hs256", "rs256-pem", "jwks", "mixed"])
def test_token_settings_that_fit_start(env: dict[str, str]) -> None:
    env = {k: _pem(KEY_1) if v == "PEM" else v for k, v in env.items()}
    assert Settings.from_env(env={"GATEWAY_MODE": "production", **env}, dotenv=None).jwt_algorithms


# -- no token material in the logs ----------------------------------------------------------------------

async def test_no_token_material_reaches_the_logs(mocks: MockUpstreams, caplog: pytest.LogCaptureFixture,
                                                  jwks_clock: Clock) -> None:
    caplog.set_level(logging.DEBUG)
    tokens: list[str] = []
    async with running_gateway(mocks) as gw:
        good = jwt.encode(_claims(gw), gw.settings.jwt_secret, algorithm="HS256")
        bad = [jwt.encode(_claims(gw), "another-secret-that-is-long-enough-0123456789", algorithm="HS256"),
               jwt.encode(_claims(gw, exp=int(time.time()) - 3600), gw.settings.jwt_secret, algorithm="HS256"),
               jwt.encode(_claims(gw, aud="x"), gw.settings.jwt_secret, algorithm="HS256"),
               good[:-3] + "abc", "not-a-jwt-but-secret-looking-0123456789"]
        tokens += [good, *bad]
        for token in [good, *bad]:
            await _viewer(gw, token)
            await gw.client.post("/graphql", json={"query": ORDER, "variables": {"id": "ord-us-in-transit"}},
                                 headers={"Authorization": f"Bearer {token}"})
        # An unexpected error and an upstream failure, with the token on the request.
        await mocks.fault("orders", route="*", status=500)
        await gw.client.post("/graphql", json={"query": ORDER, "variables": {"id": "ord-us-in-transit"}},
                             headers={"Authorization": f"Bearer {good}"})
        await gw.client.post("/graphql", json={"query": "query($id: ID!) { order(id: $id) { id } }",
                                               "variables": {"id": {"x": good}}},
                             headers={"Authorization": f"Bearer {good}"})
    async with _jwks(_jwk(KEY_1, "k1")) as jwks, running_gateway(mocks, **_jwks_settings(jwks)) as gw:
        rs = [_rs256(gw, KEY_1, "k1"), _rs256(gw, STRANGER, "k1"), _rs256(gw, STRANGER, "k9")]
        tokens += rs
        for token in rs:
            await _viewer(gw, token)
    logged = "\n".join([caplog.text, *(repr(r.args) for r in caplog.records),
                        *(r.exc_text or "" for r in caplog.records)])
    assert caplog.records, "the requests above log something (an unexpected error, upstream failures)"
    for token in tokens:
        parts = token.split(".")
        assert token not in logged
        assert all(len(p) < 16 or p not in logged for p in parts[1:]), "a token's claims or signature was logged"


# -- object-level authorization, for every entry point ------------------------------------------------------

THREADLINE, HEARTH, NORTHERN = "shop-us-threadline", "shop-us-hearth-home", "shop-uk-northern-threads"
UNKNOWN = "ord-us-no-such-order"


def _as_seller(shop: str) -> dict[str, Any]:
    return {"as_": f"seller-of-{shop}", "role": Role.SELLER, "shop_id": shop}


def _blank(body: dict[str, Any], order_id: str) -> str:
    return json.dumps(body, sort_keys=True).replace(order_id, "<id>")


US_ADDRESS = {"name": "Mallory", "line1": "1 Evil Road", "city": "Springfield", "region": "IL",
              "postalCode": "62701", "country": "US"}
PAYLOAD = "{ replayed userErrors { code } order { id } }"


@dataclass(frozen=True)
class Entry:
    """One mutation: Alice's order it targets, its input, and who may run it (the buyer, or the shop's seller)."""

    document: str
    order_id: str
    input: Callable[[dict[str, str]], dict[str, Any]]
    seller_of: str | None = None  # a seller mutation, for this shop


def _m(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {PAYLOAD} }}"


MUTATIONS: dict[str, Entry] = {
    "requestReturn": Entry(_m("requestReturn", "RequestReturnInput"), "ord-us-delivered", lambda ids: {
        "items": [{"lineItemId": ids["ord-us-delivered"], "reason": "DOES_NOT_FIT"}]}),
    "addItemsToReturn": Entry(_m("addItemsToReturn", "AddItemsToReturnInput"), "ord-us-return-in-progress",
                              lambda ids: {"returnId": "cmb-us-return-in-progress-1", "items": [
                                  {"lineItemId": ids["ord-us-return-in-progress"], "reason": "DOES_NOT_FIT"}]}),
    "cancelReturn": Entry(_m("cancelReturn", "ReturnChangeInput"), "ord-us-return-in-progress",
                          lambda ids: {"returnId": "cmb-us-return-in-progress-1"}),
    "reportNotReceived": Entry(_m("reportNotReceived", "ReportPackageInput"), "ord-us-delivered", lambda ids: {}),
    "reportLate": Entry(_m("reportLate", "ReportPackageInput"), "ord-us-late", lambda ids: {}),
    "cancelOrder": Entry(_m("cancelOrder", "CancelOrderInput"), "ord-us-on-hold",
                         lambda ids: {"reason": "NO_LONGER_NEEDED"}),
    "cancelItems": Entry(_m("cancelItems", "CancelItemsInput"), "ord-us-awaiting-shipment", lambda ids: {
        "reason": "NO_LONGER_NEEDED", "items": [{"lineItemId": ids["ord-us-awaiting-shipment"]}]}),
    "changeShippingAddress": Entry(_m("changeShippingAddress", "ChangeShippingAddressInput"),
                                   "ord-us-awaiting-shipment", lambda ids: {"address": US_ADDRESS}),
    "approveReturn": Entry(_m("approveReturn", "ReturnChangeInput"), "ord-us-not-received",
                           lambda ids: {"returnId": "cmb-us-not-received-1"}, THREADLINE),
    "rejectReturn": Entry(_m("rejectReturn", "RejectReturnInput"), "ord-us-not-received",
                          lambda ids: {"returnId": "cmb-us-not-received-1", "reason": "no"}, THREADLINE),
    "respondToCancellation": Entry(_m("respondToCancellation", "RespondToCancellationInput"),
                                   "ord-us-cancel-requested",
                                   lambda ids: {"cancellationId": "cxl-us-cancel-requested-1", "accept": True},
                                   HEARTH),
    "updateShippingAddress": Entry(_m("updateShippingAddress", "ChangeShippingAddressInput"),
                                   "ord-us-awaiting-shipment", lambda ids: {"address": US_ADDRESS}, HEARTH),
}
WRITES = {"orders.update_address", "returns.create", "returns.batch_create", "returns.combined_action",
          "returns.cancel", "returns.approve", "returns.reject", "cancellations.create", "cancellations.approve",
          "cancellations.reject"}


async def _writes(mocks: MockUpstreams) -> dict[str, int]:
    counts = {**await mocks.counters("orders"), **await mocks.counters("aftersales")}
    return {route: n for route, n in counts.items() if route in WRITES}


def test_every_entry_point_of_the_schema_is_covered_below() -> None:
    graphql_schema = schema._schema
    assert graphql_schema.query_type is not None and graphql_schema.mutation_type is not None
    assert set(graphql_schema.query_type.fields) == set(QUERIES)
    assert set(graphql_schema.mutation_type.fields) == set(MUTATIONS)
    assert graphql_schema.subscription_type is None


async def _query_order(gw: Gateway, mocks: MockUpstreams) -> None:
    """A buyer never reads another buyer's order, a seller only its shop's; both answer like an unknown id."""
    for intruder in ({"as_": BOB}, _as_seller(NORTHERN), _as_seller(HEARTH)):
        theirs = await gw.query(ORDER, {"id": "ord-us-in-transit"}, **intruder)
        unknown = await gw.query(ORDER, {"id": UNKNOWN}, **intruder)
        assert theirs["data"] == {"order": None} and only_error(theirs)["extensions"] == {"code": "NOT_FOUND"}
        assert _blank(theirs, "ord-us-in-transit") == _blank(unknown, UNKNOWN)
    for owner in ({"as_": ALICE}, _as_seller(THREADLINE)):
        mine = await gw.query(ORDER, {"id": "ord-us-in-transit"}, **owner)
        assert mine == {"data": {"order": {"id": "ord-us-in-transit", "seller": {"id": THREADLINE}}}}


async def _query_orders(gw: Gateway, mocks: MockUpstreams) -> None:
    history = "{ orders(first: 50) { nodes { id } } }"
    alice = {n["id"] for n in (await gw.query(history))["data"]["orders"]["nodes"]}
    bob = {n["id"] for n in (await gw.query(history, as_=BOB))["data"]["orders"]["nodes"]}
    assert bob == {"ord-us-bob-in-transit"} and "ord-us-in-transit" in alice and not alice & bob
    forbidden = await gw.query(history, **_as_seller(THREADLINE))
    assert forbidden["data"] is None and only_error(forbidden)["extensions"]["code"] == "FORBIDDEN"


async def _query_seller_orders(gw: Gateway, mocks: MockUpstreams) -> None:
    listing = "{ sellerOrders(first: 50) { nodes { id seller { id } } } }"
    for shop in (THREADLINE, NORTHERN):
        nodes = (await gw.query(listing, **_as_seller(shop)))["data"]["sellerOrders"]["nodes"]
        assert nodes and {n["seller"]["id"] for n in nodes} == {shop}
    forbidden = await gw.query(listing)
    assert forbidden["data"] is None and only_error(forbidden)["extensions"]["code"] == "FORBIDDEN"


async def _query_viewer(gw: Gateway, mocks: MockUpstreams) -> None:
    assert (await gw.query(VIEWER, as_=BOB))["data"]["viewer"]["id"] == BOB
    assert (await gw.query(VIEWER, **_as_seller(NORTHERN)))["data"]["viewer"]["shopId"] == NORTHERN


async def _query_return_reasons(gw: Gateway, mocks: MockUpstreams) -> None:
    # Policy data, the same for everyone: no order, nothing to scope.
    field_ = schema._schema.query_type.fields["returnReasons"]  # type: ignore[union-attr]
    assert set(field_.args) == {"market"}
    reasons = "{ returnReasons(market: US) { code deadline } }"
    assert (await gw.query(reasons))["data"] == (await gw.query(reasons, as_=BOB))["data"]


async def _query_cancel_reasons(gw: Gateway, mocks: MockUpstreams) -> None:
    # Policy data too: no argument, no order, the same for every buyer.
    field_ = schema._schema.query_type.fields["cancelReasons"]  # type: ignore[union-attr]
    assert not field_.args
    reasons = "{ cancelReasons { code label } }"
    assert (await gw.query(reasons))["data"] == (await gw.query(reasons, as_=BOB))["data"]


QUERIES: dict[str, Callable[[Gateway, MockUpstreams], Awaitable[None]]] = {
    "order": _query_order, "orders": _query_orders, "sellerOrders": _query_seller_orders, "viewer": _query_viewer,
    "returnReasons": _query_return_reasons, "cancelReasons": _query_cancel_reasons,
}


@pytest.mark.parametrize("field_name", sorted(QUERIES))
async def test_every_query_entry_point_is_scoped_to_the_viewer(mocks: MockUpstreams, gateway: Gateway,
                                                               field_name: str) -> None:
    await QUERIES[field_name](gateway, mocks)


async def _line_item_ids(gw: Gateway) -> dict[str, str]:
    ids = {}
    for order_id in ("ord-us-delivered", "ord-us-return-in-progress", "ord-us-awaiting-shipment"):
        order = (await gw.query("query($id: ID!) { order(id: $id) { lineItems { id } } }", {"id": order_id}))
        ids[order_id] = order["data"]["order"]["lineItems"][-1]["id"]
    return ids


@pytest.mark.parametrize("field_name", sorted(MUTATIONS))
async def test_every_mutation_refuses_other_peoples_orders_and_the_wrong_role_without_a_write(
        mocks: MockUpstreams, gateway: Gateway, field_name: str) -> None:
    entry = MUTATIONS[field_name]
    ids = await _line_item_ids(gateway)
    keys = iter(range(100))

    def variables(order_id: str) -> dict[str, Any]:
        return {"input": {"orderId": order_id, "idempotencyKey": f"authz-{field_name}-{next(keys)}",
                          **entry.input(ids)}}

    if entry.seller_of is None:
        owner: dict[str, Any] = {"as_": ALICE}
        intruders: list[dict[str, Any]] = [{"as_": BOB}, {"as_": "buyer-uk-olivia"}]
        wrong_role = [_as_seller(THREADLINE), _as_seller(HEARTH)]  # even the order's own seller
    else:
        owner = _as_seller(entry.seller_of)
        others = {THREADLINE, HEARTH, NORTHERN} - {entry.seller_of}
        intruders = [_as_seller(shop) for shop in sorted(others)]
        wrong_role = [{"as_": ALICE}, {"as_": BOB}]  # even the order's own buyer
    await mocks.reset_counters()
    for intruder in intruders:
        theirs = await gateway.query(entry.document, variables(entry.order_id), **intruder)
        unknown = await gateway.query(entry.document, variables(UNKNOWN), **intruder)
        assert theirs["data"] is None and only_error(theirs)["extensions"] == {"code": "NOT_FOUND"}, theirs
        assert _blank(theirs, entry.order_id) == _blank(unknown, UNKNOWN)
    for who in wrong_role:
        refused = await gateway.query(entry.document, variables(entry.order_id), **who)
        assert refused["data"] is None and only_error(refused)["extensions"]["code"] == "FORBIDDEN", refused
    assert await _writes(mocks) == {}
    # The control: the rightful party gets past authorization (its request is decided on its merits).
    allowed = await gateway.query(entry.document, variables(entry.order_id), **owner)
    assert "errors" not in allowed, allowed
    assert allowed["data"][field_name]["order"]["id"] == entry.order_id


# -- cross-object ids: the viewer's own order, someone else's return, cancellation, package or line item ------

FULL_PAYLOAD = "{ replayed userErrors { code field message } order { id } }"


@dataclass(frozen=True)
class CrossObject:
    """A mutation on the actor's own order naming a real id that belongs elsewhere (another buyer's, another
    shop's, or another order's); ``own`` is the right id, for the control (None: the order has none)."""

    mutation: str
    actor: dict[str, Any]
    order_id: str
    input: Callable[[str], dict[str, Any]]
    foreign: str
    unknown: str
    own: str | None


def _returned(line_item: str) -> list[dict[str, str]]:
    return [{"lineItemId": line_item, "reason": "DOES_NOT_FIT"}]


OLIVIA_ = {"as_": "buyer-uk-olivia"}
CROSS_OBJECTS: dict[str, CrossObject] = {
    "addItemsToReturn, Olivia's returnId": CrossObject(
        "addItemsToReturn", {"as_": ALICE}, "ord-us-return-in-progress",
        lambda id_: {"returnId": id_, "items": _returned("ord-us-return-in-progress-l3")},
        "cmb-uk-return-in-progress-1", "cmb-us-return-in-progress-9", "cmb-us-return-in-progress-1"),
    "addItemsToReturn, Olivia's lineItemId": CrossObject(
        "addItemsToReturn", {"as_": ALICE}, "ord-us-return-in-progress",
        lambda id_: {"returnId": "cmb-us-return-in-progress-1", "items": _returned(id_)},
        "ord-uk-return-in-progress-l3", "ord-us-return-in-progress-l9", "ord-us-return-in-progress-l3"),
    "cancelReturn, Olivia's returnId": CrossObject(
        "cancelReturn", {"as_": ALICE}, "ord-us-return-in-progress", lambda id_: {"returnId": id_},
        "cmb-uk-return-in-progress-1", "cmb-us-return-in-progress-9", "cmb-us-return-in-progress-1"),
    "cancelReturn, Alice's returnId (as Olivia)": CrossObject(
        "cancelReturn", OLIVIA_, "ord-uk-return-in-progress", lambda id_: {"returnId": id_},
        "cmb-us-return-in-progress-1", "cmb-uk-return-in-progress-9", "cmb-uk-return-in-progress-1"),
    "cancelReturn, the returnId of another of Alice's orders": CrossObject(
        "cancelReturn", {"as_": ALICE}, "ord-us-return-in-progress", lambda id_: {"returnId": id_},
        "cmb-us-not-received-1", "cmb-us-return-in-progress-9", "cmb-us-return-in-progress-1"),
    "requestReturn, Olivia's lineItemId": CrossObject(
        "requestReturn", {"as_": ALICE}, "ord-us-delivered", lambda id_: {"items": _returned(id_)},
        "ord-uk-delivered-l1", "ord-us-delivered-l9", "ord-us-delivered-l1"),
    "cancelItems, Olivia's lineItemId": CrossObject(
        "cancelItems", {"as_": ALICE}, "ord-us-awaiting-shipment",
        lambda id_: {"reason": "NO_LONGER_NEEDED", "items": [{"lineItemId": id_}]},
        "ord-uk-awaiting-shipment-l1", "ord-us-awaiting-shipment-l9", "ord-us-awaiting-shipment-l1"),
    "reportNotReceived, Olivia's packageId": CrossObject(
        "reportNotReceived", {"as_": ALICE}, "ord-us-delivered", lambda id_: {"packageId": id_},
        "pkg-uk-delivered-1", "pkg-us-delivered-9", "pkg-us-delivered-1"),
    "reportLate, Olivia's packageId": CrossObject(
        "reportLate", {"as_": ALICE}, "ord-us-late", lambda id_: {"packageId": id_},
        "pkg-uk-late-1", "pkg-us-late-9", "pkg-us-late-1"),
    "approveReturn, another shop's pending returnId": CrossObject(
        "approveReturn", _as_seller(THREADLINE), "ord-us-not-received", lambda id_: {"returnId": id_},
        "cmb-uk-not-received-1", "cmb-us-not-received-9", "cmb-us-not-received-1"),
    "approveReturn, the returnId of another of the shop's orders": CrossObject(
        "approveReturn", _as_seller(THREADLINE), "ord-us-not-received", lambda id_: {"returnId": id_},
        "cmb-us-return-in-progress-1", "cmb-us-not-received-9", "cmb-us-not-received-1"),
    "rejectReturn, another shop's pending returnId": CrossObject(
        "rejectReturn", _as_seller(THREADLINE), "ord-us-not-received",
        lambda id_: {"returnId": id_, "reason": "no"},
        "cmb-uk-not-received-1", "cmb-us-not-received-9", "cmb-us-not-received-1"),
    "respondToCancellation, Olivia's cancellationId": CrossObject(
        "respondToCancellation", _as_seller(HEARTH), "ord-us-cancel-requested",
        lambda id_: {"cancellationId": id_, "accept": True},
        "cxl-uk-cancelled-by-buyer-1", "cxl-us-cancel-requested-9", "cxl-us-cancel-requested-1"),
    "respondToCancellation, another shop's cancellationId": CrossObject(
        "respondToCancellation", _as_seller(HEARTH), "ord-us-cancel-requested",
        lambda id_: {"cancellationId": id_, "accept": False, "reason": "shipped already"},
        "cxl-us-cancelled-by-buyer-1", "cxl-us-cancel-requested-9", "cxl-us-cancel-requested-1"),
    "respondToCancellation, another shop's PENDING cancellationId": CrossObject(
        "respondToCancellation", _as_seller(THREADLINE), "ord-us-in-transit",
        lambda id_: {"cancellationId": id_, "accept": True},
        "cxl-us-cancel-requested-1", "cxl-us-in-transit-1", None),
}


def test_every_mutation_taking_another_objects_id_is_covered_below() -> None:
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    id_fields = {"returnId", "cancellationId", "packageId", "lineItemId"}

    def takes_an_id(type_: Any) -> bool:
        named = type_
        while hasattr(named, "of_type"):
            named = named.of_type
        fields = getattr(named, "fields", {})
        return any(name in id_fields or takes_an_id(f.type) for name, f in fields.items())

    taking = {name for name, f in mutation_type.fields.items() if takes_an_id(f.args["input"].type)}
    assert taking == {c.mutation for c in CROSS_OBJECTS.values()}


@pytest.mark.parametrize("case", sorted(CROSS_OBJECTS))
async def test_a_real_id_from_elsewhere_on_ones_own_order_answers_like_an_unknown_id_without_a_write(
        mocks: MockUpstreams, gateway: Gateway, case: str) -> None:
    entry = CROSS_OBJECTS[case]
    document = MUTATIONS[entry.mutation].document.replace(PAYLOAD, FULL_PAYLOAD)
    keys = iter(range(10))

    def variables(id_: str) -> dict[str, Any]:
        return {"input": {"orderId": entry.order_id, "idempotencyKey": f"cross-{entry.mutation}-{next(keys)}",
                          **entry.input(id_)}}

    await mocks.reset_counters()
    foreign = await gateway.query(document, variables(entry.foreign), **entry.actor)
    unknown = await gateway.query(document, variables(entry.unknown), **entry.actor)
    assert _blank(foreign, entry.foreign) == _blank(unknown, entry.unknown), (foreign, unknown)
    payload = foreign["data"][entry.mutation] if foreign.get("data") else None
    assert "errors" in foreign or payload["userErrors"], foreign
    assert await _writes(mocks) == {}
    if entry.own is not None:
        # The control: the right id, on the same order, by the same actor, gets through.
        allowed = await gateway.query(document, variables(entry.own), **entry.actor)
        assert "errors" not in allowed and allowed["data"][entry.mutation]["userErrors"] == [], allowed
        assert await _writes(mocks) != {}
