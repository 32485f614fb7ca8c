"""Reading untrusted upstream JSON: every field checked, every failure named, at the border.

A :class:`Reader` wraps one JSON object and knows where it sits (``orders[3].line_items[0]``), so a
missing field, a wrong type, an unknown enum value or an impossible date becomes one
:class:`UpstreamBadData` that says exactly what was wrong, instead of a ``KeyError`` deep inside.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from typing import Any, TypeVar

import orjson

from gateway.domain.model import Money
from gateway.errors import UpstreamBadData

E = TypeVar("E", bound=Enum)
R = TypeVar("R")
logger = logging.getLogger("gateway.upstream")
# Beyond these, a timestamp is not a date any upstream of ours could mean.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


_EARLIEST_UNIX = int(_EARLIEST.timestamp())
_LATEST_UNIX = int(_LATEST.timestamp())


@lru_cache(maxsize=4096)
def _money(value: str, currency: str) -> Money | None:
    """An amount with exactly two decimals, or None; prices repeat, so each string is read once."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount.as_tuple().exponent != -2:
        return None
    return Money(amount, currency)


class Reader:
    __slots__ = ("_index", "_key", "_parent", "_path", "data", "service")

    def __init__(self, service: str, data: Any, path: str = "$") -> None:
        self.service = service
        self._path: str | None = path
        self._parent: Reader | None = None
        self._key = ""
        self._index: int | None = None
        if not isinstance(data, dict):
            raise self.bad(f"{path} is not an object")
        self.data: dict[str, Any] = data

    def _child(self, data: Any, key: str, index: int | None = None) -> Reader:
        # Most readers never fail, so their path is only worked out when an error names it.
        child = Reader.__new__(Reader)
        child.service, child._path, child._parent, child._key, child._index = self.service, None, self, key, index
        if not isinstance(data, dict):
            raise child.bad(f"{child.path} is not an object")
        child.data = data
        return child

    @property
    def path(self) -> str:
        if self._path is None:
            assert self._parent is not None
            step = f".{self._key}" if self._index is None else f".{self._key}[{self._index}]"
            self._path = self._parent.path + step
        return self._path

    def bad(self, reason: str) -> UpstreamBadData:
        # Every rejection at the border is made here, so every one is logged with its reason, whether it
        # costs one item of a batch or the whole answer.
        logger.warning("rejected at the border: %s service: %s", self.service, reason)
        return UpstreamBadData(self.service, f"malformed response: {reason}")

    def _get(self, key: str, *, optional: bool) -> Any:
        if key not in self.data:
            if optional:
                return None
            raise self.bad(f"{self.path}.{key} is missing")
        value = self.data[key]
        if value is None and not optional:
            raise self.bad(f"{self.path}.{key} is null")
        return value

    # The getters below check the common, well-formed case first and only then work out what is wrong:
    # every upstream field of every request passes through them.

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if value.__class__ is str:
            return value
        value = self._get(key, optional=False)
        if not isinstance(value, str):
            raise self.bad(f"{self.path}.{key} is not a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or value.__class__ is str:
            return value or None
        if not isinstance(value, str):
            raise self.bad(f"{self.path}.{key} is not a string")
        return value or None

    def flag(self, key: str, default: bool = False) -> bool:
        value = self._get(key, optional=True)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.bad(f"{self.path}.{key} is not a boolean")
        return value

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key)
        if value.__class__ is int:
            return value
        value = self._get(key, optional=default is not None)
        if value is None and default is not None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.bad(f"{self.path}.{key} is not an integer")
        return value

    def opt_integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.bad(f"{self.path}.{key} is not an integer")
        return value

    def enum(self, key: str, kind: type[E]) -> E:
        value = self._get(key, optional=False)
        try:
            return kind(value)
        except ValueError:
            raise self.bad(f"{self.path}.{key} has unknown value {value!r}") from None

    def choice(self, key: str, allowed: frozenset[str]) -> str:
        value = self.text(key)
        if value not in allowed:
            raise self.bad(f"{self.path}.{key} has unknown value {value!r}")
        return value

    def _check_time(self, key: str, t: datetime) -> datetime:
        if not _EARLIEST <= t < _LATEST:
            raise self.bad(f"{self.path}.{key} is an impossible date ({t.isoformat()})")
        return t

    def unix(self, key: str) -> datetime:
        value = self.integer(key)
        if _EARLIEST_UNIX <= value < _LATEST_UNIX:
            return datetime.fromtimestamp(value, UTC)
        raise self.bad(f"{self.path}.{key} is an impossible date ({value})")

    def opt_unix(self, key: str) -> datetime | None:
        return self.unix(key) if self.data.get(key) is not None else None

    def iso(self, key: str) -> datetime:
        value = self.text(key)
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            raise self.bad(f"{self.path}.{key} is an impossible date ({value!r})") from None
        if t.tzinfo is None:
            raise self.bad(f"{self.path}.{key} has no UTC offset ({value!r})")
        return self._check_time(key, t.astimezone(UTC))

    def opt_iso(self, key: str) -> datetime | None:
        return self.iso(key) if self.data.get(key) is not None else None

    def opt_date(self, key: str) -> date | None:
        value = self.opt_text(key)
        if value is None:
            return None
        try:
            d = date.fromisoformat(value[:10])
        except ValueError:
            raise self.bad(f"{self.path}.{key} is an impossible date ({value!r})") from None
        if not 2000 <= d.year < 2100:
            raise self.bad(f"{self.path}.{key} is an impossible date ({value!r})")
        return d

    def money(self, key: str, currency: str) -> Money:
        value = self.text(key)
        money = _money(value, currency)
        if money is None:
            raise self.bad(f"{self.path}.{key} is not an amount with 2 decimals ({value!r})")
        return money

    def obj(self, key: str) -> Reader:
        return self._child(self._get(key, optional=False), key)

    def opt_obj(self, key: str) -> Reader | None:
        value = self._get(key, optional=True)
        return None if value is None else self._child(value, key)

    def array(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value.__class__ is list:
            return value
        value = self._get(key, optional=False)
        if not isinstance(value, list):
            raise self.bad(f"{self.path}.{key} is not a list")
        return value

    def objects(self, key: str) -> Iterator[Reader]:
        for i, item in enumerate(self.array(key)):
            yield self._child(item, key, i)

    def strings(self, key: str) -> tuple[str, ...]:
        values = tuple(self.array(key))
        try:
            "".join(values)  # the cheapest complete check: join refuses anything but strings
        except TypeError:
            raise self.bad(f"{self.path}.{key} is not a list of strings") from None
        return values


class ParsedRecords:
    """Records parsed from the very same upstream JSON, remembered (bounded, least recently used first).

    Parsing is a pure function of the item's bytes, so an answer that has not changed since the last
    request is not validated and converted again; a changed byte is a different key. Only successes are
    kept: a malformed item is rejected, and logged, every time."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._records: OrderedDict[tuple[Callable[[Reader], Any], bytes], Any] = OrderedDict()

    def resize(self, capacity: int) -> None:
        # Least recently used go first; an LRU smaller than a round of repeated reads keeps none of them.
        self.capacity = capacity
        while len(self._records) > capacity:
            self._records.popitem(last=False)

    def parse(self, r: Reader, parse: Callable[[Reader], R]) -> R:
        if not self.capacity:
            return parse(r)
        key = (parse, orjson.dumps(r.data))
        found = self._records.get(key)
        if found is not None:
            self._records.move_to_end(key)
            return found  # type: ignore[no-any-return]
        record = parse(r)
        self._records[key] = record
        if len(self._records) > self.capacity:
            self._records.popitem(last=False)
        return record


# One per process: the same upstream bytes parse to the same record for every app in it. The app sizes it
# from PARSE_CACHE_ENTRIES at start-up.
PARSED = ParsedRecords()


def each_record(r: Reader, key_field: str, parse: Callable[[Reader], R]) -> dict[str, R | UpstreamBadData]:
    """Parse one item of a batch; a malformed item becomes an error for that item alone (logged by
    ``Reader.bad``). An item whose own id cannot be read cannot be attributed, so it fails the batch."""
    key = r.text(key_field)
    try:
        return {key: PARSED.parse(r, parse)}
    except UpstreamBadData as error:
        return {key: error}
