// The after-sales entrances: every action the API lists, available ones as buttons that open a form,
// unavailable ones disabled with the API's explanation beside them.

import { graphql, idempotencyKey } from './api.js';
import { h, nodes, uid } from './dom.js';
import { countryName, market, when } from './format.js';
import * as Q from './queries.js';

// The page's own headings for the API's reason categories (each reason's label is the API's).
const REASON_GROUPS = {
  CHANGE_OF_MIND: 'Changed my mind',
  FAULTY: 'Faulty, damaged or not as described',
  DELIVERY: 'Delivery problem',
};

// Same request, same key (a retry after a lost answer is replayed, never doubled); a changed request
// is a new attempt with a new key, so a corrected form is never refused as a reused key.
function attempts() {
  let last = null;
  return (input) => {
    const body = JSON.stringify(input);
    if (last?.body !== body) last = { body, key: idempotencyKey() };
    return last.key;
  };
}

function field(label, control, hint) {
  const id = control.id || (control.id = uid('f'));
  const hintId = hint && uid('hint');
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control,
    hint !== undefined && h('p', { class: 'hint', id: hintId }, hint));
}

function select(name, options, attrs = {}) {
  return h('select', { name, ...attrs }, options);
}

function errorBox(messages) {
  return h('div', { class: 'form-errors', role: 'alert' },
    h('p', {}, h('strong', {}, 'Please check:')), h('ul', {}, messages.map((m) => h('li', {}, m))));
}

