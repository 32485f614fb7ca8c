// What the shopper can do now (a port of the buyer's side of gateway/domain/actions.py): every after-sales
// entrance, with its availability, deadline and items.
import { NOT_SHIPPED, promisedDate } from './packages.js';
import { covers, freeReturnCovers, offeredReasons } from './policy.js';
import { FINISHED_STATUSES } from './returns.js';
import { DAY, maxOf } from './time.js';

const LABELS = {
  CANCEL_ORDER: 'Cancel order', CANCEL_ITEMS: 'Cancel items', CHANGE_ADDRESS: 'Change address',
  REQUEST_RETURN: 'Return or refund', ADD_ITEMS_TO_RETURN: 'Add items to return', CANCEL_RETURN: 'Cancel return',
  VIEW_RETURN: 'View return', REPORT_NOT_RECEIVED: "Didn't receive it", REPORT_LATE: 'Report late delivery',
  CONTACT_SELLER: 'Contact seller', CONTACT_SUPPORT: 'Contact support',
};

const action = (kind, available, message, unavailable, fields = {}) => ({
  kind, label: LABELS[kind], available, message, unavailable, deadline: null, items: [], packageIds: [],
  returnIds: [], requiresApproval: false, alternative: null, ...fields,
});
const ok = (kind, message, fields) => action(kind, true, message, null, fields);
const no = (kind, why, message, fields) => action(kind, false, message, why, fields);

/** What a shopper may ask for, given why: change of mind is a return; faults may be replaced; an item
 * missing from the parcel has nothing to send back. */
function resolutionsFor(rule) {
  if (rule.reason === 'MISSING_ITEM') return ['REFUND_ONLY'];
  if (rule.category === 'CHANGE_OF_MIND') return ['RETURN_AND_REFUND'];
  if (rule.category === 'FAULTY') return ['RETURN_AND_REFUND', 'REPLACEMENT'];
  return ['RETURN_AND_REFUND', 'REFUND_ONLY'];
}

/** When the order's last live package arrived; null while one is still on its way. */
function lastDeliveryOf(view) {
  const livePackages = view.packages.filter((p) => p.status !== 'CANCELLED');
  return livePackages.length && livePackages.every((p) => p.deliveredAt)
    ? maxOf(livePackages.map((p) => p.deliveredAt)) : null;
}

/** For every delivered unit not already being returned: which reasons are open, until when. */
export function returnEligibility(view) {
  const { market } = view;
  const { now } = view.snapshot;
  const livePackages = view.packages.filter((p) => p.status !== 'CANCELLED');
  const lastDelivery = lastDeliveryOf(view);
  const inReturn = view.unitsInLiveReturns;
  const rules = offeredReasons(market.market);
  const result = new Map();
  for (const p of livePackages) {
    if (!p.delivered || !p.deliveredAt) continue;
    for (const unit of p.units) {
      if (inReturn.has(unit.id)) continue;
      const options = [];
      let closed = null;
      let excluded = false;
      for (const rule of rules) {
        let deadline = null;
        let basis = '';
        for (const window of market.returnWindows) {
          if (!covers(window, rule, unit.tags)) {
            if (rule.category === 'CHANGE_OF_MIND' && window.categories.has(rule.category)) excluded = true;
            continue;
          }
          const anchor = window.start === 'EACH_PACKAGE' ? p.deliveredAt : lastDelivery;
          if (anchor === null) continue;
          const end = anchor + window.days * DAY;
          if (deadline === null || end > deadline) [deadline, basis] = [end, window.basis];
        }
        if (deadline === null) continue;
        if (now <= deadline) options.push({ rule, deadline, basis, resolutions: resolutionsFor(rule) });
        else if (closed === null || deadline > closed) closed = deadline;
      }
      result.set(unit.id, { unit, package: p, options, closedAt: closed, excludedChangeOfMind: excluded });
    }
  }
  return result;
}

const EXCLUSION_NOTES = [
  ['FINAL_SALE', "Final-sale item: it can only be returned if it's faulty."],
  ['PERSONALISED', "Personalised item: it can only be returned if it's faulty."],
  ['PERISHABLE', "Perishable item: it can only be returned if it's faulty."],
  ['HYGIENE_SEALED', "Sealed for hygiene: it can only be returned if it's faulty."],
];

