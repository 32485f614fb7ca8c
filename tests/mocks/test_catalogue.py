"""The scenario catalogue and the generator: deterministic, stable, and internally consistent."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from mocks.catalog import SCENARIOS, World, build_world
from mocks.catalog.archetypes import ARCHETYPES, shop_supports
from mocks.catalog.reference import DEMO_SHOPS, MARKETS
from tests.upstreams import TEST_NOW

ROOT = Path(__file__).resolve().parents[2]
CURRENCY = {"US": "USD", "GB": "GBP"}

# Tests, demos and the gateway's own tests name these ids: renaming or dropping one is a breaking change
# (adding scenarios is fine).
STABLE_IDS = (
    "ord-us-awaiting-payment", "ord-us-on-hold", "ord-us-awaiting-shipment", "ord-us-cancel-requested",
    "ord-us-label-created", "ord-us-in-transit", "ord-us-out-for-delivery-signature", "ord-us-pickup-point",
    "ord-us-delivered", "ord-us-delivered-final-sale", "ord-us-delivered-completed",
    "ord-us-delivered-guarantee-only", "ord-us-delivered-window-closed", "ord-us-luxury-authenticating",
    "ord-us-luxury-in-transit",
    "ord-us-split-availability", "ord-us-split-backorder", "ord-us-split-size", "ord-us-split-custom",
    "ord-us-late", "ord-us-carrier-delay", "ord-us-holiday-delay", "ord-us-failed-attempt",
    "ord-us-returned-to-sender", "ord-us-lost", "ord-us-cancelled-by-buyer", "ord-us-cancelled-by-system",
    "ord-us-partially-cancelled", "ord-us-return-in-progress", "ord-us-refunded", "ord-us-not-received",
    "ord-us-disagree-delivered", "ord-us-bob-in-transit",
    "ord-uk-awaiting-payment", "ord-uk-on-hold", "ord-uk-awaiting-shipment", "ord-uk-in-transit",
    "ord-uk-out-for-delivery-signature", "ord-uk-pickup-point", "ord-uk-delivered",
    "ord-uk-delivered-personalised", "ord-uk-delivered-completed", "ord-uk-delivered-window-closed",
    "ord-uk-luxury-authenticating", "ord-uk-luxury-in-transit",
    "ord-uk-split-three", "ord-uk-split-backorder", "ord-uk-split-size", "ord-uk-split-custom",
    "ord-uk-customs-hold", "ord-uk-late", "ord-uk-carrier-delay", "ord-uk-holiday-delay",
    "ord-uk-failed-attempt", "ord-uk-returned-to-sender", "ord-uk-lost", "ord-uk-cancelled-by-buyer",
    "ord-uk-cancelled-by-system", "ord-uk-return-in-progress", "ord-uk-batch-return", "ord-uk-refunded",
    "ord-uk-not-received", "ord-uk-disagree-delivered", "ord-uk-harry-delivered",
)


_WORLDS: dict[tuple[int, int], World] = {}


def world(generated: int = 2000, seed: int = 7) -> World:
    """Worlds shared by this module's tests, and dropped after them (a 2000-order world is big)."""
    if (generated, seed) not in _WORLDS:
        _WORLDS[generated, seed] = build_world(TEST_NOW, seed=seed, generated=generated)
    return _WORLDS[generated, seed]


@pytest.fixture(scope="module", autouse=True)
def _drop_worlds() -> Iterator[None]:
    yield
    _WORLDS.clear()


def digest(w: World) -> str:
    payload = {"orders": w.orders, "trackings": {"|".join(k): v for k, v in w.trackings.items()},
               "returns": w.returns, "cancellations": w.cancellations, "facts": w.order_facts,
               "descriptions": w.descriptions}
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


# ---- determinism ----------------------------------------------------------------------------------


def test_build_world_is_deterministic_for_the_same_now_seed_and_size() -> None:
    first, second = build_world(TEST_NOW, seed=7, generated=300), build_world(TEST_NOW, seed=7, generated=300)
    assert first.orders == second.orders and first.trackings == second.trackings
    assert first.returns == second.returns and first.cancellations == second.cancellations
    assert first.descriptions == second.descriptions and first.order_facts == second.order_facts
    assert digest(first) == digest(second)


def test_another_process_builds_the_same_world() -> None:
    script = ("import sys; from datetime import datetime; from mocks.catalog import build_world; "
              "from tests.mocks.test_catalogue import digest; "
              "print(digest(build_world(datetime.fromisoformat(sys.argv[1]), seed=7, generated=300)))")
    expected = digest(build_world(TEST_NOW, seed=7, generated=300))
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", script, TEST_NOW.isoformat()], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True, timeout=60)
        assert out.stdout.strip() == expected


