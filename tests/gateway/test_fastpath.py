"""The compiled executor answers exactly as graphql-core does: a differential test over the catalogue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType, parse

from gateway.fastpath import Compiler, Unsupported
from gateway.schema import schema
from mocks.catalog import SCENARIOS
from tests.harness import Gateway, running_gateway
from tests.upstreams import MockUpstreams


def _named(t: GraphQLOutputType) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def everything(type_name: str, depth: int = 6) -> str:
    """Every field without arguments, recursively: the largest selection a page could make."""
    t = schema._schema.type_map[type_name]
    assert isinstance(t, GraphQLObjectType)
    parts = []
    for name, f in t.fields.items():
        if f.args:
            continue
        inner = _named(f.type)
        if isinstance(inner, GraphQLObjectType):
            if depth > 1:
                parts.append(f"{name} {{ {everything(inner.name, depth - 1)} }}")
        else:
            parts.append(name)
    return " ".join(parts) + " __typename"


ORDER = "query Everything($id: ID!) { order(id: $id) { " + everything("Order") + " } }"


@asynccontextmanager
async def both(mocks: MockUpstreams) -> AsyncIterator[tuple[Gateway, Gateway]]:
    # The everything-query is far beyond a page's cost: lift the limit for this comparison.
    lifted = {"max_cost": 10**7, "max_fields": 10**5, "max_tokens": 10**5, "breaker_threshold": 1000}
    async with running_gateway(mocks, **lifted) as fast, \
            running_gateway(mocks, compiled_execution=False, **lifted) as general:
        yield fast, general


def _normal(body: dict[str, Any]) -> dict[str, Any]:
    errors = sorted((repr(e.get("path")), e["message"], repr(e.get("extensions")), repr(e.get("locations")))
                    for e in body.get("errors", []))
    return {"data": body.get("data"), "errors": errors}


async def _same(fast: Gateway, general: Gateway, query: str, variables: dict[str, Any] | None = None,
                **kw: Any) -> dict[str, Any]:
    a = await fast.query(query, variables, **kw)
    b = await general.query(query, variables, **kw)
    assert _normal(a) == _normal(b)
    return a


def test_the_order_page_compiles_and_mutations_do_not() -> None:
    document = parse(ORDER)
    compiler = Compiler(schema)
    compiler.compile(document, document.definitions[0])  # type: ignore[arg-type]
    mutation = parse("mutation { cancelOrder(input: {orderId: \"x\", reason: NO_LONGER_NEEDED, "
                     "idempotencyKey: \"12345678\"}) { replayed } }")
    with pytest.raises(Unsupported):
        compiler.compile(mutation, mutation.definitions[0])  # type: ignore[arg-type]
    conditional = parse("query($x: Boolean!) { viewer { id @include(if: $x) } }")
    with pytest.raises(Unsupported):
        compiler.compile(conditional, conditional.definitions[0])  # type: ignore[arg-type]


async def test_every_scenario_answers_identically(mocks: MockUpstreams) -> None:
    async with both(mocks) as (fast, general):
        for scenario in SCENARIOS:
            body = await _same(fast, general, ORDER, {"id": scenario.id}, as_=scenario.buyer.id)
            assert body["data"]["order"]["id"] == scenario.id


@pytest.mark.parametrize("service", ["orders", "carrier", "aftersales"])
async def test_failures_null_the_same_fields_with_the_same_errors(mocks: MockUpstreams, service: str) -> None:
    await mocks.fault(service, status=503)
    async with both(mocks) as (fast, general):
        await _same(fast, general, ORDER, {"id": "ord-uk-split-three"}, as_="buyer-uk-olivia")
        await _same(fast, general, "{ orders(first: 5) { edges { cursor node { id statusLabel "
                                   "packages { trackingEvents { code } } afterSalesActions { kind } } } } }")


async def test_shapes_of_documents_answer_identically(mocks: MockUpstreams) -> None:
    documents = [
        ("""query($id: ID!) { a: order(id: $id) { id s: status ...F packages { ... on Package { id n: number } } }
            b: order(id: "ord-nope") { id } viewer { id role __typename } }
            fragment F on Order { statusLabel packages { status id } __typename }""", {"id": "ord-us-split-size"}),
        ("""{ order(id: "ord-us-late") { id @skip(if: true) statusLabel @include(if: true)
            alerts @include(if: false) { kind } } }""", None),
        ("""query($x: Boolean!) { order(id: "ord-us-late") { id @include(if: $x) statusLabel } }""", {"x": False}),
        ("""query($f: OrderHistoryFilter, $n: Int) { orders(first: $n, filter: $f) { totalCount
            pageInfo { hasNextPage endCursor } nodes { id displayStatus } } }""",
         {"f": {"displayStatus": ["DELIVERED", "DELAYED"]}, "n": 4}),
        ("""query($m: Market!) { returnReasons(market: $m) { code label category resolutions } }""", {"m": "UK"}),
        ("""{ order(id: "ord-us-in-transit") { packages { tracker { kind } } } order2: order(id: "ord-us-lost") {
            packages { alerts { kind title } } } }""", None),
    ]
    async with both(mocks) as (fast, general):
        for query, variables in documents:
            await _same(fast, general, query, variables)
        await _same(fast, general, "{ viewer { id } }", as_=None)  # unauthenticated: same error, same nulls
        await _same(fast, general, "{ orders(first: 2) { nodes { id } } }", as_=None)  # non-null root: data null
