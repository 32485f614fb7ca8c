// The order page: headline, alerts, one horizontal tracker per package, items, returns.
// The after-sales entrances and their forms live in actions.js.

import { h, uid } from './dom.js';
import { day, dayOf, dayRange, market, plural, shortDay, when } from './format.js';
import { actionsSection } from './actions.js';

// A step's state is told by text and by the marker's shape and symbol, never by colour alone.
const STEP_STATE = {
  DONE: ['✓', 'Done'],
  CURRENT: ['●', 'In progress'],
  UPCOMING: ['', 'To come'],
  BLOCKED: ['!', 'Needs attention'],
  SKIPPED: ['–', 'Skipped'],
};

const SEVERITY = {
  ACTION_REQUIRED: ['!', 'Action needed'],
  WARNING: ['⚠', 'Heads up'],
  INFO: ['i', 'For your information'],
};

const SIGNATURE = {
  SIGNATURE: 'Someone must sign for it on delivery.',
  ADULT_SIGNATURE: 'An adult must sign for it on delivery.',
};

const AUTHENTICATION = {
  PENDING: 'Waiting to be sent for authentication',
  SUBMITTED: 'Being checked',
  APPROVED: 'Authenticated',
  REJECTED: 'Did not pass authentication',
};

// The horizontal tracker, for a package or a return: an ordered list of steps. On a phone the row
// stays horizontal and compact; the step in progress is spelled out underneath (see styles.css).
export function tracker(steps, zone, label) {
  const now = steps.find((s) => s.state === 'BLOCKED' || s.state === 'CURRENT');
  return h('div', { class: 'tracker' },
    h('div', { class: 'tracker__scroll', role: 'group', 'aria-label': label, tabindex: '0' },
      h('ol', { class: 'tracker__steps', style: `--steps: ${steps.length}` }, steps.map((s) => {
        const [symbol, stateText] = STEP_STATE[s.state] ?? ['', s.state];
        return h('li', {
          class: `step step--${s.state.toLowerCase()}`,
          'aria-current': s === now ? 'step' : null,
          'data-kind': s.kind,
        },
        h('span', { class: 'step__marker', 'aria-hidden': 'true' }, symbol),
        h('span', { class: 'step__label' }, s.label),
        h('span', { class: 'step__state' }, stateText),
        s.time && h('time', { class: 'step__time', datetime: s.time }, shortDay(zone, s.time)),
        h('span', { class: 'step__desc' }, s.description));
      }))),
    // Already read out with its step; this copy is only for eyes on a narrow screen.
    now && h('p', { class: 'tracker__now', 'aria-hidden': 'true' }, h('strong', {}, `${now.label}: `), now.description));
}

function fact(term, ...detail) {
  return [h('dt', {}, term), h('dd', {}, ...detail)];
}

function packageFacts(p, order) {
  const facts = [];
  if (p.eta) {
    const dates = dayRange(order, p.eta.earliest, p.eta.latest);
    facts.push(fact(p.eta.revised ? 'New estimated delivery' : 'Estimated delivery', dates,
      p.eta.revised && p.eta.originalDate ? h('span', { class: 'muted' }, ` (was ${day(order, p.eta.originalDate)})`) : null));
  }
  if (p.deliveredAt) facts.push(fact('Delivered', when(order, p.deliveredAt)));
  if (p.pickupLocation) facts.push(fact('Collect from', p.pickupLocation));
  if (p.carrier || p.trackingNumber) {
    facts.push(fact('Carrier', p.carrier?.name ?? 'Carrier to be confirmed',
      p.trackingNumber && [', tracking number ', p.trackingUrl
        ? h('a', { href: p.trackingUrl, target: '_blank', rel: 'noopener noreferrer' }, p.trackingNumber,
          h('span', { class: 'visually-hidden' }, ' (opens the carrier’s site)'))
        : h('span', { class: 'mono' }, p.trackingNumber)]));
  }
  if (p.signatureRequired !== 'NONE') facts.push(fact('Signature', SIGNATURE[p.signatureRequired]));
  if (p.signedBy) facts.push(fact('Signed for by', p.signedBy));
  const auth = p.authentication;
  if (auth) {
    const detail = auth.status === 'APPROVED'
      ? `on ${when(order, auth.approvedAt)}`
      : auth.deadline && auth.status !== 'REJECTED' ? `; result expected by ${when(order, auth.deadline)}` : '';
    facts.push(fact('Authentication', `${AUTHENTICATION[auth.status] ?? auth.status} by ${auth.provider}`,
      detail && (auth.status === 'APPROVED' ? ` ${detail}` : detail), '. An independent authenticator checks the item before it ships.'));
  }
  return facts.length ? h('dl', { class: 'facts' }, facts) : null;
}

