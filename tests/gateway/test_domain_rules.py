"""The domain rules on their own, no HTTP: carrier codes, which upstream wins, and the US and UK return windows.

Orders are built directly as canonical records with the small builder below; every rule is then read
through the same functions the schema uses (``resolve_packages``, ``return_eligibility``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gateway.domain.actions import ActionKind, Unavailable, UnitEligibility, return_eligibility
from gateway.domain.alerts import AlertKind, Suggestion
from gateway.domain.decisions import (
    CancelPlan,
    RequestedItem,
    ReturnPlan,
    UserError,
    UserErrorCode,
    plan_address,
    plan_cancel,
    plan_package_refund,
    plan_return,
)
from gateway.domain.model import (
    Actor,
    Address,
    AfterSalesRecord,
    Authentication,
    AuthenticationStatus,
    CancellationRecord,
    CancellationStatus,
    CarrierTag,
    DeliveryMethod,
    FulfilmentStatus,
    Market,
    Money,
    OrderRecord,
    OrderSnapshot,
    PackageRecord,
    ProductTag,
    ReturnKind,
    ReturnRecord,
    ReturnStatus,
    Signature,
    SkuType,
    Tracking,
    TrackingEvent,
    TrackingKey,
    Unit,
)
from gateway.domain.packages import PackageStatus, PackageView, StatusSource, carrier_status, resolve_packages
from gateway.domain.policy import REASONS, ReasonCategory, ReturnReason, policy
from gateway.domain.returns import instructions
from gateway.domain.status import DisplayStatus
from gateway.domain.view import OrderView

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY, SEC = timedelta(days=1), timedelta(seconds=1)
CURRENCY = {Market.US: "USD", Market.UK: "GBP"}
ADDRESS = Address("Alice Johnson", "9 Elm Street", "", "Springfield", "IL", "62701", "US", "")
T = CarrierTag


# -- builder ---------------------------------------------------------------------------------------

def event(tag: CarrierTag, subtag: str, at: datetime, message: str = "scan") -> TrackingEvent:
    return TrackingEvent(time=at, tag=tag, subtag=subtag, message=message, location="Somewhere")


def tracking(tag: CarrierTag, subtag: str, events: tuple[TrackingEvent, ...] = (), *,
             delivered_at: datetime | None = None, signature: Signature = Signature.NONE,
             number: str = "TRK1") -> Tracking:
    return Tracking(key=TrackingKey("ups", number), tag=tag, subtag=subtag, events=events, promised_date=None,
                    first_estimate=None, latest_estimate=None, signature=signature, signed_by=None,
                    failed_attempts=0, return_to_sender=False, delivered_at=delivered_at, pickup_location=None,
                    link=None)


def journey(*tags: tuple[CarrierTag, str], start: datetime = NOW - 3 * DAY) -> tuple[TrackingEvent, ...]:
    """Scans an hour apart, oldest first."""
    return tuple(event(tag, sub, start + timedelta(hours=i)) for i, (tag, sub) in enumerate(tags))


def delivered(at: datetime, number: str = "TRK1") -> Tracking:
    before = journey((T.INFO_RECEIVED, "InfoReceived_001"), (T.IN_TRANSIT, "InTransit_002"), start=at - 2 * DAY)
    scans = (*before, event(T.DELIVERED, "Delivered_001", at))
    return tracking(T.DELIVERED, "Delivered_001", scans, delivered_at=at, number=number)


@dataclass
class OrderBuilder:
    """An order in one market; add units and packages, then take a snapshot or a view."""

    market: Market = Market.US
    status: str = "IN_TRANSIT"
    units: list[Unit] = field(default_factory=list)
    packages: list[PackageRecord] = field(default_factory=list)
    trackings: dict[str, Tracking] = field(default_factory=dict)
    cancellations: list[CancellationRecord] = field(default_factory=list)
    returns: list[ReturnRecord] = field(default_factory=list)
    delivered_at: datetime | None = None
    paid_at: datetime | None = NOW - 60 * DAY
    on_hold: bool = False
    ship_by: datetime | None = None
    promised_by: datetime | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def unit(self, *tags: ProductTag, sku_type: SkuType = SkuType.NORMAL, customization: str | None = None,
             cancelled_by: Actor | None = None, name: str = "Thing", price: str = "10.00") -> str:
        n = next(self._ids)
        self.units.append(Unit(
            id=f"u{n}", sku_id=f"sku{n}", product_id=f"p{n}", product_name=f"{name} {n}", sku_name="", image_url="",
            price=Money(Decimal(price), CURRENCY[self.market]), package_id=None, sku_type=sku_type,
            handling_days=None, customization=customization, tags=frozenset(tags), warehouse_id="wh-1",
            cancelled_by=cancelled_by,
        ))
        return f"u{n}"

    def package(self, *unit_ids: str, fulfilment: FulfilmentStatus = FulfilmentStatus.FULFILLING,
                track: Tracking | None = None, authentication: Authentication | None = None,
                warehouse: str = "wh-1", weight_g: int = 500) -> str:
        pid = f"pkg{len(self.packages) + 1}"
        number = track.key.number if track else None
        self.packages.append(PackageRecord(
            id=pid, fulfilment=fulfilment, carrier_slug="ups" if track else None, carrier_name="UPS",
            tracking_number=number, unit_ids=unit_ids, warehouse_id=warehouse, weight_g=weight_g,
            signature=Signature.NONE, must_split=(), authentication=authentication,
            created_at=NOW - 5 * DAY, estimated_ship_at=None,
        ))
        self.units = [replace(u, package_id=pid) if u.id in unit_ids else u for u in self.units]
        if track is not None:
            self.trackings[pid] = track
        return pid

    def record(self) -> OrderRecord:
        money = Money(Decimal("10.00") * len(self.units), CURRENCY[self.market])
        zero = Money.zero(CURRENCY[self.market])
        return OrderRecord(
            id="ord-1", market=self.market, currency=CURRENCY[self.market], buyer_id="buyer-1", shop_id="shop-1",
            shop_name="Shop", source_status=self.status, order_type="NORMAL", on_hold_order=self.on_hold,
            placed_at=NOW - 60 * DAY, paid_at=self.paid_at, updated_at=NOW - DAY, ship_by=self.ship_by,
            promised_by=self.promised_by,
            sla_extension=None, delivered_at=self.delivered_at, cancelled_at=None, cancelled_by=None,
            cancel_reason=None, delivery_method=DeliveryMethod.HOME, address=None, address_updated=False,
            subtotal=money, shipping_fee=zero, tax=zero, total=money, units=tuple(self.units),
            packages=tuple(self.packages),
        )

    def snapshot(self, now: datetime = NOW) -> OrderSnapshot:
        return OrderSnapshot(self.record(), now, dict(self.trackings),
                             AfterSalesRecord("ord-1", tuple(self.returns), tuple(self.cancellations)))

    def view(self, now: datetime = NOW) -> OrderView:
        return OrderView(self.snapshot(now))

    def return_record(self, *unit_ids: str, reason: ReturnReason, kind: ReturnKind = ReturnKind.RETURN_AND_REFUND,
                      status: ReturnStatus = ReturnStatus.REQUESTED, handover: str = "DROP_OFF") -> str:
        n = len(self.returns) + 1
        refund = Money(Decimal("10.00"), CURRENCY[self.market])
        self.returns.append(ReturnRecord(
            id=f"ret{n}", order_id="ord-1", group_id=f"cmb{n}", kind=kind, status=status, source_status="",
            reason_code=REASONS[reason].upstream_code, reason_text="", note=None, unit_ids=unit_ids,
            unit_refunds=tuple(refund for _ in unit_ids), refund=refund.times(len(unit_ids)), handover=handover,
            document_type="QR_CODE", carrier_name="UPS", tracking_number="1Z", ship_by=NOW + 14 * DAY,
            seller_deadline=NOW + DAY, created_at=NOW - DAY, approved_at=None, shipped_back_at=None,
            received_at=None, refunded_at=None, rejected_reason=None,
        ))
        return f"cmb{n}"

    def packages_view(self) -> dict[str, PackageView]:
        return {p.id: p for p in resolve_packages(self.snapshot(), policy(self.market))}

    def eligibility(self, now: datetime = NOW) -> dict[str, UnitEligibility]:
        return return_eligibility(OrderView(self.snapshot(now)))


def windows(order: OrderBuilder, unit_id: str, now: datetime = NOW) -> dict[ReturnReason, tuple[datetime, str]]:
    """Every reason open for the unit now: its deadline and the policy or law that opens it."""
    found = order.eligibility(now)[unit_id]
    return {o.rule.reason: (o.deadline, o.basis) for o in found.options}


def categories(order: OrderBuilder, unit_id: str, now: datetime = NOW) -> set[ReasonCategory]:
    return {o.rule.category for o in order.eligibility(now)[unit_id].options}


def status_of(track: Tracking | None, fulfilment: FulfilmentStatus = FulfilmentStatus.FULFILLING,
              authentication: Authentication | None = None) -> tuple[PackageStatus, StatusSource]:
    order = OrderBuilder()
    pid = order.package(order.unit(), fulfilment=fulfilment, track=track, authentication=authentication)
    view = order.packages_view()[pid]
    return view.status, view.status_source


# -- carrier codes ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("subtag", "expected"), [
    ("Exception_013", PackageStatus.LOST),
    ("Exception_011", PackageStatus.RETURNED_TO_SENDER),
    ("Exception_012", PackageStatus.DAMAGED),
    ("Exception_003", PackageStatus.RETURNING_TO_SENDER),
])
def test_terminal_carrier_exceptions_end_the_journey(subtag: str, expected: PackageStatus) -> None:
    scans = journey((T.IN_TRANSIT, "InTransit_002"), (T.EXCEPTION, subtag))
    assert carrier_status(tracking(T.EXCEPTION, subtag, scans)) is expected


@pytest.mark.parametrize(("last_ordinary", "expected"), [
    ((T.IN_TRANSIT, "InTransit_006"), PackageStatus.IN_TRANSIT),
    ((T.OUT_FOR_DELIVERY, "OutForDelivery_001"), PackageStatus.OUT_FOR_DELIVERY),
    ((T.INFO_RECEIVED, "InfoReceived_001"), PackageStatus.LABEL_CREATED),
])
def test_a_customs_exception_keeps_the_last_ordinary_status(last_ordinary: tuple[CarrierTag, str],
                                                             expected: PackageStatus) -> None:
    scans = journey((T.INFO_RECEIVED, "InfoReceived_001"), last_ordinary, (T.EXCEPTION, "Exception_004"),
                    (T.EXCEPTION, "Exception_004"))
    assert carrier_status(tracking(T.EXCEPTION, "Exception_004", scans)) is expected


def test_a_customs_exception_with_no_ordinary_scan_is_in_transit() -> None:
    scans = journey((T.EXCEPTION, "Exception_004"))
    assert carrier_status(tracking(T.EXCEPTION, "Exception_004", scans)) is PackageStatus.IN_TRANSIT


@pytest.mark.parametrize(("tag", "expected"), [
    (T.PENDING, PackageStatus.LABEL_CREATED), (T.INFO_RECEIVED, PackageStatus.LABEL_CREATED),
    (T.IN_TRANSIT, PackageStatus.IN_TRANSIT), (T.OUT_FOR_DELIVERY, PackageStatus.OUT_FOR_DELIVERY),
    (T.ATTEMPT_FAIL, PackageStatus.DELIVERY_ATTEMPTED), (T.DELIVERED, PackageStatus.DELIVERED),
    (T.AVAILABLE_FOR_PICKUP, PackageStatus.AVAILABLE_FOR_PICKUP),
])
def test_ordinary_carrier_tags_map_to_package_statuses(tag: CarrierTag, expected: PackageStatus) -> None:
    assert carrier_status(tracking(tag, f"{tag.value}_001", journey((tag, f"{tag.value}_001")))) is expected


# -- precedence ------------------------------------------------------------------------------------

def test_the_carriers_delivered_beats_the_order_services_in_transit() -> None:
    at = NOW - 3 * DAY
    order = OrderBuilder()
    pid = order.package(order.unit(), fulfilment=FulfilmentStatus.FULFILLING, track=delivered(at))
    view = order.packages_view()[pid]
    assert (view.status, view.status_source) == (PackageStatus.DELIVERED, StatusSource.CARRIER)
    assert view.delivered_at == at


def test_the_carrier_beats_the_order_service_in_either_direction() -> None:
    # The carrier saw the parcel; the order service learns of it later (even when it claims more).
    in_transit = tracking(T.IN_TRANSIT, "InTransit_002", journey((T.IN_TRANSIT, "InTransit_002")))
    assert status_of(in_transit, FulfilmentStatus.COMPLETED) == (PackageStatus.IN_TRANSIT, StatusSource.CARRIER)
    lost = tracking(T.EXCEPTION, "Exception_013", journey((T.IN_TRANSIT, "InTransit_002"),
                                                           (T.EXCEPTION, "Exception_013")))
    assert status_of(lost, FulfilmentStatus.FULFILLING) == (PackageStatus.LOST, StatusSource.CARRIER)


@pytest.mark.parametrize("label_tag", [T.INFO_RECEIVED, T.PENDING])
@pytest.mark.parametrize(("fulfilment", "expected"), [
    (FulfilmentStatus.FULFILLING, PackageStatus.IN_TRANSIT),
    (FulfilmentStatus.COMPLETED, PackageStatus.DELIVERED),
])
def test_label_only_carrier_data_loses_to_a_later_order_service_status(
        label_tag: CarrierTag, fulfilment: FulfilmentStatus, expected: PackageStatus) -> None:
    label = tracking(label_tag, f"{label_tag.value}_001", journey((label_tag, f"{label_tag.value}_001")))
    assert status_of(label, fulfilment) == (expected, StatusSource.ORDER_SERVICE)


@pytest.mark.parametrize("fulfilment", [FulfilmentStatus.PROCESSING, FulfilmentStatus.TO_FULFILL])
def test_label_only_carrier_data_wins_when_the_order_service_is_not_further_along(
        fulfilment: FulfilmentStatus) -> None:
    label = tracking(T.INFO_RECEIVED, "InfoReceived_001", journey((T.INFO_RECEIVED, "InfoReceived_001")))
    assert status_of(label, fulfilment) == (PackageStatus.LABEL_CREATED, StatusSource.CARRIER)


@pytest.mark.parametrize(("fulfilment", "expected"), [
    (FulfilmentStatus.TO_FULFILL, PackageStatus.PENDING),
    (FulfilmentStatus.PROCESSING, PackageStatus.LABEL_CREATED),
    (FulfilmentStatus.FULFILLING, PackageStatus.IN_TRANSIT),
    (FulfilmentStatus.COMPLETED, PackageStatus.DELIVERED),
])
def test_without_tracking_the_order_service_decides_and_says_so(fulfilment: FulfilmentStatus,
                                                                expected: PackageStatus) -> None:
    assert status_of(None, fulfilment) == (expected, StatusSource.ORDER_SERVICE)


def test_without_tracking_a_delivered_package_takes_the_order_services_delivery_time() -> None:
    order = OrderBuilder(delivered_at=NOW - 2 * DAY)
    pid = order.package(order.unit(), fulfilment=FulfilmentStatus.COMPLETED)
    assert order.packages_view()[pid].delivered_at == NOW - 2 * DAY


@pytest.mark.parametrize(("auth", "expected"), [
    (AuthenticationStatus.SUBMITTED, PackageStatus.AWAITING_AUTHENTICATION),
    (AuthenticationStatus.PENDING, PackageStatus.AWAITING_AUTHENTICATION),
    (AuthenticationStatus.APPROVED, PackageStatus.PENDING),
])
def test_an_unshipped_package_waits_for_authentication(auth: AuthenticationStatus, expected: PackageStatus) -> None:
    check = Authentication(status=auth, provider="Entrupy", submitted_at=NOW - DAY, deadline=NOW + DAY,
                           approved_at=NOW if auth is AuthenticationStatus.APPROVED else None)
    assert status_of(None, FulfilmentStatus.TO_FULFILL, check) == (expected, StatusSource.ORDER_SERVICE)


def test_a_package_whose_units_are_all_cancelled_is_cancelled_whatever_the_upstreams_say() -> None:
    order = OrderBuilder()
    gone = order.unit(cancelled_by=Actor.SELLER)
    kept = order.unit()
    by_seller = order.package(gone, fulfilment=FulfilmentStatus.FULFILLING)
    living = order.package(kept, fulfilment=FulfilmentStatus.FULFILLING)
    requested = order.unit()
    refunded = order.unit()
    asked = order.package(requested, fulfilment=FulfilmentStatus.TO_FULFILL)
    done = order.package(refunded, fulfilment=FulfilmentStatus.TO_FULFILL)
    money = Money(Decimal("10.00"), "USD")
    order.cancellations = [
        CancellationRecord("c1", "ord-1", Actor.BUYER, CancellationStatus.REQUESTED, "r", "", (requested,), money,
                           NOW - DAY, None),
        CancellationRecord("c2", "ord-1", Actor.BUYER, CancellationStatus.CANCELLED, "r", "", (refunded,), money,
                           NOW - DAY, None),
    ]
    views = order.packages_view()
    assert views[by_seller].status is PackageStatus.CANCELLED
    assert views[done].status is PackageStatus.CANCELLED
    assert views[living].status is PackageStatus.IN_TRANSIT
    assert views[asked].status is PackageStatus.PENDING, "a cancellation only asked for changes nothing yet"
    everything = OrderBuilder(status="CANCELLED")
    pid = everything.package(everything.unit(), fulfilment=FulfilmentStatus.FULFILLING,
                             track=delivered(NOW - DAY))
    assert everything.packages_view()[pid].status is PackageStatus.CANCELLED


def test_the_carriers_signature_requirement_wins_when_it_names_one() -> None:
    order = OrderBuilder()
    pid = order.package(order.unit(), track=tracking(T.IN_TRANSIT, "InTransit_002",
                                                     journey((T.IN_TRANSIT, "InTransit_002")),
                                                     signature=Signature.ADULT_SIGNATURE))
    assert order.packages_view()[pid].signature is Signature.ADULT_SIGNATURE


# -- UK return windows -----------------------------------------------------------------------------

CCR = "Consumer Contracts Regulations 2013 (14 days after the last item arrives)"
UK_EXTENDED = "30-day extended returns"
CRA = "Consumer Rights Act 2015 (30-day right to reject faulty goods)"
US_POLICY = "30-day return policy"
GUARANTEE = "Money-back guarantee (damaged or defective, 90 days)"


def test_uk_one_parcel_has_thirty_days_for_every_reason() -> None:
    at = NOW - 5 * DAY
    order = OrderBuilder(Market.UK)
    unit = order.unit()
    order.package(unit, track=delivered(at))
    open_ = windows(order, unit)
    assert open_[ReturnReason.NO_LONGER_NEEDED] == (at + 30 * DAY, UK_EXTENDED)
    assert open_[ReturnReason.TOO_SMALL] == (at + 30 * DAY, UK_EXTENDED)
    assert open_[ReturnReason.DAMAGED] == (at + 30 * DAY, CRA)
    assert ReturnReason.DOES_NOT_FIT not in open_, "a US-only reason"
    assert ReturnReason.NOT_RECEIVED not in open_, "not a return reason a shopper picks"


def test_uk_change_of_mind_runs_until_14_days_after_the_last_parcel_when_that_is_later() -> None:
    first_at, last_at = NOW - 25 * DAY, NOW - 2 * DAY
    order = OrderBuilder(Market.UK)
    early, late = order.unit(), order.unit()
    order.package(early, track=delivered(first_at, "TRK1"))
    order.package(late, track=delivered(last_at, "TRK2"))
    first = windows(order, early)
    assert first[ReturnReason.NO_LONGER_NEEDED] == (last_at + 14 * DAY, CCR)
    assert first[ReturnReason.DAMAGED] == (first_at + 30 * DAY, CRA), "faulty goods: from their own delivery"
    second = windows(order, late)
    assert second[ReturnReason.NO_LONGER_NEEDED] == (last_at + 30 * DAY, UK_EXTENDED)


def test_uk_the_last_parcel_only_extends_when_it_is_later_than_thirty_days_from_each() -> None:
    first_at, last_at = NOW - 5 * DAY, NOW - 4 * DAY
    order = OrderBuilder(Market.UK)
    early, late = order.unit(), order.unit()
    order.package(early, track=delivered(first_at, "TRK1"))
    order.package(late, track=delivered(last_at, "TRK2"))
    assert windows(order, early)[ReturnReason.NO_LONGER_NEEDED] == (first_at + 30 * DAY, UK_EXTENDED)


def test_uk_the_last_parcel_rule_waits_for_every_parcel() -> None:
    first_at = NOW - 25 * DAY
    order = OrderBuilder(Market.UK)
    early, pending = order.unit(), order.unit()
    order.package(early, track=delivered(first_at, "TRK1"))
    order.package(pending, track=tracking(T.IN_TRANSIT, "InTransit_002", journey((T.IN_TRANSIT, "InTransit_002")),
                                          number="TRK2"))
    assert windows(order, early)[ReturnReason.NO_LONGER_NEEDED] == (first_at + 30 * DAY, UK_EXTENDED)
    assert pending not in order.eligibility(), "not delivered: nothing to return yet"


def test_uk_the_fourteen_days_keep_a_parcel_returnable_after_its_own_thirty() -> None:
    first_at, last_at = NOW - 35 * DAY, NOW - 10 * DAY
    order = OrderBuilder(Market.UK)
    early, late = order.unit(), order.unit()
    order.package(early, track=delivered(first_at, "TRK1"))
    order.package(late, track=delivered(last_at, "TRK2"))
    open_ = windows(order, early)
    assert open_[ReturnReason.NO_LONGER_NEEDED] == (last_at + 14 * DAY, CCR)
    assert ReturnReason.DAMAGED not in open_, "the 30-day right to reject has passed for that parcel"


@pytest.mark.parametrize("tag", [ProductTag.PERSONALISED, ProductTag.PERISHABLE, ProductTag.HYGIENE_SEALED])
def test_uk_regulation_28_items_can_only_be_returned_faulty(tag: ProductTag) -> None:
    at = NOW - 5 * DAY
    order = OrderBuilder(Market.UK)
    special, plain = order.unit(tag), order.unit()
    order.package(special, plain, track=delivered(at))
    eligibility = order.eligibility()
    assert categories(order, special) == {ReasonCategory.FAULTY, ReasonCategory.DELIVERY}
    assert eligibility[special].excluded_change_of_mind is True
    assert windows(order, special)[ReturnReason.DAMAGED] == (at + 30 * DAY, CRA)
    assert ReasonCategory.CHANGE_OF_MIND in categories(order, plain)
    assert eligibility[plain].excluded_change_of_mind is False


def test_uk_final_sale_does_not_take_away_statutory_change_of_mind() -> None:
    order = OrderBuilder(Market.UK)
    unit = order.unit(ProductTag.FINAL_SALE)
    order.package(unit, track=delivered(NOW - 5 * DAY))
    assert ReasonCategory.CHANGE_OF_MIND in categories(order, unit)


def test_uk_after_thirty_days_the_window_is_closed_and_says_when() -> None:
    at = NOW - 31 * DAY
    order = OrderBuilder(Market.UK)
    unit = order.unit()
    order.package(unit, track=delivered(at))
    found = order.eligibility()[unit]
    assert found.options == ()
    assert found.closed_at == at + 30 * DAY


# -- US return windows -----------------------------------------------------------------------------

def test_us_thirty_days_for_everything_and_ninety_for_damaged_or_defective() -> None:
    at = NOW - 5 * DAY
    order = OrderBuilder(Market.US)
    unit = order.unit()
    order.package(unit, track=delivered(at))
    open_ = windows(order, unit)
    assert open_[ReturnReason.NO_LONGER_NEEDED] == (at + 30 * DAY, US_POLICY)
    assert open_[ReturnReason.DOES_NOT_FIT] == (at + 30 * DAY, US_POLICY)
    assert open_[ReturnReason.NOT_AS_DESCRIBED] == (at + 30 * DAY, US_POLICY)
    assert open_[ReturnReason.DAMAGED] == (at + 90 * DAY, GUARANTEE)
    assert open_[ReturnReason.DEFECTIVE] == (at + 90 * DAY, GUARANTEE)
    assert not {ReturnReason.TOO_SMALL, ReturnReason.MISSED_DELIVERY_DATE} & set(open_), "UK-only reasons"


@pytest.mark.parametrize("days_ago", [31, 45, 90])
def test_us_after_thirty_days_only_the_guarantee_is_left(days_ago: int) -> None:
    at = NOW - days_ago * DAY
    order = OrderBuilder(Market.US)
    unit = order.unit()
    order.package(unit, track=delivered(at))
    assert windows(order, unit) == {ReturnReason.DAMAGED: (at + 90 * DAY, GUARANTEE),
                                    ReturnReason.DEFECTIVE: (at + 90 * DAY, GUARANTEE)}


def test_us_windows_include_their_last_instant_and_then_close() -> None:
    order = OrderBuilder(Market.US)
    unit = order.unit()
    order.package(unit, track=delivered(NOW - 30 * DAY))
    assert ReturnReason.NO_LONGER_NEEDED in windows(order, unit), "open until the deadline itself"
    assert ReturnReason.NO_LONGER_NEEDED not in windows(order, unit, NOW + timedelta(seconds=1))
    later = NOW + 60 * DAY
    assert set(windows(order, unit, later)) == {ReturnReason.DAMAGED, ReturnReason.DEFECTIVE}
    closed = order.eligibility(later + timedelta(seconds=1))[unit]
    assert closed.options == () and closed.closed_at == NOW - 30 * DAY + 90 * DAY


@pytest.mark.parametrize("tag", [ProductTag.PRE_OWNED, ProductTag.FINAL_SALE])
def test_us_guarantee_excludes_pre_owned_and_final_sale(tag: ProductTag) -> None:
    at = NOW - 5 * DAY
    order = OrderBuilder(Market.US)
    unit = order.unit(tag)
    order.package(unit, track=delivered(at))
    assert windows(order, unit)[ReturnReason.DAMAGED] == (at + 30 * DAY, US_POLICY)
    late = OrderBuilder(Market.US)
    old = late.unit(tag)
    late.package(old, track=delivered(NOW - 45 * DAY))
    assert windows(late, old) == {}


def test_us_final_sale_is_faulty_only_but_pre_owned_can_be_returned_for_change_of_mind() -> None:
    order = OrderBuilder(Market.US)
    final, used = order.unit(ProductTag.FINAL_SALE), order.unit(ProductTag.PRE_OWNED)
    order.package(final, used, track=delivered(NOW - 5 * DAY))
    assert ReasonCategory.CHANGE_OF_MIND not in categories(order, final)
    assert order.eligibility()[final].excluded_change_of_mind is True
    assert ReasonCategory.CHANGE_OF_MIND in categories(order, used)


@pytest.mark.parametrize("tag", [ProductTag.PERSONALISED, ProductTag.HYGIENE_SEALED, ProductTag.PERISHABLE])
def test_us_excluded_items_keep_the_guarantee(tag: ProductTag) -> None:
    at = NOW - 5 * DAY
    order = OrderBuilder(Market.US)
    unit = order.unit(tag)
    order.package(unit, track=delivered(at))
    assert ReasonCategory.CHANGE_OF_MIND not in categories(order, unit)
    assert windows(order, unit)[ReturnReason.DAMAGED] == (at + 90 * DAY, GUARANTEE)


def test_us_windows_run_from_each_parcels_own_delivery() -> None:
    first_at, last_at = NOW - 25 * DAY, NOW - 2 * DAY
    order = OrderBuilder(Market.US)
    early, late = order.unit(), order.unit()
    order.package(early, track=delivered(first_at, "TRK1"))
    order.package(late, track=delivered(last_at, "TRK2"))
    assert windows(order, early)[ReturnReason.NO_LONGER_NEEDED] == (first_at + 30 * DAY, US_POLICY)
    assert windows(order, late)[ReturnReason.NO_LONGER_NEEDED] == (last_at + 30 * DAY, US_POLICY)


def test_money_is_formatted_in_the_markets_style() -> None:
    amount = Decimal("1234.50")
    assert policy(Market.US).money(Money(amount, "USD")) == "$1,234.50"
    assert policy(Market.UK).money(Money(amount, "GBP")) == "£1,234.50"


# -- after-sales: what the shopper is offered and told ---------------------------------------------

def test_uk_a_parcel_can_be_reported_not_received_for_as_long_as_it_could_be_returned() -> None:
    first_at, last_at = NOW - 31 * DAY, NOW - 10 * DAY
    for market, reportable in ((Market.UK, {"pkg1", "pkg2"}), (Market.US, {"pkg2"})):
        order = OrderBuilder(market)
        order.package(order.unit(), track=delivered(first_at, "TRK1"))
        order.package(order.unit(), track=delivered(last_at, "TRK2"))
        action = order.view().action(ActionKind.REPORT_NOT_RECEIVED)
        assert set(action.package_ids) == reportable, market
        assert action.deadline == last_at + 30 * DAY, market
    # UK: 30 days after delivery, or 14 days after the last parcel (the CCR return window) when later.
    uk = policy(Market.UK)
    assert uk.not_received_until(first_at, last_at) == last_at + 14 * DAY
    assert uk.not_received_until(first_at, None) == first_at + 30 * DAY, "the 14 days wait for the last parcel"
    assert policy(Market.US).not_received_until(first_at, last_at) == first_at + 30 * DAY


def test_uk_not_received_closes_with_the_return_window() -> None:
    first_at, last_at = NOW - 40 * DAY, NOW - 20 * DAY
    order = OrderBuilder(Market.UK)
    order.package(order.unit(), track=delivered(first_at, "TRK1"))
    order.package(order.unit(), track=delivered(last_at, "TRK2"))
    assert order.view().action(ActionKind.REPORT_NOT_RECEIVED).package_ids == ("pkg2",)
    assert order.view(NOW + 11 * DAY).action(ActionKind.REPORT_NOT_RECEIVED).unavailable is not None


@pytest.mark.parametrize(("price", "weight_g", "units", "free"), [
    ("1699.99", 500, 1, True),
    ("1700.00", 500, 1, False),  # "under $1,700"
    ("2150.00", 400, 1, False),  # the chronograph watch
    ("20.00", 31_700, 1, True),  # 69.9 lb
    ("20.00", 31_752, 1, False),  # 70 lb
    ("20.00", 40_000, 3, True),  # a heavy parcel of three light items
])
def test_us_return_labels_are_free_only_under_70_lb_and_1700_dollars(price: str, weight_g: int, units: int,
                                                                       free: bool) -> None:
    order = OrderBuilder(Market.US)
    ids = [order.unit(price=price) for _ in range(units)]
    order.package(*ids, track=delivered(NOW - 2 * DAY), weight_g=weight_g)
    item = order.view().action(ActionKind.REQUEST_RETURN).items[0]
    assert (item.note is None) is free, item.note
    if not free:
        assert item.note == ("Return shipping may not be free for this item: free return labels are only for items "
                             "under 70 lb and under $1,700.")
    order.return_record(ids[0], reason=ReturnReason.DAMAGED)
    view = order.view()
    (group,) = view.returns
    assert group.free_shipping is free
    label = next(i for i in instructions(group, view.market, view.today) if i.title == "Get your return label")
    assert label.detail.startswith("Once approved, a free QR code" if free else "Once approved, a QR code")
    assert ("you may pay for this one" in label.detail) is not free
    approve = view.action(ActionKind.APPROVE_RETURN).message
    assert approve == ("Approve: the buyer gets a free return label." if free else
                       "Approve: the buyer gets a return label (not free for every item).")


def test_uk_has_no_free_return_limit() -> None:
    order = OrderBuilder(Market.UK)
    unit = order.unit(price="2150.00")
    order.package(unit, track=delivered(NOW - 2 * DAY), weight_g=40_000)
    assert order.view().action(ActionKind.REQUEST_RETURN).items[0].note is None


def test_an_excluded_item_keeps_its_exclusion_apart_from_the_shipping_note() -> None:
    order = OrderBuilder(Market.US)
    unit = order.unit(ProductTag.FINAL_SALE, price="2150.00")
    order.package(unit, track=delivered(NOW - 2 * DAY))
    item = order.view().action(ActionKind.REQUEST_RETURN).items[0]
    assert item.exclusion == "Final-sale item: it can only be returned if it's faulty."
    assert item.note is not None and item.note.startswith(item.exclusion) and "70 lb" in item.note


def test_a_cancellation_request_promises_no_response_time_and_runs_until_it_ships() -> None:
    order = OrderBuilder(Market.US, status="AWAITING_SHIPMENT", ship_by=NOW + DAY)
    order.package(order.unit(), order.unit(), fulfilment=FulfilmentStatus.TO_FULFILL)
    action = order.view().action(ActionKind.CANCEL_ORDER)
    assert action.available and action.requires_approval
    assert action.deadline == NOW + DAY, "the message and the deadline agree"
    assert action.message == ("Ask the seller to cancel before it ships (due by Sat, Nov 21 at 7:00 AM); you're "
                              "refunded once they accept.")
    assert "24 hours" not in action.message
    overdue = OrderBuilder(Market.US, status="AWAITING_SHIPMENT", ship_by=NOW - DAY)
    overdue.package(overdue.unit(), fulfilment=FulfilmentStatus.TO_FULFILL)
    late = overdue.view().action(ActionKind.CANCEL_ORDER)
    assert late.available and late.deadline is None
    assert late.message == "Ask the seller to cancel before it ships; you're refunded once they accept."


def test_cancelling_an_item_that_has_shipped_is_refused_item_by_item() -> None:
    order = OrderBuilder(Market.US, status="PARTIALLY_SHIPPING")
    shipped, waiting = order.unit(), order.unit()
    order.package(shipped, track=tracking(T.IN_TRANSIT, "InTransit_002", journey((T.IN_TRANSIT, "InTransit_002"))))
    order.package(waiting, order.unit(), fulfilment=FulfilmentStatus.TO_FULFILL)
    view = order.view()
    item_of = {u: i.id for i in view.items for u in (x.id for x in i.units)}
    refused = plan_cancel(view, [RequestedItem(item_of[shipped], 1)])
    assert isinstance(refused, list) and [e.code for e in refused] == [UserErrorCode.ITEM_NOT_ELIGIBLE]
    assert refused[0].message == "This item has already shipped or is already being cancelled."
    assert isinstance(plan_cancel(view, [RequestedItem(item_of[waiting], 1)]), CancelPlan)


def test_the_late_alert_stops_offering_a_report_once_the_parcel_is_reported() -> None:
    order = OrderBuilder(Market.US, promised_by=NOW - 3 * DAY)
    unit = order.unit()
    order.package(unit, track=tracking(T.IN_TRANSIT, "InTransit_002", journey((T.IN_TRANSIT, "InTransit_002"),
                                                                              start=NOW - DAY)))
    before = order.view()
    (alert,) = before.alerts
    assert (alert.kind, alert.suggestion) == (AlertKind.LATE_DELIVERY, Suggestion.REPORT_LATE)
    assert before.action(ActionKind.REPORT_LATE).available
    order.return_record(unit, reason=ReturnReason.LATE, kind=ReturnKind.REFUND_ONLY)
    after = order.view()
    (alert,) = after.alerts
    assert alert.suggestion is Suggestion.VIEW_RETURN
    assert alert.next_step.endswith("You reported it late; the seller is reviewing your refund request.")
    assert after.action(ActionKind.REPORT_LATE).unavailable is not None
    assert after.action(ActionKind.VIEW_RETURN).available
    order.returns[0] = replace(order.returns[0], status=ReturnStatus.REFUND_PENDING)
    (alert,) = order.view().alerts
    assert alert.next_step.endswith("You reported it late, and your refund was approved.")
    order.returns[0] = replace(order.returns[0], status=ReturnStatus.CANCELLED)
    (alert,) = order.view().alerts
    assert alert.suggestion is Suggestion.REPORT_LATE, "a withdrawn report can be made again"


@pytest.mark.parametrize(("handover", "kind", "titles"), [
    ("DROP_OFF", ReturnKind.RETURN_AND_REFUND,
     ["Pack the items", "Show the QR code", "Drop it off", "Get your refund"]),
    ("PICKUP", ReturnKind.RETURN_AND_REFUND,
     ["Pack the items", "Show the QR code", "Hand it to the driver", "Get your refund"]),
    ("DROP_OFF", ReturnKind.REPLACEMENT, ["Pack the items", "Show the QR code", "Drop it off", "Get your replacement"]),
])
def test_next_steps_follow_the_handover_and_the_resolution(handover: str, kind: ReturnKind,
                                                           titles: list[str]) -> None:
    order = OrderBuilder(Market.US)
    unit = order.unit()
    order.package(unit, track=delivered(NOW - 2 * DAY))
    order.return_record(unit, reason=ReturnReason.DAMAGED, kind=kind, status=ReturnStatus.APPROVED_AWAITING_SHIPMENT,
                        handover=handover)
    view = order.view()
    (group,) = view.returns
    steps = instructions(group, view.market, view.today)
    assert [s.title for s in steps] == titles
    if handover == "PICKUP":
        assert steps[2].detail == "UPS collects the package from your address by Fri, Dec 4; have it packed and ready."
    if kind is ReturnKind.REPLACEMENT:
        assert steps[-1].detail == "The seller ships a replacement once they receive the return."


def test_a_finished_replacement_says_it_was_sent_not_refunded() -> None:
    order = OrderBuilder(Market.US)
    unit = order.unit()
    order.package(unit, track=delivered(NOW - 2 * DAY))
    order.return_record(unit, reason=ReturnReason.DEFECTIVE, kind=ReturnKind.REPLACEMENT, status=ReturnStatus.REPLACED)
    view = order.view()
    (group,) = view.returns
    assert [(i.title, i.detail) for i in instructions(group, view.market, view.today)] == \
        [("All done", "Your replacement has been sent.")]


# -- no date that cannot be kept ---------------------------------------------------------------------

def estimated(track: Tracking, first: datetime, latest: datetime | None = None) -> Tracking:
    return replace(track, first_estimate=first.date(), latest_estimate=(latest or first).date())


def delivered_step(view: OrderView, pid: str) -> str:
    package = view.package(pid)
    assert package is not None
    return next(s.description for s in view.tracker(package) if s.kind.value == "DELIVERED")


@pytest.mark.parametrize(("subtag", "status"), [
    ("Exception_010", PackageStatus.RETURNING_TO_SENDER), ("Exception_011", PackageStatus.RETURNED_TO_SENDER),
    ("Exception_013", PackageStatus.LOST), ("Exception_012", PackageStatus.DAMAGED),
])
def test_a_parcel_that_will_not_arrive_has_no_eta(subtag: str, status: PackageStatus) -> None:
    order = OrderBuilder(Market.US, promised_by=NOW + 2 * DAY)
    scans = (*journey((T.IN_TRANSIT, "InTransit_002")), event(T.EXCEPTION, subtag, NOW - DAY))
    pid = order.package(order.unit(), track=estimated(tracking(T.EXCEPTION, subtag, scans), NOW + 2 * DAY))
    view = order.view()
    package = view.package(pid)
    assert package is not None and package.status is status
    assert package.eta is None and view.latest_eta is None
    assert delivered_step(view, pid) == "It won't be delivered."
    assert "expected" not in view.action(ActionKind.REQUEST_RETURN).message


def test_a_cancelled_or_rejected_package_has_no_eta_and_an_ordinary_one_keeps_its_own() -> None:
    order = OrderBuilder(Market.US, status="AWAITING_SHIPMENT", promised_by=NOW + 5 * DAY)
    rejected = Authentication(AuthenticationStatus.REJECTED, "Entrupy", NOW - DAY, NOW, None)
    failed = order.package(order.unit(), fulfilment=FulfilmentStatus.TO_FULFILL, authentication=rejected)
    cancelled = order.package(order.unit(cancelled_by=Actor.SELLER), fulfilment=FulfilmentStatus.TO_FULFILL)
    waiting = order.package(order.unit(), fulfilment=FulfilmentStatus.TO_FULFILL)
    packages = order.packages_view()
    assert packages[cancelled].status is PackageStatus.CANCELLED
    assert (packages[failed].eta, packages[cancelled].eta) == (None, None)
    assert packages[failed].will_not_arrive and packages[cancelled].will_not_arrive
    assert packages[waiting].eta is not None and not packages[waiting].will_not_arrive


def _stalled(last_scan: datetime, first: datetime | None, latest: datetime | None = None) -> OrderBuilder:
    order = OrderBuilder(Market.US, promised_by=NOW + DAY)
    track = tracking(T.IN_TRANSIT, "InTransit_003", journey((T.IN_TRANSIT, "InTransit_002"),
                                                            (T.IN_TRANSIT, "InTransit_003"), start=last_scan))
    order.package(order.unit(), track=estimated(track, first, latest) if first else track)
    return order


@pytest.mark.parametrize("first", [NOW + DAY, None], ids=["carrier-estimate", "promised-date"])
def test_a_parcel_the_carrier_stopped_scanning_has_no_date_and_says_since_when(first: datetime | None) -> None:
    view = _stalled(NOW - 6 * DAY, first).view()
    (package,) = view.packages
    assert package.eta is None, "six days without a scan: the date it had is not one to rely on"
    (alert,) = view.alerts
    assert alert.kind is AlertKind.TRACKING_STALLED and alert.since == NOW - 6 * DAY + timedelta(hours=1)
    assert view.display[1] == "No tracking updates since Sat, Nov 14"
    assert delivered_step(view, package.id) == "Delivery date to be confirmed."
    assert view.summary.headline == "Shipped"


def test_a_quiet_carrier_keeps_a_date_it_revised_and_a_recent_scan_keeps_its_estimate() -> None:
    revised = _stalled(NOW - 6 * DAY, NOW + DAY, NOW + 3 * DAY).view()
    (package,) = revised.packages
    assert package.eta is not None and package.eta.revised and package.eta.latest == (NOW + 3 * DAY).date()
    assert [a.kind for a in revised.alerts] == [AlertKind.CARRIER_DELAY]
    recent = _stalled(NOW - 4 * DAY, NOW + DAY).view()
    assert recent.packages[0].eta is not None and recent.alerts == []
    assert recent.display[1] == "Arriving Sat, Nov 21"


def test_an_overdue_authentication_promises_no_date_and_every_part_of_the_page_says_so() -> None:
    order = OrderBuilder(Market.US, status="AWAITING_SHIPMENT", promised_by=NOW + 5 * DAY)
    overdue = Authentication(AuthenticationStatus.SUBMITTED, "Entrupy", NOW - 2 * DAY, NOW - 14 * timedelta(hours=1),
                             None)
    pid = order.package(order.unit(), fulfilment=FulfilmentStatus.TO_FULFILL, authentication=overdue)
    view = order.view()
    (package,) = view.packages
    assert package.eta is None
    (alert,) = view.alerts
    assert alert.kind is AlertKind.AUTHENTICATION_DELAY
    assert view.display == (DisplayStatus.DELAYED, alert.title)
    assert alert.title == "Authentication is taking longer than expected"
    steps = {s.kind.value: s for s in view.tracker(package)}
    assert steps["AUTHENTICATING"].description == \
        "Entrupy is still checking the item: it's taking longer than expected."
    assert delivered_step(view, pid) == "Delivery date to be confirmed."
    assert view.summary.headline == "Preparing your order"


def test_an_authentication_approved_late_is_not_reported_as_still_overdue() -> None:
    order = OrderBuilder(Market.US, status="AWAITING_SHIPMENT", promised_by=NOW + 5 * DAY)
    approved = Authentication(AuthenticationStatus.APPROVED, "Entrupy", NOW - 2 * DAY, NOW - DAY, NOW - 3600 * SEC)
    order.package(order.unit(), fulfilment=FulfilmentStatus.TO_FULFILL, authentication=approved)
    view = order.view()
    assert view.alerts == [] and view.packages[0].eta is not None
    assert view.display == (DisplayStatus.PROCESSING, "Preparing to ship")


# -- what an item that failed authentication still allows --------------------------------------------

def _failed(*, others: int = 0) -> tuple[OrderBuilder, str]:
    order = OrderBuilder(Market.US, status="AWAITING_SHIPMENT", ship_by=NOW + DAY, promised_by=NOW - DAY)
    rejected = Authentication(AuthenticationStatus.REJECTED, "Entrupy", NOW - DAY, NOW + DAY, None)
    unit = order.unit()
    order.package(unit, fulfilment=FulfilmentStatus.TO_FULFILL, authentication=rejected)
    if others:
        order.package(*(order.unit() for _ in range(others)), fulfilment=FulfilmentStatus.TO_FULFILL)
    return order, unit


def test_an_item_that_failed_authentication_cannot_be_cancelled_readdressed_or_reported_late() -> None:
    order, _ = _failed()
    view = order.view()
    for kind in (ActionKind.CANCEL_ORDER, ActionKind.CANCEL_ITEMS, ActionKind.CHANGE_ADDRESS, ActionKind.REPORT_LATE,
                 ActionKind.UPDATE_ADDRESS):
        action = view.action(kind)
        assert (action.available, action.unavailable) == (False, Unavailable.AUTHENTICATION_FAILED), kind
        assert action.message == ("The item failed authentication, so it won't ship: the order will be canceled "
                                  "and fully refunded automatically.")
    refused = plan_cancel(view, None)
    assert isinstance(refused, list) and [e.code for e in refused] == [UserErrorCode.NOT_AVAILABLE]
    assert plan_address(view, ADDRESS) == [UserError((), UserErrorCode.NOT_AVAILABLE,
                                                     view.action(ActionKind.CHANGE_ADDRESS).message)]


def test_the_rest_of_an_order_stays_cancellable_when_one_item_failed_authentication() -> None:
    order, failed = _failed(others=2)
    view = order.view()
    cancel = view.action(ActionKind.CANCEL_ORDER)
    assert cancel.available and cancel.requires_approval
    listed = {u for i in cancel.items for u in i.unit_ids}
    assert failed not in listed and len(listed) == 2, "the platform cancels that one already"
    assert view.action(ActionKind.CANCEL_ITEMS).available
    assert view.action(ActionKind.CHANGE_ADDRESS).available
    assert view.action(ActionKind.REPORT_LATE).unavailable is Unavailable.NOT_SHIPPED


# -- a cancellation request waiting for the seller --------------------------------------------------

def test_a_pending_cancellation_of_the_whole_order_freezes_the_address_for_buyer_and_seller() -> None:
    order = OrderBuilder(Market.US, status="AWAITING_SHIPMENT", ship_by=NOW + DAY)
    units = (order.unit(), order.unit())
    order.package(*units, fulfilment=FulfilmentStatus.TO_FULFILL)
    assert order.view().action(ActionKind.CHANGE_ADDRESS).available
    refund = Money(Decimal("20.00"), "USD")
    order.cancellations.append(CancellationRecord("cxl-1", "ord-1", Actor.BUYER, CancellationStatus.REQUESTED,
                                                  "cancel_reason_no_longer_needed", "", units, refund, NOW - DAY,
                                                  NOW + DAY))
    view = order.view()
    buyer, seller = view.action(ActionKind.CHANGE_ADDRESS), view.action(ActionKind.UPDATE_ADDRESS)
    assert (buyer.available, buyer.unavailable, buyer.alternative) == (
        False, Unavailable.CANCELLATION_PENDING, ActionKind.CONTACT_SELLER)
    assert buyer.message == "Your cancellation request is with the seller: the address can't change while they decide."
    assert (seller.available, seller.unavailable, seller.alternative) == (
        False, Unavailable.CANCELLATION_PENDING, ActionKind.RESPOND_TO_CANCELLATION)
    assert [e.code for e in plan_address(view, ADDRESS)] == [UserErrorCode.NOT_AVAILABLE]
    # Once the seller declines, the address can change again.
    order.cancellations[0] = replace(order.cancellations[0], status=CancellationStatus.DECLINED)
    assert order.view().action(ActionKind.CHANGE_ADDRESS).available


def test_a_pending_cancellation_of_some_items_leaves_the_address_open_for_the_rest() -> None:
    order = OrderBuilder(Market.US, status="AWAITING_SHIPMENT", ship_by=NOW + DAY)
    kept, asked = order.unit(), order.unit()
    order.package(kept, asked, fulfilment=FulfilmentStatus.TO_FULFILL)
    order.cancellations.append(CancellationRecord("cxl-1", "ord-1", Actor.BUYER, CancellationStatus.REQUESTED,
                                                  "cancel_reason_no_longer_needed", "", (asked,),
                                                  Money(Decimal("10.00"), "USD"), NOW - DAY, NOW + DAY))
    assert order.view().action(ActionKind.CHANGE_ADDRESS).available


# -- reporting late needs a parcel on its way -------------------------------------------------------

def test_only_a_shipped_parcel_can_be_reported_late_and_an_unshipped_one_points_at_the_seller() -> None:
    order = OrderBuilder(Market.US, status="PARTIALLY_SHIPPING", promised_by=NOW - 2 * DAY)
    shipped = order.package(order.unit(), track=tracking(T.IN_TRANSIT, "InTransit_002", journey(
        (T.IN_TRANSIT, "InTransit_002"), start=NOW - DAY)))
    waiting = order.package(order.unit(), fulfilment=FulfilmentStatus.TO_FULFILL)
    view = order.view()
    late = view.action(ActionKind.REPORT_LATE)
    assert late.available and late.package_ids == (shipped,)
    alerts = {a.package_id: a for a in view.alerts}
    assert alerts[shipped].suggestion is Suggestion.REPORT_LATE
    assert (alerts[waiting].kind, alerts[waiting].suggestion) == (AlertKind.LATE_DELIVERY, Suggestion.CONTACT_SELLER)
    assert alerts[waiting].next_step == "It hasn't shipped yet: ask the seller when it will."
    refused = plan_package_refund(view, ActionKind.REPORT_LATE, waiting, None)
    assert isinstance(refused, list) and [e.code for e in refused] == [UserErrorCode.PACKAGE_NOT_ELIGIBLE]
    whole = plan_package_refund(view, ActionKind.REPORT_LATE, None, None)
    assert isinstance(whole, ReturnPlan)
    assert {u for part in whole.parts for u in part.unit_ids} == set(order.packages[0].unit_ids)


def test_nothing_shipped_cannot_be_reported_late_even_past_the_promise() -> None:
    order = OrderBuilder(Market.UK, status="AWAITING_SHIPMENT", promised_by=NOW - 2 * DAY)
    order.package(order.unit(), fulfilment=FulfilmentStatus.TO_FULFILL)
    view = order.view()
    late = view.action(ActionKind.REPORT_LATE)
    assert (late.available, late.unavailable) == (False, Unavailable.NOT_SHIPPED)
    assert late.message == "It hasn't shipped yet: a late delivery can be reported once it's on its way."
    (alert,) = view.alerts
    assert alert.suggestion is Suggestion.CONTACT_SELLER


# -- adding items to a return takes that return's resolution ------------------------------------------

def _with_open_return(*kinds: tuple[ReturnReason, ReturnKind]) -> tuple[OrderBuilder, str]:
    order = OrderBuilder(Market.US)
    units = [order.unit() for _ in range(len(kinds) + 1)]
    order.package(*units, track=delivered(NOW - 2 * DAY))
    for unit, (reason, kind) in zip(units, kinds, strict=False):
        order.return_record(unit, reason=reason, kind=kind)
    return order, units[-1]


def _reasons(view: OrderView, kind: ActionKind, unit: str) -> dict[ReturnReason, tuple[ReturnKind, ...]]:
    item = next(i for i in view.action(kind).items if unit in i.unit_ids)
    return {o.rule.reason: o.resolutions for o in item.reasons}


def test_items_added_to_a_return_and_refund_are_offered_only_reasons_it_can_take() -> None:
    order, extra = _with_open_return((ReturnReason.DAMAGED, ReturnKind.RETURN_AND_REFUND))
    view = order.view()
    alone, joining = _reasons(view, ActionKind.REQUEST_RETURN, extra), _reasons(view, ActionKind.ADD_ITEMS_TO_RETURN,
                                                                                  extra)
    assert alone[ReturnReason.MISSING_ITEM] == (ReturnKind.REFUND_ONLY,)
    assert ReturnReason.MISSING_ITEM not in joining, "nothing to send back cannot travel in the parcel"
    assert set(joining) == set(alone) - {ReturnReason.MISSING_ITEM}
    assert set(joining.values()) == {(ReturnKind.RETURN_AND_REFUND,)}
    item_id = next(i.item.id for i in view.action(ActionKind.ADD_ITEMS_TO_RETURN).items)
    (group,) = view.returns
    refused = plan_return(view, [RequestedItem(item_id, 1, ReturnReason.MISSING_ITEM)], ReturnKind.RETURN_AND_REFUND,
                          add_to=group.id)
    assert isinstance(refused, list) and [e.code for e in refused] == [UserErrorCode.REASON_NOT_ALLOWED]
    assert refused[0].message == "That reason can't join this return: request a separate return for this item."
    accepted = plan_return(view, [RequestedItem(item_id, 1, ReturnReason.DEFECTIVE)], ReturnKind.REPLACEMENT,
                           add_to=group.id)
    assert isinstance(accepted, ReturnPlan) and accepted.kind is ReturnKind.RETURN_AND_REFUND


def test_items_added_to_a_refund_only_request_are_offered_only_reasons_with_nothing_to_send_back() -> None:
    order, extra = _with_open_return((ReturnReason.MISSING_ITEM, ReturnKind.REFUND_ONLY))
    view = order.view()
    joining = _reasons(view, ActionKind.ADD_ITEMS_TO_RETURN, extra)
    assert joining == {ReturnReason.MISSING_ITEM: (ReturnKind.REFUND_ONLY,)}


def test_with_two_open_returns_each_reason_lists_the_resolutions_of_the_returns_it_can_join() -> None:
    order, extra = _with_open_return((ReturnReason.DAMAGED, ReturnKind.RETURN_AND_REFUND),
                                     (ReturnReason.MISSING_ITEM, ReturnKind.REFUND_ONLY))
    view = order.view()
    joining = _reasons(view, ActionKind.ADD_ITEMS_TO_RETURN, extra)
    assert joining[ReturnReason.MISSING_ITEM] == (ReturnKind.REFUND_ONLY,)
    assert joining[ReturnReason.DAMAGED] == (ReturnKind.RETURN_AND_REFUND,)
    groups = {g.kind: g.id for g in view.returns}
    item_id = next(i.item.id for i in view.action(ActionKind.ADD_ITEMS_TO_RETURN).items)
    wrong = plan_return(view, [RequestedItem(item_id, 1, ReturnReason.DAMAGED)], ReturnKind.RETURN_AND_REFUND,
                        add_to=groups[ReturnKind.REFUND_ONLY])
    assert isinstance(wrong, list) and [e.code for e in wrong] == [UserErrorCode.RESOLUTION_NOT_ALLOWED]
    right = plan_return(view, [RequestedItem(item_id, 1, ReturnReason.DAMAGED)], ReturnKind.RETURN_AND_REFUND,
                        add_to=groups[ReturnKind.RETURN_AND_REFUND])
    assert isinstance(right, ReturnPlan)