// The order service weighs packages, not items: a unit's estimated weight is an even share of its package's.
function shipsFree(view, unit) {
  const limit = view.market.freeReturnLimit;
  if (limit === null) return true;
  const pkg = view.snapshot.order.packages.find((p) => p.id === unit.packageId);
  const weight = pkg && pkg.unitIds.length ? pkg.weightG / pkg.unitIds.length : 0;
  return freeReturnCovers(limit, unit.price, weight);
}

function returnItems(view, eligible) {
  const items = [];
  const limit = view.market.freeReturnLimit;
  for (const item of view.items) {
    const units = item.units.map((u) => eligible.get(u.id)).filter((e) => e && e.options.length);
    if (!units.length) continue;
    const best = new Map();
    for (const e of units) {
      for (const option of e.options) {
        const kept = best.get(option.rule.reason);
        if (!kept || option.deadline > kept.deadline) best.set(option.rule.reason, option);
      }
    }
    const reasons = [...best.values()].sort((a, b) => a.rule.index - b.rule.index);
    let exclusion = null;
    if (units.some((e) => e.excludedChangeOfMind)) {
      exclusion = EXCLUSION_NOTES.find(([tag]) => item.tags.has(tag))?.[1] ?? null;
    }
    const shipping = limit !== null && !units.every((e) => shipsFree(view, e.unit))
      ? `Return shipping may not be free for this item: free return labels are only for items ${limit.described}.`
      : null;
    const note = [exclusion, shipping].filter((n) => n).join(' ') || null;
    items.push({ item, unitIds: units.map((e) => e.unit.id), deadline: maxOf(reasons.map((o) => o.deadline)), reasons, note });
  }
  return items;
}

function requestReturn(view, eligible, items) {
  const kind = 'REQUEST_RETURN';
  const { market, today } = view;
  if (view.cancelled) return no(kind, 'ORDER_CANCELLED', `The order was ${market.word('cancelled')}.`);
  if (items.length) {
    const packages = items.flatMap((i) => i.unitIds.map((u) => eligible.get(u).package));
    return ok(kind, 'Choose the items, and a reason for each.', {
      deadline: maxOf(items.map((i) => i.deadline).filter((d) => d)), items,
      packageIds: [...new Set(packages.filter((p) => p).map((p) => p.id))],
    });
  }
  if (!view.packages.some((p) => p.delivered)) {
    const eta = view.latestEta;
    const when = eta ? ` (expected ${market.day(eta, today)})` : '';
    return no(kind, 'NOT_DELIVERED_YET', `You can return items once they're delivered${when}.`);
  }
  if (!eligible.size) {
    return no(kind, 'ALREADY_IN_RETURN', 'Every delivered item is already in a return.',
      { returnIds: view.returns.filter((g) => g.live).map((g) => g.id) });
  }
  const closed = [...eligible.values()].map((e) => e.closedAt).filter((t) => t);
  if (closed.length) {
    const last = maxOf(closed);
    return no(kind, 'WINDOW_CLOSED', `The return window closed on ${market.day(market.localDate(last), today)}.`,
      { deadline: last });
  }
  return no(kind, 'NOT_RETURNABLE', "These items can't be returned.");
}

// An added item takes its return's resolution: only reasons an open return can take, with those resolutions.
function joining(items, kinds) {
  return items.flatMap((item) => {
    const reasons = item.reasons.filter((o) => o.resolutions.some((k) => kinds.has(k)))
      .map((o) => ({ ...o, resolutions: o.resolutions.filter((k) => kinds.has(k)) }));
    return reasons.length ? [{ ...item, reasons, deadline: maxOf(reasons.map((o) => o.deadline)) }] : [];
  });
}

