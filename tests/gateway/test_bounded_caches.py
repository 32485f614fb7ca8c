"""Every cache the gateway keeps between requests is bounded: filled past its capacity, it stays at it.
(The benchmark's soak cycles a few dozen orders and two documents, so it cannot show this.)"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from gateway.auth import Role, VerifiedTokens, Viewer
from gateway.domain import policy
from gateway.domain.model import Market
from gateway.execution import Documents
from gateway.limits import Limits
from gateway.observability import Metrics, RequestInstruments, Tracing
from gateway.persisted import MemoryQueryStore
from gateway.ratelimit import MemoryRateLimiter
from gateway.schema import schema
from gateway.upstream.reader import PARSED, ParsedRecords, Reader


def test_documents_keep_at_most_their_capacity_and_the_most_recent() -> None:
    documents = Documents(schema._schema, Limits(), max_tokens=1500, max_length=20_000, introspection=False,
                          suggestions=False, capacity=50)
    texts = [f"query Q{i} {{ cancelReasons {{ code }} }}" for i in range(200)]
    for text in texts:
        documents.prepare(text)
    assert len(documents._cache) == 50
    documents.prepare(texts[-1])
    assert documents.hits == 1 and documents.misses == 200


def test_a_document_remembers_a_bounded_number_of_costs() -> None:
    documents = Documents(schema._schema, Limits(), max_tokens=1500, max_length=20_000, introspection=False,
                          suggestions=False)
    prepared = documents.prepare("query($n: Int!) { orders(first: $n) { edges { node { id } } } }")
    operation = prepared.operation(None)
    assert operation is not None
    for n in range(1, 300):
        prepared.cost(operation, {"n": n})
    assert len(prepared.costs) <= 65


async def test_tokens_rate_buckets_and_persisted_queries_are_bounded() -> None:
    tokens = VerifiedTokens(capacity=100)
    viewer = Viewer(subject="buyer-x", role=Role.BUYER)
    for i in range(1000):
        tokens.put(f"token-{i}", viewer, time.time() + 60)
    assert len(tokens._tokens) == 100 and tokens.get("token-999", 0) is viewer and tokens.get("token-0", 0) is None

    limiter = MemoryRateLimiter(per_minute=60, burst=5, capacity=100)
    for i in range(1000):
        await limiter.take(f"client-{i}")
    assert len(limiter._buckets) == 100

    queries = MemoryQueryStore(capacity=100)
    for i in range(1000):
        await queries.put(f"digest-{i}", "{ viewer { id } }")
    assert len(queries._queries) == 100


def test_parsed_records_are_bounded() -> None:
    records = ParsedRecords(capacity=10)
    calls = 0

    def parse(r: Reader) -> str:
        nonlocal calls
        calls += 1
        return r.text("id")

    for i in range(100):
        records.parse(Reader("orders", {"id": f"ord-{i}"}), parse)
    assert len(records._records) == 10 and calls == 100
    assert 0 < PARSED.capacity <= 4096, "the instance every upstream parser shares is bounded too"


def test_client_chosen_operation_names_cannot_grow_the_metric_labels() -> None:
    instruments = RequestInstruments(Metrics(), Tracing("none"), max_names=20)
    labels = {instruments._label(f"Op{i}") for i in range(500)}
    assert len(labels) == 21 and "other" in labels
    assert instruments._label("not a name!") == "other"


def test_worded_dates_are_bounded() -> None:
    market = policy.policy(Market.US)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minutes in range(0, 20_000, 1):
        market.moment(start + timedelta(minutes=minutes))
    for cached in (policy._day, policy._moment):
        info = cached.cache_info()
        assert info.maxsize is not None and info.currsize <= info.maxsize
