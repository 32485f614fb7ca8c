"""The cross-request parse cache: unchanged upstream JSON is parsed once, anything else is parsed again."""

from __future__ import annotations

import pytest

from gateway.app import create_app
from gateway.errors import UpstreamBadData
from gateway.settings import Mode, Settings
from gateway.upstream.reader import PARSED, ParsedRecords, Reader


class CountingParse:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, r: Reader) -> tuple[str, int]:
        self.calls += 1
        quantity = r.data.get("quantity")
        if not isinstance(quantity, int):
            raise r.bad(f"{r.path}.quantity is not a whole number")
        return (r.text("id"), quantity)


def _item(**fields: object) -> Reader:
    return Reader("orders", {"id": "ord-1", "quantity": 1, **fields}, "$.orders[0]")


def test_the_same_json_is_parsed_once_and_a_changed_byte_is_parsed_again() -> None:
    records, parse = ParsedRecords(), CountingParse()
    first = records.parse(_item(), parse)
    assert records.parse(_item(), parse) is first
    assert parse.calls == 1
    assert records.parse(_item(quantity=2), parse) == ("ord-1", 2)
    assert parse.calls == 2


def test_a_malformed_item_is_rejected_every_time_not_remembered() -> None:
    records, parse = ParsedRecords(), CountingParse()
    for _ in range(2):
        with pytest.raises(UpstreamBadData):
            records.parse(_item(quantity="many"), parse)
    assert parse.calls == 2


def test_the_least_recently_used_record_makes_room() -> None:
    records, parse = ParsedRecords(capacity=2), CountingParse()
    records.parse(_item(quantity=1), parse)
    records.parse(_item(quantity=2), parse)
    records.parse(_item(quantity=1), parse)  # used again: now the most recent
    records.parse(_item(quantity=3), parse)  # evicts quantity=2
    assert parse.calls == 3
    records.parse(_item(quantity=1), parse)
    assert parse.calls == 3
    records.parse(_item(quantity=2), parse)
    assert parse.calls == 4


def test_two_parsers_of_the_same_json_do_not_share_answers() -> None:
    records, one, other = ParsedRecords(), CountingParse(), CountingParse()
    records.parse(_item(), one)
    records.parse(_item(), other)
    assert (one.calls, other.calls) == (1, 1)


def test_shrinking_keeps_the_most_recently_used() -> None:
    records, parse = ParsedRecords(capacity=3), CountingParse()
    for quantity in (1, 2, 3):
        records.parse(_item(quantity=quantity), parse)
    records.resize(1)
    records.parse(_item(quantity=3), parse)
    assert parse.calls == 3
    records.parse(_item(quantity=1), parse)
    assert parse.calls == 4


def test_a_capacity_of_zero_parses_every_time_and_keeps_nothing() -> None:
    records, parse = ParsedRecords(capacity=0), CountingParse()
    first = records.parse(_item(), parse)
    assert records.parse(_item(), parse) == first
    assert parse.calls == 2 and not records._records


def test_the_app_sizes_the_shared_cache_from_its_setting() -> None:
    default = Settings(mode=Mode.DEVELOPMENT).parse_cache_entries
    try:
        create_app(Settings(mode=Mode.DEVELOPMENT, parse_cache_entries=7))
        assert PARSED.capacity == 7
    finally:
        PARSED.resize(default)
    assert default == 4096
