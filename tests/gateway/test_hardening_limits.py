"""Abuse limits (issue 6): each limit refuses with its code, `limit` and `actual`, before any upstream call;
every limit is a setting; the cost estimate knows list sizes; batching is off unless configured; and the
queries the README and the order page actually send pass the defaults."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest
from graphql import OperationDefinitionNode, parse

from gateway.execution import Documents
from gateway.limits import LimitExceeded, Limits, check_cost, cost
from gateway.schema import schema
from gateway.settings import Mode, Settings
from tests.hardening_support import (
    GRAPHQL_RESPONSE,
    JSON,
    ORDER_PAGE,
    PRODUCTION,
    assert_no_upstream_call,
    assert_refused,
    only_error,
)
from tests.harness import ALICE, Gateway, running_gateway
from tests.readme_examples import EXAMPLES
from tests.upstreams import MockUpstreams

DEFAULTS = Settings(mode=Mode.DEVELOPMENT)


def _nested(depth: int) -> str:
    """A document nested exactly `depth` fields deep (shape limits run before validation)."""
    return "{ " + "a { " * (depth - 1) + "b" + " }" * (depth - 1) + " }"


# limit code -> (a document over the default limit, the setting, the default, the actual value reported)
OVER_DEFAULT: dict[str, tuple[str, str, int, int]] = {
    "DEPTH_LIMIT_EXCEEDED": (_nested(DEFAULTS.max_depth + 1), "max_depth", 12, 13),
    "ALIAS_LIMIT_EXCEEDED": ("{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }", "max_aliases", 30, 31),
    "DIRECTIVE_LIMIT_EXCEEDED": ("{ " + " ".join(["__typename @skip(if: false)"] * 21) + " }", "max_directives",
                                 20, 21),
    "TOKEN_LIMIT_EXCEEDED": ("{ " + " ".join(["a"] * 1_500) + " }", "max_tokens", 1_500, 1_501),
    "FIELD_LIMIT_EXCEEDED": ("{ " + " ".join(f"viewer {{ id{n}: id }}" for n in range(0)) + " ".join(
        ["__typename"] * 401) + " }", "max_fields", 400, 401),
    "DOCUMENT_TOO_LARGE": ("{ __typename }" + " " * 20_000, "max_document_length", 20_000, 20_014),
    "COST_LIMIT_EXCEEDED": ("{ orders(first: 100) { nodes { id packages { trackingEvents { time code message location }"
                            " tracker { kind label state time description } } } } }", "max_cost", 50_000, 0),
}
# The same kinds of documents, within the defaults, and a setting that refuses them.
FINE_BY_DEFAULT: dict[str, tuple[str, dict[str, int]]] = {
    "DEPTH_LIMIT_EXCEEDED": ('{ order(id: "ord-us-in-transit") { packages { carrier { name } } } }', {"max_depth": 2}),
    "ALIAS_LIMIT_EXCEEDED": ("{ me: viewer { id } again: viewer { role } }", {"max_aliases": 1}),
    "DIRECTIVE_LIMIT_EXCEEDED": ("{ viewer { id @include(if: true) role @skip(if: false) } }", {"max_directives": 1}),
    "TOKEN_LIMIT_EXCEEDED": ("{ viewer { id role shopId } }", {"max_tokens": 5}),
    "FIELD_LIMIT_EXCEEDED": ("{ viewer { id role shopId } }", {"max_fields": 3}),
    "DOCUMENT_TOO_LARGE": ("{ viewer { id role shopId } }", {"max_document_length": 20}),
    "COST_LIMIT_EXCEEDED": ("{ orders(first: 5) { nodes { id } } }", {"max_cost": 5}),
}


def test_the_documented_defaults_are_what_the_tables_below_assume() -> None:
    assert (DEFAULTS.max_depth, DEFAULTS.max_aliases, DEFAULTS.max_directives, DEFAULTS.max_tokens,
            DEFAULTS.max_document_length, DEFAULTS.max_cost, DEFAULTS.max_fields, DEFAULTS.max_batch) == (
        12, 30, 20, 1_500, 20_000, 50_000, 400, 0)
    assert Limits() == Limits(DEFAULTS.max_depth, DEFAULTS.max_aliases, DEFAULTS.max_directives, DEFAULTS.max_cost,
                              DEFAULTS.max_fields)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize("code", sorted(OVER_DEFAULT))
async def test_each_limit_refuses_with_its_code_limit_and_actual_before_any_upstream_call(
        mocks: MockUpstreams, gateway: Gateway, code: str, accept: str) -> None:
    document, _, limit, actual = OVER_DEFAULT[code]
    response = await gateway.client.post("/graphql", json={"query": document}, headers={
        "Authorization": f"Bearer {gateway.token()}", "Accept": accept})
    body = assert_refused(response, 400 if accept == GRAPHQL_RESPONSE else 200, code)
    extensions = only_error(body)["extensions"]
    assert extensions["limit"] == limit
    if code == "COST_LIMIT_EXCEEDED":
        operation = parse(document).definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        actual = cost(parse(document), operation, {})
    assert extensions["actual"] == actual > limit
    assert str(limit) in only_error(body)["message"]
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize(("depth", "code"), [(150, "DEPTH_LIMIT_EXCEEDED"), (500, "GRAPHQL_PARSE_FAILED")])
async def test_a_very_deep_document_is_refused_quickly(mocks: MockUpstreams, gateway: Gateway, depth: int,
                                                       code: str) -> None:
    # Past a few hundred levels graphql-core's parser gives up by itself; below that the depth limit refuses,
    # reporting a lower bound of the depth (the walk stops once the limit is exceeded).
    started = time.perf_counter()
    response = await gateway.post(_nested(depth))
    assert time.perf_counter() - started < 1.0
    extensions = only_error(response.json())["extensions"]
    assert extensions["code"] == code
    if code == "DEPTH_LIMIT_EXCEEDED":
        assert depth >= extensions["actual"] > extensions["limit"] == 12
    await assert_no_upstream_call(mocks)


@pytest.mark.parametrize("code", sorted(FINE_BY_DEFAULT))
async def test_every_limit_is_a_setting_lowering_it_refuses_a_previously_fine_query(
        mocks: MockUpstreams, code: str) -> None:
    document, lowered = FINE_BY_DEFAULT[code]
    async with running_gateway(mocks) as gw:
        fine = await gw.query(document)
        assert "errors" not in fine, fine
    await mocks.reset_counters()
    async with running_gateway(mocks, **lowered) as gw:
        response = await gw.post(document)
        body = assert_refused(response, 200, code)
        assert only_error(body)["extensions"]["limit"] == next(iter(lowered.values()))
    await assert_no_upstream_call(mocks)


# -- the cost knows list sizes ----------------------------------------------------------------------

SELECTION = "id packages { status tracker { kind state time description } }"
ONE_ORDER = f'{{ order(id: "ord-us-split-size") {{ {SELECTION} }} }}'
FIFTY_ORDERS = f"{{ orders(first: 50) {{ nodes {{ {SELECTION} }} }} }}"


def _cost(document: str, variables: dict[str, Any] | None = None) -> int:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    return cost(parsed, operation, variables or {})


def test_the_cost_of_a_page_of_orders_grows_with_first_and_with_nested_lists() -> None:
    one, fifty = _cost(ONE_ORDER), _cost(FIFTY_ORDERS)
    assert fifty > 40 * one, (one, fifty)
    # `first` counts, as a literal or a variable; edges and nodes cost alike.
    ten = _cost(FIFTY_ORDERS.replace("first: 50", "first: 10"))
    by_variable = _cost(f"query($n: Int!) {{ orders(first: $n) {{ nodes {{ {SELECTION} }} }} }}", {"n": 50})
    edges = _cost(f"{{ orders(first: 50) {{ edges {{ node {{ {SELECTION} }} }} }} }}")
    assert ten < fifty and by_variable == fifty and edges > fifty
    # Nested lists multiply: the tracker inside packages costs more than the same fields on the order.
    flat = _cost('{ order(id: "x") { id status statusLabel displayStatus placedAt } }')
    assert one > 4 * flat
    # Fragments count where they are spread.
    spread = _cost(f'{{ order(id: "x") {{ ...F }} }} fragment F on Order {{ {SELECTION} }}')
    assert spread == one


async def test_a_cost_limit_between_one_order_and_fifty_refuses_only_the_fifty(mocks: MockUpstreams) -> None:
    one, fifty = _cost(ONE_ORDER), _cost(FIFTY_ORDERS)
    between = (one + fifty) // 2
    async with running_gateway(mocks, max_cost=between) as gw:
        answer = await gw.query(ONE_ORDER)
        assert "errors" not in answer and answer["data"]["order"]["packages"], answer
        await mocks.reset_counters()
        refused = await gw.client.post("/graphql", json={"query": FIFTY_ORDERS}, headers={
            "Authorization": f"Bearer {gw.token()}", "Accept": GRAPHQL_RESPONSE})
        extensions = only_error(assert_refused(refused, 400, "COST_LIMIT_EXCEEDED"))["extensions"]
        assert extensions == {"code": "COST_LIMIT_EXCEEDED", "limit": between, "actual": fifty}
        await assert_no_upstream_call(mocks)
        # With a smaller page the same selection fits again.
        small = FIFTY_ORDERS.replace("first: 50", "first: 2")
        assert _cost(small) <= between
        assert "errors" not in await gw.query(small)


BY_DEFAULT = f"query Page($n: Int = 50) {{ orders(first: $n) {{ nodes {{ {SELECTION} }} }} }}"


def test_a_page_size_costs_the_same_as_a_literal_a_variable_or_a_variables_default() -> None:
    fifty = _cost(FIFTY_ORDERS)
    assert _cost(BY_DEFAULT) == _cost(BY_DEFAULT, {"n": 50}) == _cost(BY_DEFAULT, {"n": 50.0}) == fifty
    assert _cost(BY_DEFAULT, {"n": 2}) == _cost(FIFTY_ORDERS.replace("first: 50", "first: 2"))
    # A value coercion will refuse costs like the default, so that the cost stays one per page size.
    assert _cost(BY_DEFAULT, {"n": "2"}) == _cost(BY_DEFAULT, {"n": None}) == fifty
    # Without a default, a variable left out is the argument's own default page.
    assert _cost(BY_DEFAULT.replace("Int = 50", "Int")) == _cost(FIFTY_ORDERS.replace("first: 50", "first: 10"))


async def test_a_variables_default_page_size_does_not_escape_the_cost_limit(mocks: MockUpstreams) -> None:
    one, fifty = _cost(ONE_ORDER), _cost(FIFTY_ORDERS)
    between = (one + fifty) // 2
    async with running_gateway(mocks, max_cost=between) as gw:
        async def post(variables: dict[str, Any]) -> httpx.Response:
            return await gw.client.post("/graphql", json={"query": BY_DEFAULT, "variables": variables}, headers={
                "Authorization": f"Bearer {gw.token()}", "Accept": GRAPHQL_RESPONSE})

        # A page size the Int coercion refuses comes first, so that a cost cached for it cannot let the
        # default through afterwards.
        assert_refused(await post({"n": "x"}), 400, "COST_LIMIT_EXCEEDED")
        for variables in ({}, {"n": 50}, {"n": 50.0}):
            refused = assert_refused(await post(variables), 400, "COST_LIMIT_EXCEEDED")
            assert only_error(refused)["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "limit": between,
                                                         "actual": fifty}, variables
        await assert_no_upstream_call(mocks)
        small = await post({"n": 2})
        assert small.status_code == 200 and "errors" not in small.json(), small.text


def test_check_cost_returns_the_estimate_and_refuses_above_the_limit() -> None:
    parsed = parse(FIFTY_ORDERS)
    operation = parsed.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    estimate = check_cost(parsed, operation, {}, Limits(max_cost=10**9))
    assert estimate == _cost(FIFTY_ORDERS)
    with pytest.raises(LimitExceeded, match="could resolve about") as refused:
        check_cost(parsed, operation, {}, Limits(max_cost=estimate - 1))
    assert refused.value.extensions == {"code": "COST_LIMIT_EXCEEDED", "limit": estimate - 1, "actual": estimate}


# -- batching ----------------------------------------------------------------------------------------

async def _batch(gw: Gateway, operations: list[Any], accept: str = GRAPHQL_RESPONSE) -> Any:
    return await gw.client.post("/graphql", content=orjson.dumps(operations), headers={
        "Authorization": f"Bearer {gw.token()}", "Content-Type": JSON, "Accept": accept})


ONE = {"query": "query($id: ID!) { order(id: $id) { id } }", "variables": {"id": "ord-us-in-transit"}}
TWO = {"query": "{ viewer { id } }"}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_batching_is_off_by_default(mocks: MockUpstreams, gateway: Gateway, accept: str) -> None:
    assert gateway.settings.max_batch == 0
    for operations in ([ONE], [ONE, TWO], []):
        assert_refused(await _batch(gateway, operations, accept), 400, "BATCHING_DISABLED")
    await assert_no_upstream_call(mocks)


async def test_with_max_batch_2_a_batch_of_two_runs_and_three_is_refused(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, max_batch=2) as gw:
        response = await _batch(gw, [ONE, TWO])
        assert response.status_code == 200
        assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
        assert response.json() == [{"data": {"order": {"id": "ord-us-in-transit"}}},
                                   {"data": {"viewer": {"id": ALICE}}}]
        one = await _batch(gw, [TWO])
        assert one.status_code == 200 and one.json() == [{"data": {"viewer": {"id": ALICE}}}]
        await mocks.reset_counters()
        body = assert_refused(await _batch(gw, [ONE, ONE, ONE]), 400, "BATCH_LIMIT_EXCEEDED")
        assert "2" in only_error(body)["message"]
        assert_refused(await _batch(gw, []), 400, "BATCH_LIMIT_EXCEEDED")
        # A malformed member refuses the whole batch before anything runs.
        assert_refused(await _batch(gw, [ONE, "not an operation"]), 400, "BAD_REQUEST")
        await assert_no_upstream_call(mocks)


async def test_each_member_of_a_batch_meets_the_limits_on_its_own(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, max_batch=2) as gw:
        deep = {"query": _nested(13)}
        response = await _batch(gw, [TWO, deep], JSON)
        assert response.status_code == 200
        first, second = response.json()
        assert first == {"data": {"viewer": {"id": ALICE}}}
        assert only_error(second)["extensions"]["code"] == "DEPTH_LIMIT_EXCEEDED"


# -- what real clients send passes the defaults ----------------------------------------------------------

def _documents() -> Documents:
    limits = Limits(DEFAULTS.max_depth, DEFAULTS.max_aliases, DEFAULTS.max_directives, DEFAULTS.max_cost)
    return Documents(schema._schema, limits, max_tokens=DEFAULTS.max_tokens,
                     max_length=DEFAULTS.max_document_length, introspection=False, suggestions=False)


REAL_DOCUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    **{f"{e.name}[{n}]": (s.document, s.variables) for e in EXAMPLES for n, s in enumerate(e.steps)},
    "order page": (ORDER_PAGE, {"id": "ord-uk-split-three"}),
}


@pytest.mark.parametrize("name", sorted(REAL_DOCUMENTS))
def test_the_readme_examples_and_the_order_page_pass_the_default_limits(name: str) -> None:
    document, variables = REAL_DOCUMENTS[name]
    prepared = _documents().prepare(document)
    assert prepared.errors == (), prepared.errors
    assert prepared.document is not None
    operation = next(iter(prepared.operations.values()))
    check_cost(prepared.document, operation, variables, Limits(max_cost=DEFAULTS.max_cost))


async def test_the_full_order_page_runs_under_the_default_limits_in_production(mocks: MockUpstreams) -> None:
    async with running_gateway(mocks, **PRODUCTION) as gw:
        for order_id, buyer in (("ord-uk-split-three", "buyer-uk-olivia"), ("ord-us-return-in-progress", ALICE)):
            response = await gw.client.post("/graphql", json={"query": ORDER_PAGE, "variables": {"id": order_id}},
                                            headers={"Authorization": f"Bearer {gw.token(buyer)}",
                                                     "Accept": GRAPHQL_RESPONSE})
            assert response.status_code == 200
            body = response.json()
            assert "errors" not in body, body["errors"]
            assert body["data"]["order"]["id"] == order_id
