"""Who is asking: bearer tokens (signed JWTs) verified into a :class:`Viewer`, and minted for development.

A buyer sees only their own orders, a seller only their shop's; anything else is answered exactly
as an unknown id is, so an order id reveals nothing about whether it exists.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import aiohttp
import jwt

from gateway.domain.model import OrderRecord
from gateway.errors import Unauthenticated


class Role(Enum):
    BUYER = "buyer"
    SELLER = "seller"


@dataclass(frozen=True)
class Viewer:
    subject: str
    role: Role
    shop_id: str | None = None

    def can_see(self, order: OrderRecord) -> bool:
        return self.owns(order.buyer_id, order.shop_id)

    def owns(self, buyer_id: str | None, shop_id: str | None) -> bool:
        if self.role is Role.BUYER:
            return buyer_id is not None and buyer_id == self.subject
        return self.shop_id is not None and shop_id == self.shop_id


@dataclass(frozen=True)
class TokenSettings:
    secret: str
    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ("HS256",)
    leeway: float = 30.0  # clock skew tolerated between the issuer and us, in seconds
    public_key: str | None = None  # PEM, for the public-key algorithms (RS256, ES256 ...)


def accepted_algorithm(token: str, settings: TokenSettings) -> str:
    """The algorithm the token's header names, if it is one we accept. The header is the attacker's to
    write, so it only ever narrows: the token is then verified with that one algorithm and its own key."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise Unauthenticated("invalid token (DecodeError)") from None
    if not isinstance(algorithm, str) or algorithm not in settings.algorithms:
        raise Unauthenticated("token signed with an algorithm we do not accept")
    return algorithm


def is_hmac(algorithm: str) -> bool:
    return algorithm.startswith("HS")


def verify(token: str, settings: TokenSettings, key: Any = None, cache: VerifiedTokens | None = None) -> Viewer:
    """Check signature, expiry (with leeway for clock skew), issuer and audience; then read the claims.

    ``key`` is a public key for an asymmetric token (from the JWKS); without one, ``settings.public_key``.
    An HMAC token is only ever checked with the secret, never with a public key. Any token that does not
    verify raises :class:`Unauthenticated`, whatever the reason."""
    if cache is not None:
        known = cache.get(token, settings.leeway)
        if known is not None:
            return known
    algorithm = accepted_algorithm(token, settings)
    if is_hmac(algorithm):
        key = settings.secret
    elif key is None:
        key = settings.public_key
    if not key:
        raise Unauthenticated("token signed with an algorithm we have no key for")
    try:
        claims = jwt.decode(
            token, key, algorithms=[algorithm], audience=settings.audience, issuer=settings.issuer,
            leeway=settings.leeway, options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token expired") from None
    except jwt.InvalidAudienceError:
        raise Unauthenticated("token is for another audience") from None
    except jwt.InvalidIssuerError:
        raise Unauthenticated("token from an untrusted issuer") from None
    except Exception as exc:
        # PyJWTError, and also TypeError or ValueError when a key does not fit the token (an EC key from
        # the JWKS under an RS256 token's kid): a token we cannot verify is refused, never a server error.
        raise Unauthenticated(f"invalid token ({type(exc).__name__})") from None
    try:
        role = Role(claims.get("role"))
    except ValueError:
        raise Unauthenticated("token has no valid role (buyer or seller)") from None
    shop_id = claims.get("shop_id")
    if role is Role.SELLER and not isinstance(shop_id, str):
        raise Unauthenticated("a seller token must name its shop_id")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("token has no subject")
    viewer = Viewer(subject, role, shop_id if role is Role.SELLER else None)
    if cache is not None:
        cache.put(token, viewer, float(claims["exp"]))
    return viewer


@dataclass
class JwksKeys:
    """Public keys from a JWKS endpoint, fetched without blocking and cached; refetched (at most every
    ``min_refresh`` seconds) when a token names a key id we don't have, which is how keys rotate."""

    url: str
    ttl: float = 300.0
    min_refresh: float = 30.0
    on_change: Callable[[], None] | None = None  # e.g. forget tokens verified with withdrawn keys
    _keys: dict[str, Any] = field(default_factory=dict)
    _fetched: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def key_for(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise Unauthenticated("invalid token (DecodeError)") from None
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("token signed with an unknown key")  # e.g. a list, which is no dict key
        now = time.monotonic()
        stale = now - self._fetched > self.ttl
        unknown = kid not in self._keys and now - self._fetched > self.min_refresh
        if stale or unknown or not self._keys:
            async with self._lock:
                if time.monotonic() - self._fetched > self.min_refresh or not self._keys:
                    await self._fetch()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        key = self._keys.get(kid) if kid is not None else None
        if key is None:
            raise Unauthenticated("token signed with an unknown key")
        return key

    async def _fetch(self) -> None:
        try:
            async with (aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2.0)) as session,
                        session.get(self.url) as response):
                document = await response.json(content_type=None)
            keys = jwt.PyJWKSet.from_dict(document).keys
        except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWKSetError) as error:
            if not self._keys:
                raise Unauthenticated(f"signing keys unavailable ({type(error).__name__})") from None
            self._fetched = time.monotonic()  # keep serving the keys we have; try again after min_refresh
            return
        fresh = {k.key_id or "": k.key for k in keys}
        changed = set(fresh) != set(self._keys)
        self._keys = fresh
        self._fetched = time.monotonic()
        if changed and self.on_change is not None:
            self.on_change()


class VerifiedTokens:
    """Tokens already verified, so a client's next request skips the signature check (about a third of a
    millisecond each). A hit is re-checked for expiry; entries are bounded in number."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._tokens: OrderedDict[str, tuple[Viewer, float]] = OrderedDict()

    def get(self, token: str, leeway: float) -> Viewer | None:
        entry = self._tokens.get(token)
        if entry is None:
            return None
        viewer, expires = entry
        if time.time() > expires + leeway:
            del self._tokens[token]
            return None
        return viewer

    def clear(self) -> None:
        self._tokens.clear()

    def put(self, token: str, viewer: Viewer, expires: float) -> None:
        self._tokens[token] = (viewer, expires)
        while len(self._tokens) > self.capacity:
            self._tokens.popitem(last=False)


def mint(settings: TokenSettings, subject: str, role: Role, *, shop_id: str | None = None,
         ttl: int = 7 * 24 * 3600, now: float | None = None) -> str:
    """A development token (HS256 with the configured secret)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {"sub": subject, "role": role.value, "iss": settings.issuer,
                                 "aud": settings.audience, "iat": issued, "exp": issued + ttl}
    if role is Role.SELLER:
        claims["shop_id"] = shop_id or subject
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return token.strip()