// Runs one mutation from a panel: busy state, refusals shown in place, success re-renders the page.
async function submit(panel, button, mutation, variables, onDone) {
  panel.querySelector('.form-errors')?.remove();
  for (const invalid of panel.querySelectorAll('[data-field][aria-invalid]')) invalid.removeAttribute('aria-invalid');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    const { data } = await graphql(mutation, variables);
    const payload = Object.values(data)[0];
    if (payload.userErrors.length) {
      for (const e of payload.userErrors) panel.querySelector(`[data-field="${e.field.join('.')}"]`)?.setAttribute('aria-invalid', 'true');
      (button.closest('.button-row') ?? button).after(errorBox(payload.userErrors.map((e) => e.message)));
      return;
    }
    onDone(payload);
  } catch (error) {
    (button.closest('.button-row') ?? button).after(errorBox([error.message]));
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

function buttons(...children) {
  return h('div', { class: 'button-row' }, children);
}

// Return and refund, or add items to an open return: items, how many, a reason for each, then a
// review step before anything is sent.
function returnPanel(action, order, ctx, close) {
  const adding = action.kind === 'ADD_ITEMS_TO_RETURN';
  const keyFor = attempts();
  const panel = h('div', { class: 'flow' });
  const rows = action.items.map((item) => {
    const check = h('input', { type: 'checkbox', name: 'item', value: item.lineItem.id });
    const qty = item.quantity > 1
      ? select('quantity', Array.from({ length: item.quantity }, (_, i) => h('option', { value: i + 1 }, String(i + 1))))
      : null;
    const groups = Object.entries(REASON_GROUPS).map(([category, label]) => {
      const reasons = item.reasons.filter((r) => r.category === category);
      return reasons.length > 0 && h('optgroup', { label }, reasons.map((r) => h('option', { value: r.code }, r.label)));
    });
    const reason = select('reason', [h('option', { value: '' }, 'Choose a reason'), groups]);
    const hint = h('span', {});
    // Picking a reason means the shopper wants to return the item; say until when that reason counts.
    reason.addEventListener('change', () => {
      const chosen = item.reasons.find((r) => r.code === reason.value);
      if (chosen) check.checked = true;
      hint.textContent = chosen?.deadline
        ? `Accepted until ${when(order, chosen.deadline)}${chosen.basis ? ` · ${chosen.basis}` : ''}.` : '';
    });
    const checkId = uid('item');
    check.id = checkId;
    // The item's own rule ("final sale: only if faulty") is read out with its checkbox.
    const noteId = item.note && uid('note');
    if (noteId) check.setAttribute('aria-describedby', noteId);
    const row = h('fieldset', { class: 'return-item' },
      h('legend', {}, item.lineItem.name, item.lineItem.variant && h('span', { class: 'muted' }, ` ${item.lineItem.variant}`)),
      item.note && h('p', { class: 'hint', id: noteId }, item.note),
      h('div', { class: 'check' }, check, h('label', { for: checkId }, adding ? 'Add this item' : 'Return this item')),
      qty && field('How many', qty, `You have ${item.quantity}.`),
      field('Reason', reason, hint));
    return { item, check, qty, reason, row };
  });
  const returns = order.returns?.filter((r) => action.returnIds.includes(r.id)) ?? [];
  const target = adding && returns.length > 1
    ? select('return', returns.map((r) => h('option', { value: r.id }, `Return of ${r.lines.map((l) => l.lineItem.name).join(', ')}`)))
    : null;

  const chosen = () => rows.filter((r) => r.check.checked).map((r) => ({
    name: r.item.lineItem.name, label: r.reason.selectedOptions[0]?.textContent,
    input: { lineItemId: r.item.lineItem.id, reason: r.reason.value, quantity: Number(r.qty?.value ?? 1) },
  }));

  function choose() {
    const form = h('form', { novalidate: true },
      h('p', {}, adding ? 'Choose the items to add, and why.' : 'Choose the items to send back, and a reason for each: every item can have its own.'),
      rows.map((r) => r.row),
      target && field('Add to which return', target),
      buttons(h('button', { type: 'submit', class: 'button' }, 'Continue'),
        h('button', { type: 'button', class: 'button button--secondary', onclick: close }, 'Not now')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      form.querySelector('.form-errors')?.remove();
      for (const r of rows) r.reason.removeAttribute('aria-invalid');
      const missing = rows.filter((r) => r.check.checked && !r.reason.value);
      for (const r of missing) r.reason.setAttribute('aria-invalid', 'true');
      const problems = [
        !rows.some((r) => r.check.checked) && 'Choose at least one item.',
        ...missing.map((r) => `Choose a reason for ${r.item.lineItem.name}.`),
      ].filter(Boolean);
      if (problems.length) {
        form.querySelector('.button-row').before(errorBox(problems));
        (missing[0]?.reason ?? rows[0].check).focus();
        return;
      }
      review();
    });
    panel.replaceChildren(form);
  }

  function review() {
    const items = chosen();
    const returnId = target?.value ?? action.returnIds[0];
    const input = adding ? { orderId: order.id, returnId, items: items.map((i) => i.input) }
      : { orderId: order.id, items: items.map((i) => i.input) };
    const heading = h('h4', { tabindex: '-1' }, adding ? 'Check the items to add' : 'Check your return');
    const confirm = h('button', { type: 'button', class: 'button' }, adding ? 'Add to return' : 'Confirm return');
    confirm.addEventListener('click', () => submit(panel, confirm, adding ? Q.ADD_ITEMS_TO_RETURN : Q.REQUEST_RETURN,
      { input: { ...input, idempotencyKey: keyFor(input) } },
      (payload) => ctx.update(payload.order, {
        returnId: payload.return?.id, nextSteps: payload.nextSteps,
        title: adding ? 'Items added to your return. Here’s what to do next.' : 'Return requested. Here’s what to do next.',
      })));
    panel.replaceChildren(...nodes(heading,
      h('ul', { class: 'items' }, items.map((i) => h('li', {}, h('span', { class: 'items__name' }, i.name),
        ` × ${i.input.quantity}`, h('span', { class: 'muted' }, `, reason: ${i.label}`)))),
      action.requiresApproval && h('p', {}, 'The seller reviews the request first.'),
      buttons(confirm, h('button', { type: 'button', class: 'button button--secondary', onclick: choose }, 'Change'))));
    heading.focus();
  }

  choose();
  return panel;
}

function cancelPanel(action, order, ctx, close) {
  const keyFor = attempts();
  const byItem = action.kind === 'CANCEL_ITEMS';
  // The buyer's reasons and their labels, as Query.cancelReasons answers them (see app.js).
  const reason = select('reason', [h('option', { value: '' }, 'Choose a reason'),
    ctx.cancelReasons.map((r) => h('option', { value: r.code }, r.label))]);
  const picks = byItem ? action.items.map((item) => {
    const check = h('input', { type: 'checkbox', id: uid('c'), value: item.lineItem.id });
    const qty = item.quantity > 1
      ? select('quantity', Array.from({ length: item.quantity }, (_, i) => h('option', { value: i + 1 }, String(i + 1))))
      : null;
    return { item, check, qty };
  }) : [];
  const confirm = h('button', { type: 'submit', class: 'button button--danger' }, byItem ? 'Cancel these items' : 'Cancel order');
  const form = h('form', { novalidate: true },
    byItem && h('fieldset', {}, h('legend', {}, 'Which items?'), picks.map((p) => h('div', { class: 'check' }, p.check,
      h('label', { for: p.check.id }, p.item.lineItem.name), p.qty && field('How many', p.qty)))),
    field('Why are you cancelling?', reason),
    h('p', {}, action.requiresApproval
      ? 'The seller has to agree, as the free cancellation period is over. We’ll let you know their answer.'
      : 'This can’t be undone.'),
    buttons(confirm, h('button', { type: 'button', class: 'button button--secondary', onclick: close }, byItem ? 'Keep them' : 'Keep order')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    form.querySelector('.form-errors')?.remove();
    const items = picks.filter((p) => p.check.checked).map((p) => ({ lineItemId: p.item.lineItem.id, quantity: Number(p.qty?.value ?? 1) }));
    const problems = [!reason.value && 'Choose a reason.', byItem && !items.length && 'Choose at least one item.'].filter(Boolean);
    if (reason.value) reason.removeAttribute('aria-invalid');
    else reason.setAttribute('aria-invalid', 'true');
    if (problems.length) {
      confirm.parentElement.before(errorBox(problems));
      return;
    }
    const input = byItem ? { orderId: order.id, items, reason: reason.value } : { orderId: order.id, reason: reason.value };
    submit(form, confirm, byItem ? Q.CANCEL_ITEMS : Q.CANCEL_ORDER, { input: { ...input, idempotencyKey: keyFor(input) } },
      (payload) => ctx.update(payload.order, {
        title: payload.cancellation?.status === 'REQUESTED' ? 'Cancellation requested: the seller will answer soon.'
          : byItem ? 'Those items are cancelled.' : 'Your order is cancelled.',
      }));
  });
  return form;
}

// Report not received / report late: a refund request for one package, or every eligible one.
function reportPanel(action, order, ctx, close) {
  const keyFor = attempts();
  const late = action.kind === 'REPORT_LATE';
  const words = market(order.market);
  const packages = order.packages.filter((p) => action.packageIds.includes(p.id));
  const choice = packages.length > 1
    ? select('package', [h('option', { value: '' }, `All of these ${words.parcel}s`), packages.map((p) =>
      h('option', { value: p.id }, `${words.Parcel} ${p.number}: ${p.items.map((i) => i.lineItem.name).join(', ')}`))])
    : null;
  const note = h('textarea', { name: 'note', maxlength: '500', rows: '3' });
  const confirm = h('button', { type: 'submit', class: 'button' }, late ? 'Report late delivery' : 'Report not received');
  const form = h('form', { novalidate: true },
    h('p', {}, late
      ? `We’ll ask the seller to refund you for the ${words.parcel} that is past its promised date.`
      : `We’ll look into the ${words.parcel} the carrier marked delivered. Check with neighbours and around your door first.`),
    choice && field(`Which ${words.parcel}?`, choice),
    field('What happened? (optional)', note, 'Up to 500 characters.'),
    buttons(confirm, h('button', { type: 'button', class: 'button button--secondary', onclick: close }, 'Not now')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = { orderId: order.id, packageId: choice?.value || (packages.length === 1 ? packages[0].id : null), note: note.value.trim() || null };
    submit(form, confirm, late ? Q.REPORT_LATE : Q.REPORT_NOT_RECEIVED, { input: { ...input, idempotencyKey: keyFor(input) } },
      (payload) => ctx.update(payload.order, {
        returnId: payload.return?.id, nextSteps: payload.nextSteps,
        title: late ? 'Late delivery reported. Here’s what happens next.' : 'Reported as not received. Here’s what happens next.',
      }));
  });
  return form;
}

function cancelReturnPanel(action, order, ctx, close) {
  const keyFor = attempts();
  const returns = order.returns?.filter((r) => action.returnIds.includes(r.id)) ?? [];
  const choice = returns.length > 1
    ? select('return', returns.map((r) => h('option', { value: r.id }, `Return of ${r.lines.map((l) => l.lineItem.name).join(', ')}`)))
    : null;
  const confirm = h('button', { type: 'submit', class: 'button button--danger' }, 'Cancel return');
  const form = h('form', { novalidate: true },
    choice && field('Which return?', choice),
    h('p', {}, 'You keep the items, and no refund is made.'),
    buttons(confirm, h('button', { type: 'button', class: 'button button--secondary', onclick: close }, 'Keep return')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = { orderId: order.id, returnId: choice?.value ?? action.returnIds[0] };
    submit(form, confirm, Q.CANCEL_RETURN, { input: { ...input, idempotencyKey: keyFor(input) } },
      (payload) => ctx.update(payload.order, { title: 'Your return is cancelled.' }));
  });
  return form;
}

function addressPanel(action, order, ctx, close) {
  const keyFor = attempts();
  const words = market(order.market);
  const current = order.shippingAddress ?? {};
  const input = (name, value, attrs = {}) => h('input', { name, value: value ?? '', 'data-field': `address.${name}`, ...attrs });
  const controls = {
    name: input('name', current.name, { autocomplete: 'name', required: true }),
    line1: input('line1', current.line1, { autocomplete: 'address-line1', required: true }),
    line2: input('line2', current.line2, { autocomplete: 'address-line2' }),
    city: input('city', current.city, { autocomplete: 'address-level2', required: true }),
    region: input('region', current.region, { autocomplete: 'address-level1' }),
    postalCode: input('postalCode', current.postalCode, { autocomplete: 'postal-code', required: true }),
  };
  const confirm = h('button', { type: 'submit', class: 'button' }, 'Save address');
  const form = h('form', { novalidate: true },
    field('Full name', controls.name), field('Address line 1', controls.line1), field('Address line 2 (optional)', controls.line2),
    field('Town or city', controls.city), field(words.region, controls.region), field(words.postalCode, controls.postalCode),
    h('p', {}, `Country: ${countryName(order, current.country)}. Orders can only be delivered in the country they were placed in.`),
    buttons(confirm, h('button', { type: 'button', class: 'button button--secondary', onclick: close }, 'Not now')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const address = Object.fromEntries(Object.entries(controls).map(([k, c]) => [k, c.value.trim()]));
    // The country stays the order's own: the API answers it with the current address.
    address.country = current.country ?? '';
    const body = { orderId: order.id, address };
    submit(form, confirm, Q.CHANGE_ADDRESS, { input: { ...body, idempotencyKey: keyFor(body) } },
      (payload) => ctx.update(payload.order, { title: 'Delivery address updated.' }));
  });
  return form;
}

function contactPanel(action) {
  return h('p', {}, action.message, ' Messaging is not part of this reference page: in the app this opens the conversation.');
}

const PANELS = {
  REQUEST_RETURN: returnPanel,
  ADD_ITEMS_TO_RETURN: returnPanel,
  CANCEL_ORDER: cancelPanel,
  CANCEL_ITEMS: cancelPanel,
  CHANGE_ADDRESS: addressPanel,
  CANCEL_RETURN: cancelReturnPanel,
  REPORT_NOT_RECEIVED: reportPanel,
  REPORT_LATE: reportPanel,
  CONTACT_SELLER: contactPanel,
  CONTACT_SUPPORT: contactPanel,
};

function actionItem(action, order, ctx, openers) {
  const message = uid('msg');
  const panelId = uid('panel');
  // An open form is a region named by its heading, so it can be found (and left) as one block.
  const box = h('div', { id: panelId, class: 'panel', role: 'region', 'aria-labelledby': `${panelId}-title`, hidden: true });
  const hasPanel = action.available && action.kind in PANELS;
  const button = h('button', {
    type: 'button', class: action.available ? 'button' : 'button button--unavailable', disabled: !action.available,
    'aria-describedby': message, 'aria-expanded': hasPanel ? 'false' : null, 'aria-controls': hasPanel ? panelId : null,
  }, action.label);

  const close = () => {
    box.hidden = true;
    box.replaceChildren();
    button.setAttribute('aria-expanded', 'false');
    button.focus();
  };
  const open = () => {
    if (action.kind === 'VIEW_RETURN') {
      const returns = document.getElementById('returns');
      returns?.scrollIntoView({ block: 'start' });
      returns?.focus({ preventScroll: true });
      return;
    }
    if (!hasPanel) return;
    if (box.hidden) {
      box.replaceChildren(h('h3', { class: 'small-heading', id: `${panelId}-title` }, action.label),
        PANELS[action.kind](action, order, ctx, close));
      box.hidden = false;
      button.setAttribute('aria-expanded', 'true');
    }
    box.scrollIntoView({ block: 'nearest' });
    box.querySelector('input, select, textarea, button')?.focus({ preventScroll: true });
  };
  openers.set(action.kind, open);
  button.addEventListener('click', () => (box.hidden ? open() : close()));

  return h('li', { class: `action${action.available ? '' : ' action--unavailable'}`, 'data-kind': action.kind },
    button,
    h('p', { class: 'action__msg', id: message },
      !action.available && h('strong', {}, 'Not available: '), action.message,
      action.available && action.deadline && ` Until ${when(order, action.deadline)}.`,
      action.available && action.requiresApproval && ' The seller reviews the request first.'),
    box);
}

export function actionsSection(order, ctx) {
  if (!order.afterSalesAvailable || !order.afterSalesActions) {
    return h('section', { class: 'card', 'aria-labelledby': 'actions-title', id: 'actions' },
      h('h2', { id: 'actions-title' }, 'What you can do'),
      h('p', { class: 'notice', role: 'note' }, h('strong', {}, 'Returns and requests are temporarily unavailable. '),
        'We can’t reach our after-sales service right now. Please try again in a few minutes.'));
  }
  const openers = new Map();
  ctx.openAction = (kind) => openers.get(kind)?.();
  const available = order.afterSalesActions.filter((a) => a.available);
  const unavailable = order.afterSalesActions.filter((a) => !a.available);
  return h('section', { class: 'card', 'aria-labelledby': 'actions-title', id: 'actions' },
    h('h2', { id: 'actions-title' }, 'What you can do'),
    h('ul', { class: 'actions' }, available.map((a) => actionItem(a, order, ctx, openers))),
    unavailable.length > 0 && [
      h('h3', { class: 'small-heading' }, 'Not available right now'),
      h('ul', { class: 'actions actions--unavailable' }, unavailable.map((a) => actionItem(a, order, ctx, openers))),
    ]);
}