function addItems(view, items) {
  const kind = 'ADD_ITEMS_TO_RETURN';
  if (!view.returns.length) return no(kind, 'NO_RETURN', 'There is no return to add items to.');
  const groups = view.returns.filter((g) => g.open && !g.reasons.has('NOT_RECEIVED') && !g.reasons.has('LATE'));
  const openIds = groups.map((g) => g.id);
  if (!openIds.length) {
    return no(kind, 'RETURN_ALREADY_SHIPPED', 'Items can only be added before the return is sent back.',
      { returnIds: view.returns.map((g) => g.id) });
  }
  const joined = joining(items, new Set(groups.map((g) => g.kind)));
  if (!joined.length) return no(kind, 'NOTHING_TO_ADD', 'No other items can be returned.', { returnIds: openIds });
  return ok(kind, 'Add more items to the same parcel, each with its own reason.', {
    deadline: maxOf(joined.map((i) => i.deadline).filter((d) => d)), items: joined, returnIds: openIds,
  });
}

function cancelReturn(view) {
  const kind = 'CANCEL_RETURN';
  if (!view.returns.length) return no(kind, 'NO_RETURN', 'There is no return to cancel.');
  const openIds = view.returns.filter((g) => g.open).map((g) => g.id);
  if (!openIds.length) {
    return no(kind, 'RETURN_ALREADY_SHIPPED', 'A return can only be withdrawn before it is sent back.',
      { returnIds: view.returns.map((g) => g.id) });
  }
  return ok(kind, 'Withdraw the request; nothing will be refunded.', { returnIds: openIds });
}

function viewReturn(view) {
  if (!view.returns.length) return no('VIEW_RETURN', 'NO_RETURN', 'There is no return for this order.');
  return ok('VIEW_RETURN', "See the return's status and next steps.", { returnIds: view.returns.map((g) => g.id) });
}

function pendingCancellationUnits(view) {
  const ids = new Set();
  for (const c of view.snapshot.afterSales?.cancellations ?? []) {
    if (c.status === 'REQUESTED') for (const u of c.unitIds) ids.add(u);
  }
  return ids;
}

function failedAuthenticationUnits(view) {
  return new Set(view.packages.filter((p) => p.failedAuthentication).flatMap((p) => p.units.map((u) => u.id)));
}

function waitingToShip(view) {
  const shipped = new Set(view.packages.filter((p) => p.shipped).flatMap((p) => p.units.map((u) => u.id)));
  return new Set(view.liveUnits.filter((u) => !shipped.has(u.id)).map((u) => u.id));
}

function unshippedUnits(view) {
  const waiting = waitingToShip(view);
  const taken = new Set([...pendingCancellationUnits(view), ...failedAuthenticationUnits(view)]);
  return view.liveUnits.filter((u) => waiting.has(u.id) && !taken.has(u.id));
}

// Whether every one of unitIds is already on its way out: failed authentication (the platform cancels it),
// or in the buyer's cancellation request waiting for the seller.
function beingCancelled(view, unitIds) {
  const failed = failedAuthenticationUnits(view);
  const ids = [...unitIds];
  if (ids.every((u) => failed.has(u))) return 'AUTHENTICATION_FAILED';
  const pending = pendingCancellationUnits(view);
  if (ids.every((u) => failed.has(u) || pending.has(u))) return 'CANCELLATION_PENDING';
  return null;
}

const failedAuthenticationMessage = (market) => 'The item failed authentication, so it won\'t ship: the order will be '
  + `${market.word('cancelled')} and fully refunded automatically.`;

function cancelBlocked(view, kind, unitIds) {
  const why = beingCancelled(view, unitIds);
  if (why === 'AUTHENTICATION_FAILED') return no(kind, why, failedAuthenticationMessage(view.market));
  if (why === 'CANCELLATION_PENDING') return no(kind, why, 'Your cancellation request is with the seller.');
  return null;
}

function cancellationTerms(view) {
  const { order } = view.snapshot;
  const { market } = view;
  if (order.paidAt === null) return [false, null, 'Cancel now; nothing has been charged.'];
  if (view.inFreeCancelWindow) {
    const until = order.paidAt + market.freeCancel;
    return [false, until, `Free cancellation until ${market.moment(until, view.today)}.`];
  }
  if (order.shipBy !== null && order.shipBy > view.snapshot.now) {
    return [true, order.shipBy, `Ask the seller to cancel before it ships (due by ${market.moment(order.shipBy, view.today)}); `
      + "you're refunded once they accept."];
  }
  return [true, null, "Ask the seller to cancel before it ships; you're refunded once they accept."];
}

