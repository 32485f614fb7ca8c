// Where each package is (a port of gateway/domain/packages.py): one status per package from two services
// that disagree, plus its ETA and why it travels apart.
import { addDays } from './time.js';

export const NOT_SHIPPED = new Set(['PENDING', 'AWAITING_AUTHENTICATION']);
export const ENDED_UNDELIVERED = new Set(['RETURNED_TO_SENDER', 'LOST', 'DAMAGED', 'CANCELLED']);
// The journeys that ended without a delivery: the platform cancels (and refunds) their items.
export const UNDELIVERABLE = new Set(['RETURNED_TO_SENDER', 'LOST', 'DAMAGED']);
// Will not reach the buyer: on its way back to the seller, or its journey is over without a delivery.
export const WONT_ARRIVE = new Set([...ENDED_UNDELIVERED, 'RETURNING_TO_SENDER']);
// Where the carrier should keep scanning a parcel on its way; one it has not scanned for the market's
// stalledAfter has gone quiet.
const SCANNED_EN_ROUTE = new Set(['LABEL_CREATED', 'IN_TRANSIT']);

const FULFILMENT_STATUS = {
  TO_FULFILL: 'PENDING', PROCESSING: 'LABEL_CREATED', FULFILLING: 'IN_TRANSIT', COMPLETED: 'DELIVERED',
  CANCELLED: 'CANCELLED',
};
const TAG_STATUS = {
  Pending: 'LABEL_CREATED', InfoReceived: 'LABEL_CREATED', InTransit: 'IN_TRANSIT', OutForDelivery: 'OUT_FOR_DELIVERY',
  AttemptFail: 'DELIVERY_ATTEMPTED', Delivered: 'DELIVERED', AvailableForPickup: 'AVAILABLE_FOR_PICKUP',
  Expired: 'IN_TRANSIT',
};
const TERMINAL_EXCEPTIONS = {
  Exception_003: 'RETURNING_TO_SENDER', Exception_008: 'RETURNING_TO_SENDER', Exception_009: 'RETURNING_TO_SENDER',
  Exception_010: 'RETURNING_TO_SENDER', Exception_011: 'RETURNED_TO_SENDER', Exception_012: 'DAMAGED',
  Exception_013: 'LOST',
};
const RANK = Object.fromEntries(['PENDING', 'AWAITING_AUTHENTICATION', 'LABEL_CREATED', 'IN_TRANSIT',
  'OUT_FOR_DELIVERY', 'AVAILABLE_FOR_PICKUP', 'DELIVERY_ATTEMPTED', 'DELIVERED'].map((s, i) => [s, i]));

export function carrierStatus(tracking) {
  if (tracking.tag === 'Exception') {
    const terminal = TERMINAL_EXCEPTIONS[tracking.subtag];
    if (terminal) return terminal;
    const ordinary = tracking.events.filter((e) => e.tag !== 'Exception');
    return ordinary.length ? TAG_STATUS[ordinary[ordinary.length - 1].tag] : 'IN_TRANSIT';
  }
  return TAG_STATUS[tracking.tag];
}

export function cancelledUnitIds(snapshot) {
  const { order } = snapshot;
  if (order.sourceStatus === 'CANCELLED') return new Set(order.units.map((u) => u.id));
  const ids = new Set(order.units.filter((u) => u.cancelledBy !== null).map((u) => u.id));
  for (const c of snapshot.afterSales?.cancellations ?? []) {
    if (c.status === 'CANCELLED') for (const id of c.unitIds) ids.add(id);
  }
  return ids;
}

function resolveStatus(record, tracking) {
  let service = FULFILMENT_STATUS[record.fulfilment];
  const auth = record.authentication;
  if (service === 'PENDING' && auth !== null && auth.status !== 'APPROVED') service = 'AWAITING_AUTHENTICATION';
  if (!tracking) return [service, 'ORDER_SERVICE'];
  const carrier = carrierStatus(tracking);
  const labelOnly = tracking.tag === 'InfoReceived' || tracking.tag === 'Pending';
  if (labelOnly && service in RANK && RANK[service] > RANK[carrier]) return [service, 'ORDER_SERVICE'];
  return [carrier, 'CARRIER'];
}

export function failedAuthentication(record, status) {
  const auth = record.authentication;
  return NOT_SHIPPED.has(status) && auth !== null && auth.status === 'REJECTED';
}