def test_the_seed_changes_generated_orders_only() -> None:
    a, b = world(200, 7), world(200, 8)
    named = [s.id for s in SCENARIOS]
    assert [a.orders[i] for i in named] == [b.orders[i] for i in named]
    generated = [i for i in a.orders if i.startswith("ord-g-")]
    assert generated == [i for i in b.orders if i.startswith("ord-g-")]
    assert [a.orders[i] for i in generated] != [b.orders[i] for i in generated]


@pytest.mark.parametrize("generated", [0, 1, 37, 500])
def test_generated_adds_exactly_that_many_orders(generated: int) -> None:
    w = build_world(TEST_NOW, generated=generated)
    assert len(w.orders) == len(SCENARIOS) + generated
    assert sorted(i for i in w.orders if i.startswith("ord-g-")) == [f"ord-g-{n:06d}" for n in
                                                                    range(1, generated + 1)]


def test_the_world_moves_with_now() -> None:
    later = build_world(TEST_NOW + timedelta(days=3))
    base = world(0)
    for oid in STABLE_IDS:
        assert later.orders[oid]["create_time"] - base.orders[oid]["create_time"] == 3 * 86400
        assert later.orders[oid]["status"] == base.orders[oid]["status"]


# ---- scenario ids and descriptions ----------------------------------------------------------------


def test_every_scenario_id_is_stable_and_unique() -> None:
    ids = tuple(s.id for s in SCENARIOS)
    assert [i for i in ids if i in STABLE_IDS] == list(STABLE_IDS)  # none gone, none renamed, same order
    assert len(set(ids)) == len(ids)
    for s in SCENARIOS:
        assert re.fullmatch(r"ord-(us|uk)-[a-z0-9-]+", s.id)
        assert ("US" if s.id.startswith("ord-us-") else "GB") == s.shop.market.region == s.buyer.market.region
        assert s.archetype in ARCHETYPES


def test_every_scenario_has_a_one_line_description_in_any_world() -> None:
    for w in (world(0), world(500), build_world(TEST_NOW - timedelta(days=200), seed=99)):
        for s in SCENARIOS:
            text = w.descriptions[s.id]
            assert text and text == text.strip() and "\n" not in text, s.id
            assert text == world(0).descriptions[s.id]


# ---- generated coverage ---------------------------------------------------------------------------


def test_generated_orders_cover_every_archetype_in_every_region_that_can_have_it() -> None:
    w = world(2000)
    regions: dict[str, set[str]] = defaultdict(set)
    for oid, order in w.orders.items():
        if oid.startswith("ord-g-"):
            archetype = w.descriptions[oid].removeprefix("generated: ")
            regions[archetype].add(order["region"])
    assert set(regions) == set(ARCHETYPES)
    for name, archetype in ARCHETYPES.items():
        possible = {shop.market.region for shop in DEMO_SHOPS if shop_supports(shop, archetype.needs)}
        assert regions[name] == possible, name
    assert set().union(*regions.values()) == set(MARKETS)


# ---- consistency ----------------------------------------------------------------------------------


def test_every_live_unit_line_of_a_paid_order_is_in_exactly_one_package() -> None:
    for order in world(2000).orders.values():
        holders: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for pkg in order["packages"]:
            for line_id in pkg["order_line_item_ids"]:
                holders[line_id].append(pkg)
        assert set(holders) <= {line["id"] for line in order["line_items"]}, order["id"]
        if order["paid_time"] is None:
            assert order["packages"] == [], order["id"]
            continue
        if order["status"] == "CANCELLED":
            continue
        for line in order["line_items"]:
            if line["display_status"] == "CANCELLED":
                assert line["id"] not in holders, line["id"]
                continue
            assert len(holders[line["id"]]) == 1, (order["id"], line["id"])
            pkg = holders[line["id"]][0]
            assert (line["package_id"], line["package_status"], line["tracking_number"]) == (
                pkg["id"], pkg["status"], pkg["tracking_number"]), line["id"]


def test_checkpoint_times_never_go_backwards_and_never_pass_now() -> None:
    for key, tracking in world(2000).trackings.items():
        times = [_dt(c["checkpoint_time"]) for c in tracking["checkpoints"]]
        assert times == sorted(times), key
        assert times[-1] <= TEST_NOW, key
        assert _dt(tracking["created_at"]) <= times[0], key
        assert tracking["updated_at"] == tracking["checkpoints"][-1]["checkpoint_time"], key
        last = tracking["checkpoints"][-1]
        assert (tracking["tag"], tracking["subtag"]) == (last["tag"], last["subtag"]), key
        assert all(c["subtag"].startswith(c["tag"] + "_") for c in tracking["checkpoints"]), key
        for field in ("shipment_pickup_date", "shipment_delivery_date"):
            assert tracking[field] is None or _dt(tracking[field]) <= TEST_NOW, (key, field)
        attempts = sum(c["tag"] == "AttemptFail" for c in tracking["checkpoints"])
        assert tracking["failed_delivery_attempts"] == attempts, key


