"""Who is asking: bearer tokens (signed JWTs) verified into a :class:`Viewer`, and minted for development.

A buyer sees only their own orders, a seller only their shop's; anything else is answered exactly
as an unknown id is, so an order id reveals nothing about whether it exists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum

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
        if self.role is Role.BUYER:
            return order.buyer_id == self.subject
        return self.shop_id is not None and order.shop_id == self.shop_id


@dataclass(frozen=True)
class TokenSettings:
    secret: str
    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ("HS256",)
    leeway: float = 30.0  # clock skew tolerated between the issuer and us, in seconds
    public_key: str | None = None  # PEM, for RS256


def verify(token: str, settings: TokenSettings) -> Viewer:
    key = settings.public_key if settings.public_key and "RS256" in settings.algorithms else settings.secret
    try:
        claims = jwt.decode(
            token, key, algorithms=list(settings.algorithms), audience=settings.audience, issuer=settings.issuer,
            leeway=settings.leeway, options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token expired") from None
    except jwt.InvalidAudienceError:
        raise Unauthenticated("token is for another audience") from None
    except jwt.InvalidIssuerError:
        raise Unauthenticated("token from an untrusted issuer") from None
    except jwt.InvalidTokenError as exc:
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
    return Viewer(subject, role, shop_id if role is Role.SELLER else None)


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