/** The certificate's review deadline, when it has passed with the item still waiting to be approved. */
export function authenticationOverdue(record, status, now) {
  const auth = record.authentication;
  if (auth === null || !NOT_SHIPPED.has(status) || auth.deadline === null || now <= auth.deadline) return null;
  return auth.status === 'APPROVED' || auth.status === 'REJECTED' ? null : auth.deadline;
}

/** The carrier's last scan, when a parcel on the move has had none for longer than the market allows. */
export function quietSince(snapshot, market, status, tracking) {
  const last = tracking && tracking.events.length ? tracking.events[tracking.events.length - 1] : null;
  if (last === null || !SCANNED_EN_ROUTE.has(status) || snapshot.now - last.time <= market.stalledAfter) return null;
  return last.time;
}

/** What ended a parcel's journey without a delivery ("parcel lost"), when one did, in the market's words. */
export function undeliveredCause(market, packages) {
  const ended = packages.find((p) => UNDELIVERABLE.has(p.status));
  if (!ended) return null;
  const parcel = market.word('parcel');
  return { LOST: `${parcel} lost`, DAMAGED: `${parcel} damaged`, RETURNED_TO_SENDER: 'returned to the seller' }[ended.status];
}

export function promisedDate(snapshot, market) {
  const { order } = snapshot;
  const promised = order.slaExtension ? order.slaExtension.extended : order.promisedBy;
  return promised ? market.localDate(promised) : null;
}

// No date that cannot be kept: delivered, never arriving, waiting on an overdue authentication, or a
// carrier gone quiet that never revised the date it gave before.
function eta(snapshot, market, record, status, tracking) {
  if (status === 'DELIVERED' || WONT_ARRIVE.has(status) || failedAuthentication(record, status)) return null;
  if (authenticationOverdue(record, status, snapshot.now) !== null) return null;
  const quiet = quietSince(snapshot, market, status, tracking) !== null;
  if (tracking && (tracking.latestEstimate || tracking.firstEstimate)) {
    const latest = tracking.latestEstimate || tracking.firstEstimate;
    const first = tracking.firstEstimate || latest;
    const revised = latest !== first;
    if (quiet && !revised) return null;
    return { earliest: latest, latest, revised, original: revised ? first : null, source: 'CARRIER' };
  }
  if (NOT_SHIPPED.has(status)) {
    const [low, high] = market.transitDays;
    const base = record.estimatedShipAt ?? snapshot.order.shipBy ?? snapshot.now;
    const start = market.localDate(Math.max(base, snapshot.now));
    return { earliest: addDays(start, low), latest: addDays(start, high), revised: false, original: null, source: 'ESTIMATE' };
  }
  const promised = promisedDate(snapshot, market);
  if (promised === null || quiet) return null;
  return { earliest: promised, latest: promised, revised: false, original: null, source: 'ORDER_SERVICE' };
}

function intrinsicSplit(record, units, others, market, today) {
  for (const unit of units) {
    if (unit.customization) {
      return { reason: 'CUSTOMISATION', explanation: `${unit.productName} is personalised for you (${unit.customization}), so it ships on its own once it has been made.` };
    }
  }
  for (const unit of units) {
    const made = unit.handlingDays ? ` (about ${unit.handlingDays} days)` : '';
    if (unit.skuType === 'MADE_TO_ORDER') {
      return { reason: 'MADE_TO_ORDER', explanation: `${unit.productName} is made to order${made}, so it ships separately once it is ready.` };
    }
    if (unit.skuType === 'BACK_ORDER') {
      const when = record.estimatedShipAt ? `, expected to ship ${market.day(market.localDate(record.estimatedShipAt), today)}` : '';
      return { reason: 'BACKORDER', explanation: `${unit.productName} is on backorder, so it ships on its own when it is back in stock${when}.` };
    }
    if (unit.skuType === 'PRE_ORDER') {
      return { reason: 'PRE_ORDER', explanation: `${unit.productName} is a pre-order, so it ships on its own when it is released.` };
    }
  }
  const name = units.length ? units[0].productName : 'This item';
  if (record.authentication !== null || units.some((u) => u.tags.has('REQUIRES_AUTHENTICATION'))) {
    return { reason: 'AUTHENTICATION', explanation: `${name} is checked by an independent authenticator before it ships, so it travels on its own.` };
  }
  if (record.mustSplit.includes('OVERSIZE_OVERWEIGHT') || units.some((u) => u.tags.has('OVERSIZE'))) {
    return { reason: 'SIZE_OR_WEIGHT', explanation: `${name} is too large or heavy to travel with the rest of your order, so it ships separately and may take longer.` };
  }
  if (record.mustSplit.includes('CATEGORY_ITEM_LIMITATION')) {
    return { reason: 'CATEGORY_LIMIT', explanation: 'Items of this kind must be shipped in their own package.' };
  }
  if (record.mustSplit.includes('TOTAL_COUNT_LIMITATION')) {
    return { reason: 'PACKAGE_ITEM_LIMIT', explanation: `Your order has more items than fit in one ${market.word('parcel')}, so it was split.` };
  }
  if (others.some((o) => o.warehouseId !== record.warehouseId)) {
    return { reason: 'ITEM_AVAILABILITY', explanation: 'These items were in stock at a different warehouse, so they ship from there separately rather than wait to travel together.' };
  }
  return null;
}

