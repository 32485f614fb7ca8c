// The horizontal tracker (a port of gateway/domain/tracker.py): a row of milestones per package, and a
// summary row for the order.
import { NOT_SHIPPED, authenticationOverdue, undeliveredCause } from './packages.js';
import { maxOf } from './time.js';

const LABELS = {
  PLACED: 'Order placed', AUTHENTICATING: 'Authenticating', SHIPPED: 'Shipped', IN_TRANSIT: 'In transit',
  OUT_FOR_DELIVERY: 'Out for delivery', READY_FOR_PICKUP: 'Ready to collect', DELIVERED: 'Delivered',
};
const REACHED = {
  PENDING: 'PLACED', AWAITING_AUTHENTICATION: 'AUTHENTICATING', LABEL_CREATED: 'PLACED', IN_TRANSIT: 'IN_TRANSIT',
  OUT_FOR_DELIVERY: 'OUT_FOR_DELIVERY', AVAILABLE_FOR_PICKUP: 'READY_FOR_PICKUP', DELIVERY_ATTEMPTED: 'OUT_FOR_DELIVERY',
  DELIVERED: 'DELIVERED',
};
const WANTED = {
  SHIPPED: 'InTransit', IN_TRANSIT: 'InTransit', OUT_FOR_DELIVERY: 'OutForDelivery',
  READY_FOR_PICKUP: 'AvailableForPickup', DELIVERED: 'Delivered',
};

function kindsOf(snapshot, p) {
  const lastMile = snapshot.order.deliveryMethod === 'PICKUP_POINT' ? 'READY_FOR_PICKUP' : 'OUT_FOR_DELIVERY';
  const kinds = ['PLACED'];
  if (p.record.authentication !== null) kinds.push('AUTHENTICATING');
  return [...kinds, 'SHIPPED', 'IN_TRANSIT', lastMile, 'DELIVERED'];
}

function milestoneTimes(snapshot, p, kinds) {
  const { order } = snapshot;
  const times = new Map([['PLACED', order.placedAt]]);
  let floor = order.placedAt;
  const auth = p.record.authentication;
  if (auth !== null) {
    const started = auth.submittedAt ?? order.paidAt ?? order.placedAt;
    times.set('AUTHENTICATING', Math.max(started, floor));
    floor = times.get('AUTHENTICATING');
  }
  const events = p.tracking ? p.tracking.events : [];
  for (const kind of kinds) {
    const tag = WANTED[kind];
    if (!tag) continue;
    const afterStrictly = kind === 'IN_TRANSIT' && times.has('SHIPPED');
    for (const event of events) {
      if (event.tag === tag && (afterStrictly ? event.time > floor : event.time >= floor)) {
        times.set(kind, event.time);
        floor = event.time;
        break;
      }
    }
  }
  if (p.status === 'DELIVERED' && !times.has('DELIVERED') && p.deliveredAt) {
    times.set('DELIVERED', Math.max(p.deliveredAt, floor));
  }
  if (!times.has('SHIPPED') && p.shipped && p.statusSource === 'ORDER_SERVICE') {
    const shipped = p.record.createdAt;
    if (shipped !== null && shipped >= times.get('PLACED')) times.set('SHIPPED', shipped);
  }
  return times;
}

