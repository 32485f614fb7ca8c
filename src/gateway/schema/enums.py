"""The domain's enums, exposed under their GraphQL names (the domain does not import Strawberry)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.auth import Role
from gateway.domain import actions, alerts, decisions, model, packages, policy, returns, status, tracker

Market = Annotated[model.Market, strawberry.enum(name="Market", description="Where the order was placed.")]
DeliveryMethod = Annotated[model.DeliveryMethod, strawberry.enum(name="DeliveryMethod")]
ProductTag = Annotated[model.ProductTag, strawberry.enum(
    name="ProductTag", description="Product properties that change what after-sales rules apply.")]
SignatureRequirement = Annotated[model.Signature, strawberry.enum(name="SignatureRequirement")]
AuthenticationStatus = Annotated[model.AuthenticationStatus, strawberry.enum(name="AuthenticationStatus")]
OrderStatus = Annotated[status.OrderStatus, strawberry.enum(
    name="OrderStatus", description="Lifecycle status, derived from the order's packages.")]
DisplayStatus = Annotated[status.DisplayStatus, strawberry.enum(
    name="DisplayStatus", description="What the shopper sees, identical in the order list and on the order page.")]
SellerOrderStatus = Annotated[status.SellerStatus, strawberry.enum(
    name="SellerOrderStatus", description="The seller's order tabs.")]
PackageStatus = Annotated[packages.PackageStatus, strawberry.enum(name="PackageStatus")]
StatusSource = Annotated[packages.StatusSource, strawberry.enum(
    name="StatusSource", description="Which upstream decided a package's status (see README: precedence).")]
SplitReason = Annotated[packages.SplitReason, strawberry.enum(name="SplitReason")]
EtaSource = Annotated[packages.EtaSource, strawberry.enum(name="EtaSource")]
TrackerStepKind = Annotated[tracker.StepKind, strawberry.enum(name="TrackerStepKind")]
TrackerStepState = Annotated[tracker.StepState, strawberry.enum(name="TrackerStepState")]
AlertKind = Annotated[alerts.AlertKind, strawberry.enum(name="AlertKind")]
AlertSeverity = Annotated[alerts.Severity, strawberry.enum(name="AlertSeverity")]
AlertSuggestion = Annotated[alerts.Suggestion, strawberry.enum(name="AlertSuggestion")]
AfterSalesActionKind = Annotated[actions.ActionKind, strawberry.enum(name="AfterSalesActionKind")]
UnavailableReason = Annotated[actions.Unavailable, strawberry.enum(
    name="UnavailableReason", description="Why an after-sales action is not available now.")]
ReturnReasonCode = Annotated[policy.ReturnReason, strawberry.enum(name="ReturnReasonCode")]
ReturnReasonCategory = Annotated[policy.ReasonCategory, strawberry.enum(name="ReturnReasonCategory")]
ReturnKind = Annotated[model.ReturnKind, strawberry.enum(name="ReturnKind")]
ReturnStatus = Annotated[model.ReturnStatus, strawberry.enum(name="ReturnStatus")]
ReturnStepKind = Annotated[returns.ReturnStepKind, strawberry.enum(name="ReturnStepKind")]
RefundState = Annotated[returns.RefundState, strawberry.enum(name="RefundState")]
CancellationStatus = Annotated[model.CancellationStatus, strawberry.enum(name="CancellationStatus")]
Actor = Annotated[model.Actor, strawberry.enum(name="Actor")]
ViewerRole = Annotated[Role, strawberry.enum(name="ViewerRole")]
CancelReason = Annotated[policy.CancelReason, strawberry.enum(name="CancelReason")]
UserErrorCode = Annotated[decisions.UserErrorCode, strawberry.enum(name="UserErrorCode")]