function group(view, unitIds, deadline) {
  const wanted = new Set(unitIds);
  return view.items.filter((item) => item.units.some((u) => wanted.has(u.id)))
    .map((item) => ({ item, unitIds: item.units.filter((u) => wanted.has(u.id)).map((u) => u.id), deadline, reasons: [], note: null }));
}

function cancelOrder(view) {
  const kind = 'CANCEL_ORDER';
  const { market } = view;
  if (view.cancelled) return no(kind, 'ORDER_CANCELLED', `The order is already ${market.word('cancelled')}.`);
  const blocked = cancelBlocked(view, kind, view.liveUnits.map((u) => u.id));
  if (blocked) return blocked;
  if (view.packages.some((p) => p.shipped)) {
    const someLeft = unshippedUnits(view).length > 0;
    return no(kind, 'ALREADY_SHIPPED', someLeft ? 'Part of the order has shipped: cancel the remaining items instead.'
      : "It has already shipped: you can return it once it's delivered.",
    { alternative: someLeft ? 'CANCEL_ITEMS' : 'REQUEST_RETURN' });
  }
  const [approval, deadline, message] = cancellationTerms(view);
  const units = unshippedUnits(view);
  return ok(kind, message, { deadline, requiresApproval: approval, items: group(view, units.map((u) => u.id), deadline) });
}

function cancelItems(view) {
  const kind = 'CANCEL_ITEMS';
  const { market } = view;
  if (view.cancelled) return no(kind, 'ORDER_CANCELLED', `The order is already ${market.word('cancelled')}.`);
  const units = unshippedUnits(view);
  if (!units.length) {
    const waiting = waitingToShip(view);
    const blocked = waiting.size ? cancelBlocked(view, kind, waiting) : null;
    if (blocked) return blocked;
    return no(kind, 'ALREADY_SHIPPED', 'Everything has shipped: return items once delivered.', { alternative: 'REQUEST_RETURN' });
  }
  if (units.length < 2) {
    return no(kind, 'SINGLE_ITEM', 'Only one item is left to ship: cancel the order instead.',
      { alternative: view.packages.some((p) => p.shipped) ? null : 'CANCEL_ORDER' });
  }
  const [approval, deadline, message] = cancellationTerms(view);
  return ok(kind, message, { deadline, requiresApproval: approval, items: group(view, units.map((u) => u.id), deadline) });
}

function changeAddress(view) {
  const kind = 'CHANGE_ADDRESS';
  if (view.cancelled) return no(kind, 'ORDER_CANCELLED', `The order was ${view.market.word('cancelled')}.`);
  const why = beingCancelled(view, view.liveUnits.map((u) => u.id));
  if (why === 'AUTHENTICATION_FAILED') return no(kind, why, failedAuthenticationMessage(view.market));
  if (why === 'CANCELLATION_PENDING') {
    return no(kind, why, "Your cancellation request is with the seller: the address can't change while they decide.",
      { alternative: 'CONTACT_SELLER' });
  }
  if (view.packages.some((p) => p.shipped)) {
    return no(kind, 'ALREADY_SHIPPED', "The label has been created, so the address can no longer change. Contact the seller if there's a problem.",
      { alternative: 'CONTACT_SELLER' });
  }
  return ok(kind, "Update where it's delivered before it ships.", { deadline: view.snapshot.order.shipBy });
}