export function packageTracker(snapshot, market, p, alerts) {
  const kinds = kindsOf(snapshot, p);
  const times = milestoneTimes(snapshot, p, kinds);
  const today = market.localDate(snapshot.now);
  const blocked = alerts.some((a) => a.blocking) || p.status === 'CANCELLED';
  const finished = p.status === 'DELIVERED';
  let reached = REACHED[p.status];
  if (reached === undefined) {
    reached = kinds.filter((k) => times.has(k)).reduce((a, b) => (kinds.indexOf(b) > kinds.indexOf(a) ? b : a));
  }
  if (!kinds.includes(reached)) reached = 'PLACED';
  if ((p.status === 'PENDING' || p.status === 'LABEL_CREATED') && kinds.includes('AUTHENTICATING')) reached = 'AUTHENTICATING';
  if (p.status === 'IN_TRANSIT' && !times.has('IN_TRANSIT') && times.has('SHIPPED')) reached = 'SHIPPED';
  const current = kinds.indexOf(reached);
  return kinds.map((kind, i) => {
    let time = times.get(kind) ?? null;
    let state;
    if (finished || i < current) {
      state = time !== null || p.statusSource === 'ORDER_SERVICE' ? 'DONE' : 'SKIPPED';
    } else if (i === current) {
      state = blocked ? 'BLOCKED' : 'CURRENT';
    } else {
      state = 'UPCOMING';
      time = null;
    }
    return { kind, label: market.word(LABELS[kind]), state, time, description: describe(snapshot, market, p, kind, state, time, today) };
  });
}

function describe(snapshot, market, p, kind, state, time, today) {
  const { order } = snapshot;
  const carrier = p.record.carrierName || 'the carrier';
  const at = time ? market.moment(time, today) : '';
  const events = p.tracking ? p.tracking.events : [];
  const last = events.length ? events[events.length - 1] : null;
  const current = state === 'CURRENT' || state === 'BLOCKED';
  switch (kind) {
    case 'PLACED': {
      if (!current) return `Ordered ${at}.`;
      if (p.status === 'CANCELLED') return `${market.word('Cancelled')} before it shipped.`;
      if (p.status === 'LABEL_CREATED') return `Label created; waiting for ${carrier} to collect it.`;
      if (order.paidAt === null) return 'Waiting for payment.';
      const planned = p.record.estimatedShipAt ?? order.shipBy;
      const shipBy = planned !== null && planned > snapshot.now
        ? ` Expected to ship ${market.day(market.localDate(planned), today)}.` : '';
      return 'The seller is preparing your order.' + shipBy;
    }
    case 'AUTHENTICATING': {
      const auth = p.record.authentication;
      if (auth.status === 'APPROVED' && auth.approvedAt !== null) {
        const suffix = state === 'CURRENT' ? ' Preparing to ship.' : '';
        return `Authenticated by ${auth.provider} on ${market.moment(auth.approvedAt, today)}.${suffix}`;
      }
      if (auth.status === 'REJECTED') return `${auth.provider} could not confirm the item is authentic.`;
      if (state === 'UPCOMING') return `An independent authenticator (${auth.provider}) checks the item before it ships.`;
      if (authenticationOverdue(p.record, p.status, snapshot.now) !== null) {
        return `${auth.provider} is still checking the item: it's taking longer than expected.`;
      }
      return `${auth.provider} is checking the item is authentic before it ships.`;
    }
    case 'SHIPPED':
      if (state === 'UPCOMING') return `${carrier === 'the carrier' ? 'The carrier' : carrier} picks it up from the seller.`;
      return `Handed to ${carrier}${at ? ' on ' + at : ''}.`;
    case 'IN_TRANSIT':
      if (current && last !== null) return `${last.message} - ${last.location}, ${market.moment(last.time, today)}.`;
      if (state === 'UPCOMING') return 'On its way to you.';
      return at ? `On its way since ${at}.` : 'On its way.';
    case 'OUT_FOR_DELIVERY':
    case 'READY_FOR_PICKUP': {
      const pickup = kind === 'READY_FOR_PICKUP';
      const where = p.tracking && p.tracking.pickupLocation ? p.tracking.pickupLocation : market.word('pickup point');
      if (p.status === 'DELIVERY_ATTEMPTED' && last !== null) {
        const out = at ? `Out for delivery ${at}; d` : 'D';
        return `${out}elivery attempted ${market.moment(last.time, today)}: ${last.message.toLowerCase()}.`;
      }
      if (state === 'UPCOMING') return pickup ? `Waiting for you at ${where}.` : 'With the driver on delivery day.';
      if (pickup) return `Ready to collect at ${where}` + (at ? ' since ' + at : '') + '.';
      const sign = { SIGNATURE: ' A signature is required.', ADULT_SIGNATURE: ` An adult (${market.adultAge}+) signature is required.` }[p.signature] ?? '';
      return state !== 'DONE' ? 'Out for delivery' + (at ? ' ' + at : '') + '.' + sign : 'Out for delivery' + (at ? ` ${at}` : '') + '.';
    }
    default: { // DELIVERED
      if (state === 'UPCOMING' || time === null) {
        if (p.willNotArrive) return "It won't be delivered.";
        if (p.eta !== null) {
          const window = p.eta.earliest === p.eta.latest ? market.day(p.eta.latest, today)
            : `${market.day(p.eta.earliest, today)} - ${market.day(p.eta.latest, today)}`;
          if (p.eta.latest < today) return `Was expected ${window}; running late.`;
          return `Estimated ${window}.`;
        }
        return 'Delivery date to be confirmed.';
      }
      const signed = p.tracking && p.tracking.signedBy ? ` Signed for by ${p.tracking.signedBy}.` : '';
      return `Delivered ${at}.${signed}`;
    }
  }
}