function itemList(items) {
  return h('ul', { class: 'items' }, items.map((i) => h('li', {},
    h('span', { class: 'items__name' }, i.lineItem.name),
    i.lineItem.variant && h('span', { class: 'muted' }, ` ${i.lineItem.variant}`),
    h('span', { class: 'items__qty' }, ` × ${i.quantity}`))));
}

function packageCard(p, order) {
  const words = market(order.market);
  const heading = uid('pkg');
  const count = order.packages.length;
  return h('section', { class: 'card package', 'aria-labelledby': heading, id: `package-${p.number}` },
    h('header', { class: 'package__head' },
      h('h2', { id: heading, tabindex: '-1' }, count > 1 ? `${words.Parcel} ${p.number} of ${count}` : `Your ${words.parcel}`),
      h('p', { class: 'badge' }, p.statusLabel)),
    p.split && count > 1 && h('p', { class: 'split' }, h('strong', {}, 'Why it travels separately: '), p.split.explanation),
    !p.trackingAvailable && h('p', { class: 'notice notice--inline' },
      'Live tracking for this ', words.parcel, ' is temporarily unavailable; the steps below are from the seller’s records.'),
    packageFacts(p, order),
    tracker(p.tracker, order, `${count > 1 ? `${words.Parcel} ${p.number}` : 'Delivery'} progress`),
    h('h3', { class: 'small-heading' }, `In this ${words.parcel}`),
    itemList(p.items));
}

function alertCard(a, order, onSuggestion) {
  const [symbol, severity] = SEVERITY[a.severity] ?? ['!', a.severity];
  const heading = uid('alert');
  const pkg = order.packages.find((p) => p.id === a.packageId);
  const prefix = pkg && order.packages.length > 1 ? `${market(order.market).Parcel} ${pkg.number}: ` : '';
  return h('article', { class: `alert alert--${a.severity.toLowerCase()}`, 'aria-labelledby': heading, 'data-kind': a.kind },
    h('p', { class: 'alert__severity' }, h('span', { class: 'alert__icon', 'aria-hidden': 'true' }, symbol), severity),
    h('h3', { id: heading }, prefix, a.title),
    h('p', {}, a.cause),
    h('p', {}, h('strong', {}, 'What happens next: '), a.nextStep),
    a.revisedDate && h('p', {}, h('strong', {}, 'New estimate: '), day(order, a.revisedDate)),
    onSuggestion(a, pkg));
}

