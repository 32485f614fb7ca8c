// Abnormal situations, explained (a port of gateway/domain/alerts.py): cause, what happens next, what to do.
import { NOT_SHIPPED, UNDELIVERABLE, authenticationOverdue, promisedDate, quietSince } from './packages.js';
import { REASON_BY_UPSTREAM_CODE } from './policy.js';

const DELAY_KINDS = new Set(['CARRIER_DELAY', 'WEATHER_DELAY', 'HOLIDAY_VOLUME', 'CUSTOMS_HOLD', 'FAILED_ATTEMPT',
  'ADDRESS_ISSUE', 'DUTIES_DUE']);
const SEVERITY_ORDER = { ACTION_REQUIRED: 0, WARNING: 1, INFO: 2 };

// null while a unit of the parcel is in no live request; else whether those requests' refunds were approved.
function reportedLate(snapshot, p) {
  if (!snapshot.afterSales) return null;
  const live = snapshot.afterSales.returns.filter((r) => r.status !== 'CANCELLED' && r.status !== 'REJECTED');
  const held = new Set(live.flatMap((r) => r.unitIds));
  if (p.units.some((u) => !held.has(u.id))) return null;
  const unitIds = new Set(p.units.map((u) => u.id));
  return live.filter((r) => r.unitIds.some((u) => unitIds.has(u)))
    .every((r) => r.status === 'REFUND_PENDING' || r.status === 'REFUNDED');
}