def test_order_times_are_in_order_and_not_in_the_future() -> None:
    now = int(TEST_NOW.timestamp())
    for order in world(2000).orders.values():
        assert order["create_time"] <= order["update_time"] <= now, order["id"]
        if order["paid_time"] is not None:
            assert order["create_time"] <= order["paid_time"] <= now, order["id"]
        for field in ("collection_time", "delivery_time", "cancel_time"):
            assert order[field] is None or order[field] <= now, (order["id"], field)


def test_every_orders_currency_matches_its_region() -> None:
    w = world(2000)
    for order in w.orders.values():
        currency = CURRENCY[order["region"]]
        assert order["payment"]["currency"] == currency, order["id"]
        assert {line["currency"] for line in order["line_items"]} == {currency}, order["id"]
        assert order["recipient_address"]["region_code"] == order["region"], order["id"]
        assert w.order_facts[order["id"]]["currency"] == currency
    for record in [*w.returns.values(), *w.cancellations.values()]:
        currency = CURRENCY[w.orders[record["order_id"]]["region"]]
        lines = record.get("return_line_items") or record["cancel_line_items"]
        assert {record["refund_amount"]["currency"]} | {line["refund_amount"]["currency"] for line in lines} == {
            currency}


def test_tracking_keys_referenced_by_packages_exist_in_the_carrier_data() -> None:
    w = world(2000)
    referenced = set()
    for order in w.orders.values():
        for pkg in order["packages"]:
            if pkg["status"] == "TO_FULFILL":
                assert pkg["tracking_number"] is None and pkg["shipping_provider_id"] is None, pkg["id"]
                continue
            key = (pkg["shipping_provider_id"], pkg["tracking_number"])
            assert key in w.trackings, (order["id"], key)
            assert w.trackings[key]["slug"] == key[0] and w.trackings[key]["tracking_number"] == key[1]
            referenced.add(key)
    assert referenced == set(w.trackings)  # and no tracking belongs to no package


def test_money_adds_up() -> None:
    w = world(2000)
    for order in w.orders.values():
        pay = {k: Decimal(v) for k, v in order["payment"].items() if k != "currency"}
        assert pay["sub_total"] + pay["shipping_fee"] + pay["tax"] == pay["total_amount"], order["id"]
        assert sum(Decimal(line["sale_price"]) for line in order["line_items"]) == pay["sub_total"]
    for record in [*w.returns.values(), *w.cancellations.values()]:
        amount = {k: Decimal(v) for k, v in record["refund_amount"].items() if k != "currency"}
        assert amount["refund_subtotal"] + amount["refund_shipping_fee"] + amount["refund_tax"] == amount[
            "refund_total"]


def test_aftersales_records_belong_to_their_orders() -> None:
    w = world(2000)
    for record in [*w.returns.values(), *w.cancellations.values()]:
        order = w.orders[record["order_id"]]
        assert (record["buyer_user_id"], record["shop_id"]) == (order["buyer_user_id"], order["shop_id"])
        lines = record.get("return_line_items") or record["cancel_line_items"]
        assert {line["order_line_item_id"] for line in lines} <= {line["id"] for line in order["line_items"]}
    returned: dict[str, int] = defaultdict(int)
    for ret in w.returns.values():
        for line in ret["return_line_items"]:
            returned[line["order_line_item_id"]] += 1
    assert max(returned.values()) == 1  # a line is in one return at most


def test_aftersales_record_ids_are_numbered_within_their_order() -> None:
    w = world(0)
    by_order: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ret in w.returns.values():
        by_order["ret", ret["order_id"]].append(ret["return_id"])
        if ret["combined_return_id"] not in by_order["cmb", ret["order_id"]]:
            by_order["cmb", ret["order_id"]].append(ret["combined_return_id"])
    for cxl in w.cancellations.values():
        by_order["cxl", cxl["order_id"]].append(cxl["cancel_id"])
    for (prefix, order_id), ids in by_order.items():
        stem = order_id.removeprefix("ord-")
        assert ids == [f"{prefix}-{stem}-{n}" for n in range(1, len(ids) + 1)], ids


def test_the_mocks_readme_lists_every_scenario_with_its_description() -> None:
    text = (ROOT / "mocks" / "README.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r"^\| `(ord-[a-z0-9-]+)` \| `[^`]+` \| [A-Z_]+ \| (.+) \|$", text, flags=re.MULTILINE)}
    assert rows == {s.id: world(0).descriptions[s.id] for s in SCENARIOS}, (
        "regenerate the scenario table in mocks/README.md (the snippet is in the comment above it)")
