"""Packages, their horizontal trackers, carrier events and alerts."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from gateway.domain import alerts, packages, tracker
from gateway.domain.items import count_by_item
from gateway.domain.view import OrderView
from gateway.errors import UpstreamError, upstream_error
from gateway.schema.enums import (
    AlertKind,
    AlertSeverity,
    AlertSuggestion,
    AuthenticationStatus,
    EtaSource,
    PackageStatus,
    SignatureRequirement,
    SplitReason,
    StatusSource,
    TrackerStepKind,
    TrackerStepState,
)
from gateway.schema.items import ItemQuantity

PACKAGE_LABELS = {
    packages.PackageStatus.PENDING: "Preparing to ship",
    packages.PackageStatus.AWAITING_AUTHENTICATION: "Being authenticated",
    packages.PackageStatus.LABEL_CREATED: "Label created",
    packages.PackageStatus.IN_TRANSIT: "In transit",
    packages.PackageStatus.OUT_FOR_DELIVERY: "Out for delivery",
    packages.PackageStatus.AVAILABLE_FOR_PICKUP: "Ready to collect",
    packages.PackageStatus.DELIVERY_ATTEMPTED: "Delivery attempted",
    packages.PackageStatus.DELIVERED: "Delivered",
    packages.PackageStatus.RETURNING_TO_SENDER: "Returning to seller",
    packages.PackageStatus.RETURNED_TO_SENDER: "Returned to seller",
    packages.PackageStatus.LOST: "Lost",
    packages.PackageStatus.DAMAGED: "Damaged",
    packages.PackageStatus.CANCELLED: "Cancelled",
}


def tracking_error(view: OrderView) -> UpstreamError:
    failure = view.snapshot.tracking_failure
    assert failure is not None
    return upstream_error(failure.service, failure.code, failure.message)


@strawberry.type(description="One milestone of a horizontal tracker.")
class TrackerStep:
    kind: TrackerStepKind
    label: str
    state: TrackerStepState
    time: datetime | None
    description: str

    @classmethod
    def of(cls, step: tracker.TrackerStep) -> TrackerStep:
        return cls(kind=step.kind, label=step.label, state=step.state, time=step.time, description=step.description)


@strawberry.type(description="A scan reported by the carrier, as it reported it.")
class TrackingEvent:
    time: datetime
    code: str = strawberry.field(description="The carrier's status code (AfterShip subtag, e.g. InTransit_003).")
    message: str
    location: str


@strawberry.type(description="When a package should arrive: a window, and whether the carrier revised it.")
class Eta:
    earliest: date
    latest: date
    revised: bool
    original_date: date | None = strawberry.field(description="The first estimate, when it was revised.")
    source: EtaSource


@strawberry.type(description="Why this package travels apart from the rest of the order.")
class PackageSplit:
    reason: SplitReason
    explanation: str


@strawberry.type(description="A check by an independent authenticator before shipping (pre-owned luxury).")
class Authentication:
    status: AuthenticationStatus
    provider: str
    submitted_at: datetime | None
    approved_at: datetime | None
    deadline: datetime | None


@strawberry.type
class Carrier:
    slug: str
    name: str


@strawberry.type(description="An abnormal situation, explained: cause, what happens next, what to do.")
class Alert:
    kind: AlertKind
    severity: AlertSeverity
    package_id: strawberry.ID | None
    title: str
    cause: str
    next_step: str
    suggested_action: AlertSuggestion
    revised_date: date | None
    since: datetime | None

    @classmethod
    def of(cls, a: alerts.Alert) -> Alert:
        return cls(kind=a.kind, severity=a.severity,
                   package_id=strawberry.ID(a.package_id) if a.package_id else None, title=a.title,
                   cause=a.cause, next_step=a.next_step, suggested_action=a.suggestion,
                   revised_date=a.revised_date, since=a.since)


@strawberry.type(description="One shipment of the order, with its own tracker.")
class Package:
    package: strawberry.Private[packages.PackageView]
    view: strawberry.Private[OrderView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.package.id)

    @strawberry.field(description="1-based position in the order: 'Package 2 of 3'.")
    def number(self) -> int:
        return self.package.number

    @strawberry.field
    def status(self) -> PackageStatus:
        return self.package.status

    @strawberry.field
    def status_label(self) -> str:
        return self.view.market.word(PACKAGE_LABELS[self.package.status])

    @strawberry.field
    def status_source(self) -> StatusSource:
        return self.package.status_source

    @strawberry.field(description="False when the carrier service could not be reached for this answer.")
    def tracking_available(self) -> bool:
        return self.view.snapshot.tracking_available

    @strawberry.field
    def items(self) -> list[ItemQuantity]:
        counted = count_by_item(self.view.items, (u.id for u in self.package.units))
        return [ItemQuantity.of(c, self.view) for c in counted]

    @strawberry.field
    def carrier(self) -> Carrier | None:
        record = self.package.record
        if not record.carrier_slug:
            return None
        return Carrier(slug=record.carrier_slug, name=record.carrier_name or record.carrier_slug)

    @strawberry.field
    def tracking_number(self) -> str | None:
        return self.package.record.tracking_number

    @strawberry.field
    def tracking_url(self) -> str | None:
        return self.package.tracking.link if self.package.tracking else None

    @strawberry.field
    def shipped_at(self) -> datetime | None:
        return self.package.shipped_at

    @strawberry.field
    def delivered_at(self) -> datetime | None:
        return self.package.delivered_at

    @strawberry.field(description="Null when delivered or no longer on its way.")
    def eta(self) -> Eta | None:
        eta = self.package.eta
        if eta is None:
            return None
        return Eta(earliest=eta.earliest, latest=eta.latest, revised=eta.revised, original_date=eta.original,
                   source=eta.source)

    @strawberry.field
    def signature_required(self) -> SignatureRequirement:
        return self.package.signature

    @strawberry.field
    def signed_by(self) -> str | None:
        return self.package.tracking.signed_by if self.package.tracking else None

    @strawberry.field
    def pickup_location(self) -> str | None:
        return self.package.tracking.pickup_location if self.package.tracking else None

    @strawberry.field
    def authentication(self) -> Authentication | None:
        auth = self.package.record.authentication
        if auth is None:
            return None
        return Authentication(status=auth.status, provider=auth.provider, submitted_at=auth.submitted_at,
                              approved_at=auth.approved_at, deadline=auth.deadline)

    @strawberry.field(description="Set when the order has more than one package: why this one travels apart.")
    def split(self) -> PackageSplit | None:
        split = self.package.split
        return PackageSplit(reason=split.reason, explanation=split.explanation) if split else None

    @strawberry.field(description="The carrier's scans, oldest first. Null (with an error) when the carrier "
                                  "service is unavailable.")
    def tracking_events(self) -> list[TrackingEvent] | None:
        if not self.view.snapshot.tracking_available:
            raise tracking_error(self.view)
        tracking = self.package.tracking
        if tracking is None:
            return []
        return [TrackingEvent(time=e.time, code=e.subtag, message=e.message, location=e.location)
                for e in tracking.events]

    @strawberry.field(description="The horizontal tracker: placed, (authenticating), shipped, in transit, "
                                  "out for delivery or ready to collect, delivered.")
    def tracker(self) -> list[TrackerStep]:
        return [TrackerStep.of(s) for s in self.view.tracker(self.package)]

    @strawberry.field
    def alerts(self) -> list[Alert]:
        return [Alert.of(a) for a in self.view.package_alerts(self.package.id)]


@strawberry.type(description="The order's own summary row: '2 of 3 packages delivered'.")
class OrderTracker:
    headline: str
    total_packages: int
    shipped_packages: int
    delivered_packages: int
    steps: list[TrackerStep]

    @classmethod
    def of(cls, s: tracker.TrackerSummary) -> OrderTracker:
        return cls(headline=s.headline, total_packages=s.total, shipped_packages=s.shipped,
                   delivered_packages=s.delivered, steps=[TrackerStep.of(x) for x in s.steps])