function returnCard(r, order, flash) {
  const heading = uid('ret');
  const fresh = flash?.returnId === r.id;
  const steps = fresh && flash.nextSteps?.length ? flash.nextSteps : r.instructions;
  return h('article', { class: `card return${fresh ? ' return--fresh' : ''}`, 'aria-labelledby': heading, id: `return-${r.id}` },
    fresh && h('p', { class: 'flash', role: 'status', tabindex: '-1', 'data-flash': '' },
      h('span', { 'aria-hidden': 'true' }, '✓ '), flash.title),
    h('header', { class: 'package__head' },
      h('h3', { id: heading }, `Return requested ${dayOf(order, r.requestedAt)}`),
      h('p', { class: 'badge' }, r.statusLabel)),
    h('ul', { class: 'items' }, r.lines.map((l) => h('li', {},
      h('span', { class: 'items__name' }, l.lineItem.name), h('span', { class: 'items__qty' }, ` × ${l.quantity}`),
      h('span', { class: 'muted' }, `, reason: ${l.reasonLabel}`)))),
    h('p', {}, h('strong', {}, 'Refund: '), r.refund.amount.formatted),
    r.shipping?.trackingNumber && h('p', {}, h('strong', {}, 'Sending it back: '),
      [r.shipping.carrier, `tracking ${r.shipping.trackingNumber}`, r.shipping.shipBy && `send by ${dayOf(order, r.shipping.shipBy)}`]
        .filter(Boolean).join(', ')),
    h('h4', { class: 'small-heading' }, 'Return progress'),
    tracker(r.steps, order, 'Return progress'),
    steps.length > 0 && [h('h4', { class: 'small-heading' }, 'What to do next'),
      h('ol', { class: 'instructions' }, steps.map((s) => h('li', {}, h('strong', {}, s.title), h('span', {}, s.detail))))]);
}

function summary(order) {
  const heading = uid('items');
  const address = order.shippingAddress;
  return h('section', { class: 'card', 'aria-labelledby': heading },
    h('h2', { id: heading }, 'Order summary'),
    h('ul', { class: 'items items--priced' }, order.lineItems.map((li) => h('li', {},
      h('span', { class: 'items__name' }, li.name), li.variant && h('span', { class: 'muted' }, ` ${li.variant}`),
      h('span', { class: 'items__qty' }, ` × ${li.quantity}`),
      li.customization && h('span', { class: 'muted' }, ` (${li.customization})`),
      li.cancelledQuantity > 0 && h('span', { class: 'muted' }, ` (${li.cancelledQuantity} cancelled)`),
      h('span', { class: 'items__price' }, li.total.formatted)))),
    order.unshippedItems.length > 0 && [h('h3', { class: 'small-heading' }, 'Not shipped yet'), itemList(order.unshippedItems)],
    order.cancelledItems.length > 0 && [h('h3', { class: 'small-heading' }, 'Cancelled'), itemList(order.cancelledItems)],
    h('dl', { class: 'totals' },
      fact('Subtotal', order.totals.subtotal.formatted), fact('Shipping', order.totals.shipping.formatted),
      fact('Tax', order.totals.tax.formatted), fact('Total', h('strong', {}, order.totals.total.formatted))),
    address && h('p', {}, h('strong', {}, order.deliveryMethod === 'PICKUP_POINT' ? 'Collecting: ' : 'Delivering to: '),
      [address.name, address.line1, address.line2, address.city, address.region, address.postalCode].filter(Boolean).join(', ')),
    order.promisedDeliveryDate && h('p', { class: 'muted' }, `Promised by ${day(order, order.promisedDeliveryDate)} at checkout.`));
}

