"""The border: each getter takes exactly the well-formed value and names the path of anything else."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from gateway.domain.model import Money
from gateway.errors import UpstreamBadData
from gateway.upstream.reader import Reader

ITEM = {"id": "ord-1", "qty": 2, "flag": True, "when": 1_763_640_000, "price": "12.50",
        "tags": ["a", "b"], "lines": [{"id": "l-1"}, {"id": "l-2"}], "blank": "", "nothing": None}


def _reader(**changes: Any) -> Reader:
    return Reader("orders", {**ITEM, **changes}, "$.orders[0]")


def test_well_formed_values_come_back_typed() -> None:
    r = _reader()
    assert r.text("id") == "ord-1" and r.opt_text("blank") is None and r.opt_text("absent") is None
    assert r.integer("qty") == 2 and r.opt_integer("nothing") is None and r.integer("absent", 7) == 7
    assert r.unix("when") == datetime(2025, 11, 20, 12, tzinfo=UTC) and r.opt_unix("nothing") is None
    assert r.money("price", "USD") == Money(Decimal("12.50"), "USD")
    assert r.strings("tags") == ("a", "b")
    assert [line.text("id") for line in r.objects("lines")] == ["l-1", "l-2"]


@pytest.mark.parametrize(("changes", "read", "message"), [
    ({"id": 12}, lambda r: r.text("id"), "$.orders[0].id is not a string"),
    ({"id": None}, lambda r: r.text("id"), "$.orders[0].id is null"),
    ({}, lambda r: r.text("absent"), "$.orders[0].absent is missing"),
    ({"blank": 0}, lambda r: r.opt_text("blank"), "$.orders[0].blank is not a string"),
    ({"qty": True}, lambda r: r.integer("qty"), "$.orders[0].qty is not an integer"),
    ({"qty": 2.0}, lambda r: r.integer("qty"), "$.orders[0].qty is not an integer"),
    ({"qty": False}, lambda r: r.opt_integer("qty"), "$.orders[0].qty is not an integer"),
    ({"when": 10**12}, lambda r: r.unix("when"), "$.orders[0].when is an impossible date (1000000000000)"),
    ({"when": 0}, lambda r: r.opt_unix("when"), "$.orders[0].when is an impossible date (0)"),
    ({"price": "12.5"}, lambda r: r.money("price", "USD"), "$.orders[0].price is not an amount with 2 decimals"),
    ({"price": "NaN"}, lambda r: r.money("price", "USD"), "$.orders[0].price is not an amount with 2 decimals"),
    ({"price": "twelve"}, lambda r: r.money("price", "USD"), "$.orders[0].price is not an amount with 2 decimals"),
    ({"tags": ["a", 1]}, lambda r: r.strings("tags"), "$.orders[0].tags is not a list of strings"),
    ({"tags": "a,b"}, lambda r: r.strings("tags"), "$.orders[0].tags is not a list"),
    ({"lines": [{"id": "l-1"}, {"id": 2}]}, lambda r: [x.text("id") for x in r.objects("lines")],
     "$.orders[0].lines[1].id is not a string"),
    ({"lines": [{"id": "l-1"}, "l-2"]}, lambda r: list(r.objects("lines")), "$.orders[0].lines[1] is not an object"),
])
def test_anything_else_is_bad_data_naming_its_path(changes: dict[str, Any], read: Any, message: str) -> None:
    with pytest.raises(UpstreamBadData) as caught:
        read(_reader(**changes))
    assert message in caught.value.detail
    assert caught.value.service == "orders"


def test_a_nested_path_is_spelled_out_only_when_it_is_needed() -> None:
    r = Reader("carrier", {"a": {"b": [{"c": {"d": "x"}}]}})
    leaf = next(r.obj("a").objects("b")).obj("c")
    assert leaf.text("d") == "x"
    with pytest.raises(UpstreamBadData, match=r"\$\.a\.b\[0\]\.c\.e is missing"):
        leaf.text("e")
