// The reference order page: pick a demo shopper, browse the order history, open an order.
// Routes live in the URL hash (#/orders, #/orders/ID) so the back button and reloads work without a
// server-side router.

import { ApiError, demoShoppers, devToken, graphql, session } from './api.js';
import { h, nodes } from './dom.js';
import { dayOf, plural } from './format.js';
import { orderPage } from './order.js';
import * as Q from './queries.js';

const PAGE_SIZE = 10;
const main = document.getElementById('main');
const status = document.getElementById('status');

// Each route change is a new visit; an answer arriving for an older visit is dropped, so a slow
// response never paints over the page the shopper has moved on to.
let visit = 0;
const stale = (mine) => mine !== visit;

// The history loaded so far survives a visit to an order, so going back keeps every page loaded.
let loaded = null;

// Query.cancelReasons, answered with each order; the cancel forms offer these, with the API's labels.
let cancelReasons = [];

function announce(text) {
  status.textContent = text;
}

function show(title, ...content) {
  document.title = `${title} · Order tracker`;
  main.removeAttribute('aria-busy');
  main.replaceChildren(...nodes(content));
  // Headings take focus after a route change, so screen readers start at the new content.
  main.querySelector('h1')?.setAttribute('tabindex', '-1');
}

const focusHeading = () => main.querySelector('h1')?.focus({ preventScroll: true });

function loading(text) {
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', { class: 'loading' }, text));
}

// Setting the hash to what it already is fires no hashchange: route by hand then.
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderHeader() {
  const shopper = session.shopper;
  const who = document.getElementById('who');
  who.hidden = !shopper;
  who.replaceChildren(...(shopper
    ? [h('span', {}, `Signed in as ${shopper.name} (${shopper.market})`),
      h('button', { type: 'button', class: 'button button--secondary button--small', onclick: switchShopper }, 'Switch shopper')]
    : []));
}

function switchShopper() {
  session.signOut();
  loaded = null;
  go('#/shoppers');
}

function failure(error, retry) {
  if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
    session.signOut();
    renderHeader();
    return shoppers('Your session has ended. Choose a shopper to continue.');
  }
  const notFound = error instanceof ApiError && error.code === 'NOT_FOUND';
  show('Something went wrong', h('section', { class: 'card', 'aria-labelledby': 'error-title' },
    h('h1', { id: 'error-title' }, notFound ? 'We couldn’t find that order' : 'Something went wrong'),
    h('p', {}, notFound ? 'It may belong to another account.' : error.message),
    h('div', { class: 'button-row' },
      !notFound && h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again'),
      h('a', { class: 'button button--secondary', href: '#/orders' }, 'Back to your orders'))));
}

// --- Shopper picker: the documented development token flow (GET /dev/shoppers, POST /dev/token).

async function shoppers(message) {
  const mine = visit;
  loading('Loading demo shoppers…');
  let list;
  try {
    list = await demoShoppers();
  } catch (error) {
    return stale(mine) || failure(error, () => shoppers(message));
  }
  if (stale(mine)) return;
  // Seller accounts see the seller's order list, which this buyer-facing page does not show.
  const buyers = list.filter((s) => s.role === 'buyer');
  show('Choose a demo shopper', h('section', { class: 'card', 'aria-labelledby': 'pick-title' },
    h('h1', { id: 'pick-title' }, 'Choose a demo shopper'),
    message && h('p', { class: 'notice', role: 'status' }, message),
    h('p', {}, 'Development mode: the gateway signs a development token for the shopper you choose. ',
      'It is kept in this browser tab only and sent with every GraphQL request.'),
    h('ul', { class: 'shoppers' }, buyers.map((s) => h('li', {},
      h('button', { type: 'button', class: 'shopper', onclick: () => signIn(s) },
        h('span', { class: 'shopper__name' }, s.name),
        h('span', { class: 'shopper__market' }, s.market === 'UK' ? 'United Kingdom shop' : 'United States shop')))))));
  focusHeading();
}

async function signIn(shopper) {
  loading(`Signing in as ${shopper.name}…`);
  try {
    const { token } = await devToken(shopper.id);
    session.signIn(token, { id: shopper.id, name: shopper.name, market: shopper.market });
  } catch (error) {
    return failure(error, () => signIn(shopper));
  }
  loaded = null;
  go('#/orders');
}

// --- Order history: the `orders` connection, a page at a time.

function orderRow(node) {
  const items = node.lineItems.map((i) => (i.quantity > 1 ? `${i.name} × ${i.quantity}` : i.name)).join(', ');
  return h('li', {}, h('a', { class: 'order-row', href: `#/orders/${encodeURIComponent(node.id)}` },
    h('span', { class: `badge badge--${node.displayStatus.toLowerCase()}` }, node.statusLabel),
    h('span', { class: 'order-row__items' }, items),
    h('span', { class: 'order-row__meta' },
      `Placed ${dayOf(node, node.placedAt)} · ${node.seller.name} · ${node.totals.total.formatted}`),
    h('span', { class: 'visually-hidden' }, ` (order ${node.id})`)));
}