function reportNotReceived(view) {
  const kind = 'REPORT_NOT_RECEIVED';
  const { market } = view;
  const { now } = view.snapshot;
  const delivered = view.packages.filter((p) => p.delivered && p.deliveredAt);
  if (!delivered.length) return no(kind, 'NOT_DELIVERED_YET', 'Available once a package is marked delivered.');
  const reported = view.unitsInReturnsFor('NOT_RECEIVED');
  const inReturn = view.unitsInLiveReturns;
  const last = lastDeliveryOf(view);
  const until = new Map(delivered.map((p) => [p.id, market.notReceivedUntil(p.deliveredAt, last)]));
  const openPackages = delivered.filter((p) => now <= until.get(p.id) && p.units.some((u) => !inReturn.has(u.id)));
  if (openPackages.length) {
    const units = openPackages.flatMap((p) => p.units.filter((u) => !inReturn.has(u.id)).map((u) => u.id));
    const deadline = maxOf(openPackages.map((p) => until.get(p.id)));
    return ok(kind, 'Tell us if a package marked delivered never reached you.', {
      deadline, packageIds: openPackages.map((p) => p.id), items: group(view, units, deadline),
    });
  }
  if (delivered.some((p) => p.units.some((u) => reported.has(u.id)))) {
    return no(kind, 'ALREADY_REPORTED', "You already reported it; we're looking into it.",
      { returnIds: view.returns.filter((g) => g.reasons.has('NOT_RECEIVED')).map((g) => g.id) });
  }
  const closed = maxOf([...until.values()]);
  if (now > closed) {
    return no(kind, 'WINDOW_CLOSED', `Reports had to be made by ${market.day(market.localDate(closed), view.today)}.`,
      { deadline: closed });
  }
  return no(kind, 'ALREADY_IN_RETURN', 'These items are already in a return.');
}

function reportLate(view) {
  const kind = 'REPORT_LATE';
  const { market } = view;
  if (view.cancelled) return no(kind, 'ORDER_CANCELLED', `The order was ${market.word('cancelled')}.`);
  // Only a parcel that has shipped can be reported late (the after-sales service refuses it before).
  const waiting = view.packages.filter((p) => p.shipped && !p.delivered && !p.willNotArrive);
  if (!waiting.length) {
    if (view.packages.some((p) => NOT_SHIPPED.has(p.status) && !p.failedAuthentication)) {
      return no(kind, 'NOT_SHIPPED', "It hasn't shipped yet: a late delivery can be reported once it's on its way.");
    }
    if (view.packages.some((p) => p.failedAuthentication)) {
      return no(kind, 'AUTHENTICATION_FAILED', failedAuthenticationMessage(market));
    }
    return no(kind, 'ALREADY_DELIVERED', 'Nothing is still on its way.');
  }
  const promised = promisedDate(view.snapshot, market);
  if (promised === null || view.today <= promised) {
    const when = promised ? ` It's due by ${market.day(promised, view.today)}.` : '';
    return no(kind, 'NOT_LATE', `It isn't late.${when}`);
  }
  const inReturn = view.unitsInLiveReturns;
  const late = waiting.filter((p) => p.units.some((u) => !inReturn.has(u.id)));
  if (!late.length) {
    return no(kind, 'ALREADY_REPORTED', 'You already reported it late.',
      { returnIds: view.returns.filter((g) => g.reasons.has('LATE')).map((g) => g.id) });
  }
  const units = late.flatMap((p) => p.units.filter((u) => !inReturn.has(u.id)).map((u) => u.id));
  return ok(kind, `It was due by ${market.day(promised, view.today)}: ask for a refund for the late items.`, {
    packageIds: late.map((p) => p.id), items: group(view, units, null),
  });
}

export function orderActions(view) {
  const eligible = view.eligibility;
  const items = returnItems(view, eligible);
  return [
    cancelOrder(view), cancelItems(view), changeAddress(view), requestReturn(view, eligible, items),
    addItems(view, items), cancelReturn(view), viewReturn(view), reportNotReceived(view), reportLate(view),
    ok('CONTACT_SELLER', `Message ${view.snapshot.order.shopName}.`),
    ok('CONTACT_SUPPORT', 'Talk to customer support.'),
  ];
}

/** Nothing more can happen: every window has closed and no request is still open. */
export function afterSalesClosed(view) {
  if (view.returns.some((g) => !FINISHED_STATUSES.has(g.status))) return false;
  const { now } = view.snapshot;
  const last = lastDeliveryOf(view);
  if (view.packages.some((p) => p.delivered && p.deliveredAt && now <= view.market.notReceivedUntil(p.deliveredAt, last))) {
    return false;
  }
  return ![...view.eligibility.values()].some((e) => e.options.length);
}