function packageAlerts(snapshot, market, p) {
  const alerts = [];
  const { tracking } = p;
  const last = tracking && tracking.events.length ? tracking.events[tracking.events.length - 1] : null;
  const today = market.localDate(snapshot.now);
  const carrier = p.record.carrierName || 'The carrier';
  const parcel = market.word('parcel');
  const revised = p.eta && p.eta.revised ? p.eta.latest : null;
  const add = (kind, severity, title, cause, nextStep, suggestion, { revisedDate = null, since = null, blocking = false } = {}) => {
    alerts.push({ kind, severity, packageId: p.id, title, cause, nextStep, suggestion, revisedDate, since, blocking });
  };
  const lastTime = last ? last.time : null;
  const when = last ? market.day(market.localDate(last.time), today) : '';

  const refunded = refundedNote(snapshot, market, p);
  if (p.status === 'LOST') {
    add('LOST', 'WARNING', `Your ${parcel} was lost`, `${carrier} reported it lost on ${when}.`,
      refunded ?? "You don't need to do anything: you'll get a full refund or a replacement. Contact support to choose a replacement instead.",
      'CONTACT_SUPPORT', { since: lastTime, blocking: true });
  } else if (p.status === 'DAMAGED') {
    add('DAMAGED', 'WARNING', `Your ${parcel} was damaged in transit`, `${carrier} reported it damaged on ${when}.`,
      refunded ?? "It won't be delivered. You'll get a full refund or a replacement.", 'CONTACT_SUPPORT',
      { since: lastTime, blocking: true });
  } else if (p.status === 'RETURNED_TO_SENDER') {
    add('RETURNED_TO_SENDER', 'WARNING', 'Returned to the seller',
      `${carrier} couldn't deliver it and returned it to the seller on ${when}.`,
      refunded ? `${refunded} Contact the seller if you still want them.`
        : `Your refund is issued once the seller confirms the ${parcel} is back. Contact the seller if you still want the items.`,
      'CONTACT_SELLER', { since: lastTime, blocking: true });
  } else if (p.status === 'RETURNING_TO_SENDER') {
    add('RETURNING_TO_SENDER', 'WARNING', 'On its way back to the seller',
      `${carrier} couldn't deliver it (${last ? last.message.toLowerCase() : 'undeliverable'}).`,
      `Once the ${parcel} is back with the seller you'll be refunded.`, 'CONTACT_SELLER',
      { since: lastTime, blocking: true });
  } else if (p.status === 'DELIVERY_ATTEMPTED' && last !== null) {
    const needsSignature = p.signature !== 'NONE';
    const attempts = tracking ? tracking.failedAttempts : 1;
    add('FAILED_ATTEMPT', needsSignature ? 'ACTION_REQUIRED' : 'WARNING', 'Delivery attempted',
      `${carrier} tried to deliver on ${when}: ${last.message.toLowerCase()}` + (attempts > 1 ? ` (${attempts} attempts so far).` : '.'),
      (`${carrier} will try again` + (revised ? ` on ${market.day(revised, today)}` : '') + '. '
        + (needsSignature ? 'Someone must be there to sign for it.' : '')).trim(),
      'TRACK_WITH_CARRIER', { revisedDate: revised, since: last.time, blocking: true });
  }

  if (last !== null && (p.status === 'IN_TRANSIT' || p.status === 'OUT_FOR_DELIVERY' || p.status === 'LABEL_CREATED')) {
    const sub = last.subtag;
    const customsWaiting = sub === 'InTransit_006' && snapshot.now - last.time > market.customsHoldAfter;
    if (sub === 'Exception_004' || sub === 'Exception_018' || customsWaiting) {
      add('CUSTOMS_HOLD', 'WARNING', 'Held at customs', `Your ${parcel} is waiting for customs clearance since ${when}.`,
        'Customs checks usually take 2-5 days; it will continue automatically once cleared.'
          + (revised ? ` New estimate: ${market.day(revised, today)}.` : ''),
        'WAIT', { revisedDate: revised, since: last.time, blocking: true });
    } else if (sub === 'Exception_006') {
      add('DUTIES_DUE', 'ACTION_REQUIRED', 'Import charges to pay',
        `${carrier} is holding the ${parcel} until import duties are paid.`,
        `Pay the charges on ${carrier}'s page to release it.`, 'TRACK_WITH_CARRIER', { since: last.time, blocking: true });
    } else if (sub === 'Exception_002' || sub === 'Exception_007') {
      add('ADDRESS_ISSUE', 'ACTION_REQUIRED', 'Problem with the address',
        `${carrier} couldn't deliver to the address on the order.`,
        'Contact the seller to confirm the address so the carrier can try again.', 'CONTACT_SELLER',
        { since: last.time, blocking: true });
    } else if (sub === 'Exception_017') {
      add('WEATHER_DELAY', 'WARNING', 'Delayed by weather', `Extreme weather is slowing ${carrier} down.`,
        "It's still on its way" + (revised ? `; new estimate ${market.day(revised, today)}.` : '.'),
        'WAIT', { revisedDate: revised, since: last.time });
    }
  }

  let delayedHere = alerts.some((a) => DELAY_KINDS.has(a.kind));
  const ended = p.delivered || p.willNotArrive;
  const extension = snapshot.order.slaExtension;
  if (!ended && !delayedHere && extension !== null) {
    const by = revised || market.localDate(extension.extended);
    add('HOLIDAY_VOLUME', 'INFO', 'Busy holiday period',
      'Holiday volumes are slowing deliveries, so the delivery date was extended.',
      `It should arrive by ${market.day(by, today)}.`, 'WAIT', { revisedDate: by });
    delayedHere = true;
  }
  const carrierDelay = last !== null && (last.subtag === 'Exception_005' || last.subtag === 'Exception_016');
  if (!ended && !delayedHere && (carrierDelay || revised !== null)) {
    add('CARRIER_DELAY', 'WARNING', 'Delayed by the carrier',
      `${carrier} reported a delay` + (carrierDelay && last ? ` (${last.message.toLowerCase()})` : '')
        + (p.eta && p.eta.original ? ` and moved the estimate from ${market.day(p.eta.original, today)}` : '') + '.',
      "It's still on its way" + (revised ? `; new estimate ${market.day(revised, today)}.` : '.'),
      'WAIT', { revisedDate: revised, since: carrierDelay && last ? last.time : null });
    delayedHere = true;
  }

  const promised = promisedDate(snapshot, market);
  if (!ended && promised !== null && today > promised && !delayedHere) {
    const later = p.eta && p.eta.latest > promised;
    const unshipped = NOT_SHIPPED.has(p.status);
    const reported = reportedLate(snapshot, p);
    // Nothing to report before it ships (the late reason is a shipped one): the seller owes a date.
    const whatNext = unshipped ? ''
      : reported === null ? ' You can report it late and ask for a refund.'
        : reported ? ' You reported it late, and your refund was approved.'
          : ' You reported it late; the seller is reviewing your refund request.';
    const suggestion = unshipped ? 'CONTACT_SELLER' : reported === null ? 'REPORT_LATE' : 'VIEW_RETURN';
    const onItsWay = unshipped ? "It hasn't shipped yet: ask the seller when it will."
      : "It's still on its way" + (later ? `; latest estimate ${market.day(p.eta.latest, today)}.` : '.');
    add('LATE_DELIVERY', 'WARNING', 'Running late', `It was due by ${market.day(promised, today)}.`,
      onItsWay + whatNext, suggestion, { revisedDate: later ? p.eta.latest : null });
  }

  const quiet = quietSince(snapshot, market, p.status, tracking);
  if (quiet !== null && !alerts.length) {
    add('TRACKING_STALLED', 'WARNING', 'No tracking updates', `${carrier} hasn't scanned the ${parcel} since ${when}.`,
      "This usually resolves itself; contact support if there's no update in 2 days.", 'CONTACT_SUPPORT',
      { since: quiet });
  }

  const auth = p.record.authentication;
  const overdue = authenticationOverdue(p.record, p.status, snapshot.now);
  if (auth !== null && p.failedAuthentication) {
    add('AUTHENTICATION_FAILED', 'WARNING', 'Item failed authentication',
      `${auth.provider} could not confirm the item is authentic.`,
      `The order will be ${market.word('cancelled')} and fully refunded.`, 'CONTACT_SUPPORT', { blocking: true });
  } else if (overdue !== null) {
    add('AUTHENTICATION_DELAY', 'WARNING', 'Authentication is taking longer than expected',
      "The seller's certificate of authenticity wasn't approved in time.",
      `If it isn't approved soon the order is ${market.word('cancelled')} and refunded automatically.`, 'WAIT',
      { since: overdue });
  }

  if (p.status === 'DELIVERED' && snapshot.afterSales) {
    const unitIds = new Set(p.units.map((u) => u.id));
    for (const ret of snapshot.afterSales.returns) {
      if (REASON_BY_UPSTREAM_CODE.get(ret.reasonCode) !== 'NOT_RECEIVED') continue;
      if (!ret.unitIds.some((u) => unitIds.has(u)) || ret.status === 'CANCELLED' || ret.status === 'REJECTED') continue;
      const resolved = ret.status === 'REFUNDED' || ret.status === 'REFUND_PENDING';
      add('DELIVERED_NOT_RECEIVED', 'INFO', resolved ? 'Refunded: not received' : 'Reported as not received',
        `${carrier} marked it delivered on `
          + `${p.deliveredAt ? market.day(market.localDate(p.deliveredAt), today) : 'an earlier day'},`
          + ' and you told us it never arrived.',
        resolved ? 'Your refund has been approved.'
          : 'The seller is looking into it'
            + (ret.sellerDeadline ? ` and must respond by ${market.moment(ret.sellerDeadline, today)}` : '')
            + "; if they don't, the refund is approved automatically.",
        'VIEW_RETURN', { since: ret.createdAt });
    }
  }
  return alerts;
}

/** Once the platform has cancelled an undeliverable parcel's items (DOMAIN 1.4), the refund it made. */
function refundedNote(snapshot, market, p) {
  if (p.units.length || !UNDELIVERABLE.has(p.status)) return null;
  const unitIds = new Set(p.record.unitIds);
  const done = (snapshot.afterSales?.cancellations ?? [])
    .filter((c) => c.status === 'CANCELLED' && c.unitIds.some((u) => unitIds.has(u))).map((c) => c.refund);
  const amount = done.length
    ? market.money({ minor: done.reduce((sum, m) => sum + m.minor, 0), currency: done[0].currency })
    : 'the full amount';
  return `Its items were ${market.word('cancelled')} and ${amount} was refunded to your original payment method.`;
}

export function orderAlerts(snapshot, market, packages) {
  const found = packages.flatMap((p) => packageAlerts(snapshot, market, p));
  const numbers = new Map(packages.map((p) => [p.id, p.number]));
  return found.sort((a, b) => (SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
    || ((numbers.get(a.packageId) ?? 0) - (numbers.get(b.packageId) ?? 0)));
}