async function loadPage() {
  const { data } = await graphql(Q.HISTORY, { first: PAGE_SIZE, after: loaded?.endCursor ?? null });
  const page = data.orders;
  loaded = {
    shopper: session.shopper?.id,
    nodes: [...(loaded?.nodes ?? []), ...page.edges.map((e) => e.node)],
    // An empty page has no endCursor: keep the old one rather than start again from the top.
    endCursor: page.pageInfo.endCursor ?? loaded?.endCursor ?? null,
    hasNextPage: page.pageInfo.hasNextPage,
  };
  return page.edges.length;
}

async function orders() {
  const mine = visit;
  if (loaded?.shopper !== session.shopper?.id) loaded = null;
  if (!loaded) {
    loading('Loading your orders…');
    try {
      await loadPage();
    } catch (error) {
      return stale(mine) || failure(error, orders);
    }
  }
  if (stale(mine)) return;
  const list = h('ol', { class: 'orders' }, loaded.nodes.map(orderRow));
  const count = h('p', { class: 'muted' }, `Showing ${plural(loaded.nodes.length, 'order')}.`);
  const more = h('button', { type: 'button', class: 'button button--secondary' }, 'Load more orders');
  more.hidden = !loaded.hasNextPage;
  more.addEventListener('click', async () => {
    if (!loaded.hasNextPage) return;
    more.disabled = true;
    more.setAttribute('aria-busy', 'true');
    try {
      const before = loaded.nodes.length;
      const added = await loadPage();
      list.append(...loaded.nodes.slice(before).map(orderRow));
      count.textContent = `Showing ${plural(loaded.nodes.length, 'order')}.`;
      announce(`${plural(added, 'more order')} loaded.`);
      // Keep keyboard users in place: focus the first new order.
      list.children[before]?.querySelector('a')?.focus();
    } catch (error) {
      announce(error.message);
    } finally {
      more.disabled = false;
      more.removeAttribute('aria-busy');
      more.hidden = !loaded.hasNextPage;
    }
  });
  show('Your orders', h('section', { 'aria-labelledby': 'orders-title' },
    h('h1', { id: 'orders-title' }, 'Your orders'),
    loaded.nodes.length ? list : h('p', {}, 'No orders yet.'),
    h('div', { class: 'button-row' }, more, count)));
  focusHeading();
}

// --- One order.

function showOrder(order, flash = null) {
  // The page's own copy changed (a return, a cancellation): the list must be fetched anew.
  if (flash) loaded = null;
  // A mutation that went through but could not read the order back: load it again.
  if (!order) return route();
  const ctx = { flash, cancelReasons, update: showOrder, openAction: () => {} };
  show(`Order ${order.id}: ${order.statusLabel}`, orderPage(order, ctx));
  const target = main.querySelector('[data-flash]');
  if (target) {
    target.scrollIntoView({ block: 'center' });
    target.focus({ preventScroll: true });
  } else {
    for (const scroller of main.querySelectorAll('.tracker__scroll')) {
      if (scroller.scrollWidth <= scroller.clientWidth) continue;
      // Too many steps for a narrow screen: say so, and bring the step in progress into view.
      const steps = scroller.querySelectorAll('li').length;
      scroller.before(h('p', { class: 'tracker__hint', 'aria-hidden': 'true' }, `Swipe to see all ${steps} steps ↔`));
      const now = scroller.querySelector('[aria-current="step"]');
      if (now) scroller.scrollLeft = now.offsetLeft - (scroller.clientWidth - now.offsetWidth) / 2;
    }
  }
}

async function order(id) {
  const mine = visit;
  loading('Loading your order…');
  let result;
  try {
    result = await graphql(Q.ORDER, { id });
  } catch (error) {
    return stale(mine) || failure(error, () => order(id));
  }
  if (stale(mine)) return;
  cancelReasons = result.data.cancelReasons ?? [];
  showOrder(result.data.order);
  focusHeading();
}

// --- Routing.

function route() {
  const hash = location.hash || '#/orders';
  visit += 1;
  window.scrollTo(0, 0);
  renderHeader();
  if (hash === '#/shoppers' || !session.token) return shoppers();
  const match = hash.match(/^#\/orders\/(.+)$/);
  if (match) return order(decodeURIComponent(match[1]));
  return orders();
}

// Only #/ hashes are routes; others (the skip link's #main) are in-page jumps.
window.addEventListener('hashchange', () => location.hash.startsWith('#/') && route());
if (location.hash && !location.hash.startsWith('#/')) window.history.replaceState(null, '', '#/orders');
route();