// ctx: { flash, cancelReasons (Query.cancelReasons), update(order, flash), openAction(kind) }
export function orderPage(order, ctx) {
  const words = market(order.market);
  const count = order.packages.length;
  const onSuggestion = (alert, pkg) => suggestion(alert, pkg, order, ctx);
  return [
    h('nav', { 'aria-label': 'Breadcrumb', class: 'breadcrumb' }, h('ol', {},
      h('li', {}, h('a', { href: '#/orders' }, 'Your orders')),
      h('li', { 'aria-current': 'page' }, `Order ${order.id}`))),
    h('section', { class: 'order-head', 'aria-labelledby': 'order-title' },
      h('p', { class: 'eyebrow' }, `Order ${order.id} · placed ${dayOf(order, order.placedAt)} · sold by ${order.seller.name}`),
      h('h1', { id: 'order-title' }, order.statusLabel),
      order.tracker.headline !== order.statusLabel && h('p', { class: 'headline' }, order.tracker.headline),
      count > 1 && [
        h('p', {}, `This order comes in ${plural(count, words.parcel)}. Each has its own tracker below, with the reason it travels separately.`),
        h('ol', { class: 'parcels' }, order.packages.map((p) => h('li', {},
          h('a', { href: `#/orders/${encodeURIComponent(order.id)}`, 'data-target': `package-${p.number}`, onclick: jumpTo },
            `${words.Parcel} ${p.number}`), `: ${p.statusLabel}`, p.eta ? `, estimated ${dayRange(order, p.eta.earliest, p.eta.latest)}` : '')))],
      quickActions(order, ctx)),
    ctx.flash && !ctx.flash.returnId && h('p', { class: 'flash', role: 'status', tabindex: '-1', 'data-flash': '' },
      h('span', { 'aria-hidden': 'true' }, '✓ '), ctx.flash.title),
    !order.trackingAvailable && h('p', { class: 'notice', role: 'note' },
      h('strong', {}, 'Tracking temporarily unavailable. '),
      'We can’t reach the carrier right now, so delivery steps may be out of date. Everything else on this page is current.'),
    order.alerts.length > 0 && h('section', { class: 'alerts', 'aria-labelledby': 'alerts-title' },
      h('h2', { id: 'alerts-title', class: 'visually-hidden' }, 'Alerts'),
      order.alerts.map((a) => alertCard(a, order, onSuggestion))),
    order.packages.map((p) => packageCard(p, order)),
    count === 0 && order.displayStatus !== 'CANCELLED' && h('p', { class: 'card' }, `Nothing has shipped yet: your ${words.parcel} details appear here once the seller ships.`),
    order.returns?.length > 0 && h('section', { class: 'returns', 'aria-labelledby': 'returns-title', id: 'returns', tabindex: '-1' },
      h('h2', { id: 'returns-title' }, 'Returns and refunds'),
      order.returns.map((r) => returnCard(r, order, ctx.flash))),
    actionsSection(order, ctx),
    summary(order),
  ];
}

// In-page links must not change the hash: the hash is the route.
function jumpTo(event) {
  event.preventDefault();
  const target = document.getElementById(event.currentTarget.dataset.target);
  target?.scrollIntoView({ block: 'start' });
  target?.querySelector('h2')?.focus({ preventScroll: true });
}

// The entrances the shopper can use now, up front; each opens its form in "What you can do".
function quickActions(order, ctx) {
  const usable = (order.afterSalesActions ?? []).filter((a) => a.available && !a.kind.startsWith('CONTACT_'));
  return usable.length > 0 && h('div', { class: 'button-row', role: 'group', 'aria-label': 'Quick actions' },
    usable.map((a) => h('button', { type: 'button', class: 'button button--secondary', onclick: () => ctx.openAction(a.kind) }, a.label)));
}

function suggestion(alert, pkg, order, ctx) {
  const kind = alert.suggestedAction;
  if (kind === 'WAIT') return h('p', {}, h('strong', {}, 'What you can do: '), 'nothing for now. Check back here for updates.');
  if (kind === 'TRACK_WITH_CARRIER') {
    const link = pkg?.trackingUrl;
    return link && h('p', {}, h('a', { href: link, target: '_blank', rel: 'noopener noreferrer', class: 'button button--secondary' },
      `Track with ${pkg.carrier?.name ?? 'the carrier'}`, h('span', { class: 'visually-hidden' }, ' (opens the carrier’s site)')));
  }
  const action = order.afterSalesActions?.find((a) => a.kind === kind);
  if (!action) return null;
  if (!action.available) return h('p', {}, h('strong', {}, `${action.label}: `), action.message);
  return h('p', {}, h('button', { type: 'button', class: 'button', onclick: () => ctx.openAction(kind) }, action.label));
}
