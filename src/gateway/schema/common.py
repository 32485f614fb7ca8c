"""Small value types shared by the schema's object types."""

from __future__ import annotations

import strawberry

from gateway.domain import model
from gateway.domain.policy import MarketPolicy


@strawberry.type(description="An amount in one currency; `amount` is a decimal string, never a float.")
class Money:
    amount: str
    currency: str
    formatted: str = strawberry.field(description="Ready to show, in the market's style: $12.99 or £12.99.")
    minor_units: int = strawberry.field(description="The amount in cents or pence.")

    @classmethod
    def of(cls, money: model.Money, market: MarketPolicy) -> Money:
        return cls(amount=f"{money.amount:.2f}", currency=money.currency, formatted=market.money(money),
                   minor_units=int(money.amount * 100))


@strawberry.type
class Address:
    name: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str

    @classmethod
    def of(cls, a: model.Address) -> Address:
        return cls(name=a.name, line1=a.line1, line2=a.line2, city=a.city, region=a.region,
                   postal_code=a.postal_code, country=a.country)


@strawberry.type
class Seller:
    id: strawberry.ID
    name: str
