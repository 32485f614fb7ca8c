// One order, fully assessed (a port of gateway/domain/view.py): every derived fact computed once, lazily,
// from one snapshot and one now, so two fields can never disagree.
import { afterSalesClosed, orderActions, returnEligibility } from './actions.js';
import { orderAlerts } from './alerts.js';
import { cancelledUnitIds, resolvePackages } from './packages.js';
import { POLICIES } from './policy.js';
import { returnGroups } from './returns.js';
import { displayStatus, lifecycleStatus } from './status.js';
import { orderSummary, packageTracker } from './tracker.js';
import { maxOf } from './time.js';

/** All units of one SKU (with one customisation); its id is its first unit's id. */
function lineItems(order) {
  const groups = new Map();
  for (const unit of order.units) {
    const key = `${unit.skuId}\u0000${unit.customization}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(unit);
  }
  return [...groups.values()].map((units) => ({
    id: units[0].id, units, first: units[0], quantity: units.length, unitPrice: units[0].price, tags: units[0].tags,
  }));
}

/** How many of `unitIds` belong to each line item, in line-item order, zeros left out. */
export function countByItem(items, unitIds) {
  const wanted = new Set(unitIds);
  return items.map((item) => ({ item, quantity: item.units.filter((u) => wanted.has(u.id)).length }))
    .filter((c) => c.quantity);
}

function lazy(target, name, compute) {
  Object.defineProperty(target, name, {
    get() {
      const value = compute.call(this);
      Object.defineProperty(this, name, { value });
      return value;
    },
  });
}

export class OrderView {
  constructor(snapshot) {
    this.snapshot = snapshot;
    this.market = POLICIES[snapshot.order.market];
    this.id = snapshot.order.id;
  }

  packageAlerts(packageId) {
    return this.alerts.filter((a) => a.packageId === packageId);
  }

  tracker(p) {
    return packageTracker(this.snapshot, this.market, p, this.packageAlerts(p.id));
  }

  unitsInReturnsFor(reason) {
    return new Set(this.returns.filter((g) => g.reasons.has(reason)).flatMap((g) => [...g.unitIds]));
  }
}

const memo = {
  today() { return this.market.localDate(this.snapshot.now); },
  items() { return lineItems(this.snapshot.order); },
  cancelledUnitIds() { return cancelledUnitIds(this.snapshot); },
  liveUnits() { return this.snapshot.order.units.filter((u) => !this.cancelledUnitIds.has(u.id)); },
  cancelled() { return this.liveUnits.length === 0; },
  cancelledBy() {
    const { order, afterSales } = this.snapshot;
    if (order.cancelledBy !== null) return order.cancelledBy;
    const done = (afterSales?.cancellations ?? []).filter((c) => c.status === 'CANCELLED');
    return done.length ? done[done.length - 1].initiator : null;
  },
  cancellationRequested() {
    return (this.snapshot.afterSales?.cancellations ?? []).some((c) => c.status === 'REQUESTED');
  },
  inFreeCancelWindow() {
    const { order, now } = this.snapshot;
    return order.onHoldOrder && order.paidAt !== null && now < order.paidAt + this.market.freeCancel;
  },
  packages() { return resolvePackages(this.snapshot, this.market); },
  alerts() { return orderAlerts(this.snapshot, this.market, this.packages); },
  summary() { return orderSummary(this.snapshot, this.market, this.packages, this.cancelled); },
  latestEta() {
    const etas = this.packages.filter((p) => p.eta !== null).map((p) => p.eta.latest);
    return etas.length ? maxOf(etas) : null;
  },
  returns() { return returnGroups(this.snapshot, this.items); },
  unitsInLiveReturns() { return new Set(this.returns.flatMap((g) => [...g.unitIds])); },
  eligibility() { return returnEligibility(this); },
  actions() { return orderActions(this); },
  afterSalesClosed() { return afterSalesClosed(this); },
  status() { return lifecycleStatus(this); },
  display() { return displayStatus(this); },
};
for (const [name, compute] of Object.entries(memo)) lazy(OrderView.prototype, name, compute);
