"""One order, fully assessed: every derived fact computed once, lazily, from one snapshot and one now.

Resolvers read from an :class:`OrderView`; two fields can never disagree because they are two
properties of the same object, never two fetches.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

from gateway.domain.actions import (
    Action,
    ActionKind,
    UnitEligibility,
    after_sales_closed,
    order_actions,
    return_eligibility,
    seller_actions,
)
from gateway.domain.alerts import Alert, order_alerts
from gateway.domain.items import LineItem, line_items
from gateway.domain.model import Actor, CancellationStatus, OrderSnapshot, Unit
from gateway.domain.packages import PackageView, cancelled_unit_ids, resolve_packages
from gateway.domain.policy import MarketPolicy, ReturnReason, policy
from gateway.domain.returns import ReturnGroup, return_groups
from gateway.domain.status import (
    DisplayStatus,
    OrderStatus,
    SellerStatus,
    display_status,
    lifecycle_status,
    seller_status,
)
from gateway.domain.tracker import TrackerStep, TrackerSummary, order_summary, package_tracker


class OrderView:
    def __init__(self, snapshot: OrderSnapshot) -> None:
        self.snapshot = snapshot
        self.market: MarketPolicy = policy(snapshot.order.market)

    @property
    def id(self) -> str:
        return self.snapshot.order.id

    @cached_property
    def today(self) -> date:
        return self.market.local(self.snapshot.now).date()

    @cached_property
    def items(self) -> tuple[LineItem, ...]:
        return line_items(self.snapshot.order)

    @cached_property
    def cancelled_unit_ids(self) -> frozenset[str]:
        return cancelled_unit_ids(self.snapshot)

    @cached_property
    def live_units(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.snapshot.order.units if u.id not in self.cancelled_unit_ids)

    @cached_property
    def cancelled(self) -> bool:
        return not self.live_units

    @cached_property
    def cancelled_by(self) -> Actor | None:
        order = self.snapshot.order
        if order.cancelled_by is not None:
            return order.cancelled_by
        after_sales = self.snapshot.after_sales
        done = [c for c in after_sales.cancellations if c.status is CancellationStatus.CANCELLED] if after_sales else []
        return done[-1].initiator if done else None

    @cached_property
    def cancellation_requested(self) -> bool:
        after_sales = self.snapshot.after_sales
        return after_sales is not None and any(
            c.status is CancellationStatus.REQUESTED for c in after_sales.cancellations)

    @cached_property
    def in_free_cancel_window(self) -> bool:
        order = self.snapshot.order
        return (order.on_hold_order and order.paid_at is not None
                and self.snapshot.now < order.paid_at + self.market.free_cancel)

    @cached_property
    def packages(self) -> tuple[PackageView, ...]:
        return resolve_packages(self.snapshot, self.market)

    def package(self, package_id: str) -> PackageView | None:
        return next((p for p in self.packages if p.id == package_id), None)

    @cached_property
    def alerts(self) -> list[Alert]:
        return order_alerts(self.snapshot, self.market, self.packages)

    def package_alerts(self, package_id: str) -> list[Alert]:
        return [a for a in self.alerts if a.package_id == package_id]

    def tracker(self, package: PackageView) -> tuple[TrackerStep, ...]:
        return package_tracker(self.snapshot, self.market, package, self.package_alerts(package.id))

    @cached_property
    def summary(self) -> TrackerSummary:
        return order_summary(self.snapshot, self.market, self.packages, self.cancelled)

    @cached_property
    def latest_eta(self) -> date | None:
        etas = [p.eta.latest for p in self.packages if p.eta is not None]
        return max(etas) if etas else None

    @cached_property
    def returns(self) -> tuple[ReturnGroup, ...]:
        return return_groups(self.snapshot, self.market, self.items)

    def return_group(self, group_id: str) -> ReturnGroup | None:
        return next((g for g in self.returns if g.id == group_id), None)

    @cached_property
    def units_in_live_returns(self) -> frozenset[str]:
        return frozenset(u for g in self.returns for u in g.unit_ids)

    def units_in_returns_for(self, reasons: set[ReturnReason]) -> frozenset[str]:
        return frozenset(u for g in self.returns if g.reasons & reasons for u in g.unit_ids)

    @cached_property
    def return_eligibility(self) -> dict[str, UnitEligibility]:
        return return_eligibility(self)

    @cached_property
    def actions(self) -> tuple[Action, ...]:
        return order_actions(self)

    @cached_property
    def seller_actions(self) -> tuple[Action, ...]:
        return seller_actions(self)

    def action(self, kind: ActionKind) -> Action:
        """The buyer's or the seller's action of that kind (one rule source for lists and mutations)."""
        found = next((a for a in self.actions if a.kind is kind), None)
        return found if found is not None else next(a for a in self.seller_actions if a.kind is kind)

    @cached_property
    def after_sales_closed(self) -> bool:
        return after_sales_closed(self)

    @cached_property
    def status(self) -> OrderStatus:
        return lifecycle_status(self)

    @cached_property
    def display(self) -> tuple[DisplayStatus, str]:
        return display_status(self)

    @cached_property
    def seller_status(self) -> SellerStatus:
        return seller_status(self)
