// The order's statuses (a port of gateway/domain/status.py): lifecycle, and the one status and label the
// shopper sees in the list and on the order page.
import { NOT_SHIPPED, undeliveredCause } from './packages.js';
import { OPEN_STATUSES } from './returns.js';
import { maxOf } from './time.js';

const ISSUE_ALERTS = new Set(['FAILED_ATTEMPT', 'LOST', 'DAMAGED', 'RETURNING_TO_SENDER', 'RETURNED_TO_SENDER',
  'ADDRESS_ISSUE', 'DUTIES_DUE', 'AUTHENTICATION_FAILED']);
const DELAY_ALERTS = new Set(['LATE_DELIVERY', 'CARRIER_DELAY', 'WEATHER_DELAY', 'HOLIDAY_VOLUME', 'CUSTOMS_HOLD',
  'TRACKING_STALLED', 'AUTHENTICATION_DELAY']);

export function lifecycleStatus(view) {
  if (view.cancelled) return 'CANCELLED';
  if (view.snapshot.order.paidAt === null) return 'AWAITING_PAYMENT';
  const live = view.packages.filter((p) => p.status !== 'CANCELLED');
  const shipped = live.filter((p) => !NOT_SHIPPED.has(p.status));
  const delivered = live.filter((p) => p.delivered);
  if (!shipped.length) return view.inFreeCancelWindow ? 'PLACED' : 'PROCESSING';
  const unassigned = view.liveUnits.some((u) => u.packageId === null);
  if (live.length && delivered.length === live.length && !unassigned) {
    return view.afterSalesClosed ? 'COMPLETED' : 'DELIVERED';
  }
  if (delivered.length) return 'PARTIALLY_DELIVERED';
  if (shipped.length === live.length && !unassigned) return 'SHIPPED';
  return 'PARTIALLY_SHIPPED';
}

export function displayStatus(view) {
  const { market, today } = view;
  const { status } = view;
  const { order } = view.snapshot;
  if (status === 'CANCELLED') {
    // A parcel lost or sent back is why the platform cancelled: say that rather than who did it.
    const cause = undeliveredCause(market, view.packages);
    if (cause !== null) return ['CANCELLED', `${market.word('Cancelled')}: ${cause}`];
    const who = { BUYER: ' by you', SELLER: ' by the seller', SYSTEM: ' automatically' }[view.cancelledBy] ?? '';
    return ['CANCELLED', `${market.word('Cancelled')}${who}`];
  }
  if (status === 'AWAITING_PAYMENT') return ['AWAITING_PAYMENT', 'Awaiting payment'];
  const groups = view.returns;
  const openGroups = groups.filter((g) => g.live && g.status !== 'REFUNDED' && g.status !== 'REPLACED');
  if (openGroups.length) {
    const reasons = new Set(openGroups.flatMap((g) => [...g.reasons]));
    if (reasons.has('NOT_RECEIVED')) return ['RETURN_IN_PROGRESS', 'Reported not received'];
    if (reasons.has('LATE')) return ['RETURN_IN_PROGRESS', 'Reported late'];
    const shippedBack = openGroups.some((g) => !OPEN_STATUSES.has(g.status));
    return ['RETURN_IN_PROGRESS', shippedBack ? 'Return on its way back' : 'Return in progress'];
  }
  const refunded = groups.filter((g) => g.status === 'REFUNDED');
  if (refunded.length) {
    const returned = new Set(refunded.flatMap((g) => [...g.unitIds]));
    const everything = view.liveUnits.every((u) => returned.has(u.id));
    return ['REFUNDED', everything ? 'Refunded' : 'Partially refunded'];
  }
  if (view.cancellationRequested) return ['CANCELLATION_REQUESTED', 'Cancellation requested'];
  const issue = view.alerts.find((a) => ISSUE_ALERTS.has(a.kind));
  if (issue) return ['DELIVERY_ISSUE', issue.title];
  const delay = view.alerts.find((a) => DELAY_ALERTS.has(a.kind));
  if (delay) {
    if (delay.kind === 'CUSTOMS_HOLD') return ['DELAYED', 'Held at customs'];
    // No date anyone can stand behind (the ETA is withheld too): say what is known instead.
    if (delay.kind === 'TRACKING_STALLED' && delay.since !== null) {
      return ['DELAYED', `No tracking updates since ${market.day(market.localDate(delay.since), today)}`];
    }
    if (delay.kind === 'AUTHENTICATION_DELAY') return ['DELAYED', delay.title];
    const when = delay.revisedDate || (delay.kind !== 'LATE_DELIVERY' ? view.latestEta : null);
    return ['DELAYED', when ? `Delayed, now arriving ${market.day(when, today)}` : 'Delayed'];
  }
  if (status === 'PLACED') return ['PLACED', 'Order placed'];
  if (status === 'PROCESSING') {
    const authenticating = view.packages.some((p) => p.status === 'AWAITING_AUTHENTICATION');
    return ['PROCESSING', authenticating ? 'Authenticating' : 'Preparing to ship'];
  }
  if (status === 'PARTIALLY_DELIVERED') {
    const live = view.packages.filter((p) => p.status !== 'CANCELLED');
    const done = live.filter((p) => p.delivered).length;
    return ['PARTIALLY_DELIVERED', `${done} of ${live.length} ${market.word('parcel')}s delivered`];
  }
  if (status === 'DELIVERED' || status === 'COMPLETED') {
    const times = view.packages.map((p) => p.deliveredAt).filter((t) => t);
    const day = times.length ? ` ${market.day(market.localDate(maxOf(times)), today)}` : '';
    return [status === 'COMPLETED' ? 'COMPLETED' : 'DELIVERED', `Delivered${day}`];
  }
  const live = view.packages.filter((p) => p.status !== 'CANCELLED' && !p.delivered);
  const parcels = view.packages.filter((p) => p.status !== 'CANCELLED').length;
  for (const [lastMile, display, label] of [
    ['OUT_FOR_DELIVERY', 'OUT_FOR_DELIVERY', 'Out for delivery'],
    ['AVAILABLE_FOR_PICKUP', 'READY_FOR_PICKUP', market.word('Ready to collect')],
  ]) {
    const n = live.filter((p) => p.status === lastMile).length;
    if (n) return [display, parcels === 1 ? label : `${label}: ${n} of ${parcels} ${market.word('parcel')}s`];
  }
  const eta = view.latestEta;
  if (status === 'PARTIALLY_SHIPPED') return ['SHIPPED', 'Partially shipped'];
  if (live.every((p) => p.status === 'LABEL_CREATED') && !order.slaExtension) return ['SHIPPED', 'Shipping soon'];
  return ['SHIPPED', eta ? `Arriving ${market.day(eta, today)}` : 'Shipped'];
}