function companionSplit(intrinsic, units) {
  const heldUp = units.length ? units[0].productName : 'another item';
  if (intrinsic.reason === 'ITEM_AVAILABILITY') return intrinsic;
  return {
    reason: intrinsic.reason,
    explanation: `Your other items ship separately so they are not held up by ${heldUp} (${intrinsic.reason.replaceAll('_', ' ').toLowerCase()}).`,
  };
}

export function resolvePackages(snapshot, market) {
  const { order } = snapshot;
  const cancelled = cancelledUnitIds(snapshot);
  const unitsById = new Map(order.units.map((u) => [u.id, u]));
  const today = market.localDate(snapshot.now);
  const liveUnits = new Map(order.packages.map((r) => [r.id,
    r.unitIds.filter((i) => unitsById.has(i) && !cancelled.has(i)).map((i) => unitsById.get(i))]));
  const liveRecords = order.packages.filter((r) => liveUnits.get(r.id).length);
  const intrinsic = new Map();
  if (liveRecords.length > 1) {
    for (const r of liveRecords) {
      intrinsic.set(r.id, intrinsicSplit(r, liveUnits.get(r.id), liveRecords.filter((o) => o.id !== r.id), market, today));
    }
  }
  return order.packages.map((record, index) => {
    const units = liveUnits.get(record.id);
    const tracking = snapshot.trackings.get(record.id) ?? null;
    let [status, statusSource] = resolveStatus(record, tracking);
    // A package whose items were all cancelled is CANCELLED, unless the platform cancelled them because
    // its journey ended undelivered: then it keeps saying what happened to it.
    if (!units.length && !UNDELIVERABLE.has(status)) [status, statusSource] = ['CANCELLED', 'ORDER_SERVICE'];
    let deliveredAt = null;
    if (status === 'DELIVERED') {
      deliveredAt = tracking && tracking.deliveredAt ? tracking.deliveredAt : (order.deliveredAt || order.updatedAt);
    }
    const shippedAt = tracking && tracking.events.length ? tracking.events[0].time : record.createdAt;
    let signature = record.signature;
    if (tracking && tracking.signature !== 'NONE') signature = tracking.signature;
    let split = null;
    if (intrinsic.has(record.id)) {
      split = intrinsic.get(record.id);
      if (split === null) {
        const owner = liveRecords.find((o) => intrinsic.get(o.id));
        split = owner
          ? companionSplit(intrinsic.get(owner.id), liveUnits.get(owner.id))
          : { reason: 'SELLER_CHOICE', explanation: `The seller sent your items in separate ${market.word('parcel')}s.` };
      }
    }
    return {
      record, id: record.id, number: index + 1, status, statusSource, tracking, units,
      shippedAt: NOT_SHIPPED.has(status) ? null : shippedAt, deliveredAt, signature,
      eta: eta(snapshot, market, record, status, tracking), split,
      delivered: status === 'DELIVERED', shipped: !NOT_SHIPPED.has(status) && status !== 'CANCELLED',
      failedAuthentication: failedAuthentication(record, status),
      willNotArrive: WONT_ARRIVE.has(status) || failedAuthentication(record, status),
    };
  });
}