export function orderSummary(snapshot, market, packages, cancelled) {
  const { order } = snapshot;
  const live = packages.filter((p) => p.status !== 'CANCELLED');
  const total = live.length;
  const shipped = live.filter((p) => !NOT_SHIPPED.has(p.status));
  const delivered = live.filter((p) => p.status === 'DELIVERED');
  const today = market.localDate(snapshot.now);
  const parcel = market.word('parcel');
  let headline;
  if (cancelled) {
    const cause = undeliveredCause(market, packages);
    headline = `Order ${market.word('cancelled')}` + (cause ? `: ${cause}` : '');
  }
  else if (order.paidAt === null) headline = 'Waiting for payment';
  else if (total === 0) headline = 'Preparing your order';
  else if (delivered.length === total) headline = total === 1 ? 'Delivered' : `All ${total} ${parcel}s delivered`;
  else if (delivered.length) headline = `${delivered.length} of ${total} ${parcel}s delivered`;
  else if (shipped.length === total) headline = total === 1 ? 'Shipped' : `All ${total} ${parcel}s shipped`;
  else if (shipped.length) headline = `${shipped.length} of ${total} ${parcel}s shipped`;
  else headline = total === 1 ? 'Preparing your order' : `Preparing ${total} ${parcel}s`;

  const last = (times) => {
    const known = times.filter((t) => t !== null && t !== undefined);
    return known.length && known.length === times.length ? maxOf(known) : null;
  };
  const allShipped = total > 0 && shipped.length === total;
  const allDelivered = total > 0 && delivered.length === total;
  const shipTime = allShipped ? last(shipped.map((p) => p.shippedAt)) : null;
  let deliveredTime = allDelivered ? last(delivered.map((p) => p.deliveredAt)) : null;
  if (deliveredTime !== null && shipTime !== null && deliveredTime < shipTime) deliveredTime = shipTime;
  const rows = [['PLACED', order.placedAt, true], ['SHIPPED', shipTime, allShipped], ['DELIVERED', deliveredTime, allDelivered]];
  let reached = 0;
  rows.forEach(([, , done], i) => { if (done) reached = i; });
  const steps = rows.map(([kind, time], i) => {
    let state;
    if (allDelivered || i < reached) state = 'DONE';
    else if (i === reached) state = cancelled ? 'BLOCKED' : 'CURRENT';
    else state = 'UPCOMING';
    const description = {
      PLACED: `Ordered ${market.moment(order.placedAt, today)}.`,
      SHIPPED: total ? `${shipped.length} of ${total} ${parcel}s shipped.` : 'Nothing shipped yet.',
      DELIVERED: total ? `${delivered.length} of ${total} ${parcel}s delivered.` : '',
    }[kind];
    return { kind, label: market.word(LABELS[kind]), state, time: state === 'UPCOMING' ? null : time, description };
  });
  return { total, shipped: shipped.length, delivered: delivered.length, headline, steps };
}
