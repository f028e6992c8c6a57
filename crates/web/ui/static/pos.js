// The till: scan or find items, price the cart through the server's quote, find or register
// the member and apply their coupons and points, take cash or card, hold and resume sales,
// refund lines of today's sales, and keep tables' open bills (桌台: open one from the cart, add
// the cart to one, print its pre-settlement bill, settle or void it). Every price comes from the API; every write carries an
// Idempotency-Key that is kept (in localStorage, with the sale) until the write has succeeded,
// so a retry after a network failure or a reload never creates or charges twice.
import { api, ApiError, bindForm, clearErrors, esc, money, newKey, showError, toFen, toast } from './app.js';

const root = document.getElementById('till');
const storeId = root.dataset.storeId;
const data = JSON.parse(document.getElementById('pos-data').textContent);
const T = data.text;
const $ = (id) => document.getElementById(id);
const fill = (text, vars) => text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
const CURRENT_KEY = `quanyu.pos.${storeId}.current`;
const HELD_KEY = `quanyu.pos.${storeId}.held`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An error to show next to one input, as the API would report it. */
const fieldError = (field, message) => new ApiError(422, { error: { code: 'invalid', message, field } });

function stored(key) {
  try { return JSON.parse(localStorage.getItem(key)); } catch { return null; }
}

// --- The sale ---------------------------------------------------------------------------------

/** A fresh sale: no lines, no member, and no order yet. */
function emptySale() {
  return { lines: [], member: null, couponIds: [], points: 0, orderKey: null, orderId: null, orderDue: null, payKey: null };
}

let sale = stored(CURRENT_KEY) || emptySale();
let quote = null;
let quoteSeq = 0;

function save() {
  localStorage.setItem(CURRENT_KEY, JSON.stringify(sale));
}

/** The cart or the member's choices changed: an order made for the old cart is dropped. */
function changed() {
  if (sale.orderId) {
    const stale = sale.orderId;
    // An unpaid order for the old cart holds stock: give it back now rather than at expiry.
    api('POST', `/orders/${stale}/cancel`, {}).catch(() => {});
  }
  sale.orderKey = null; sale.orderId = null; sale.orderDue = null; sale.payKey = null;
  save();
  return requote();
}

function fmtQty(line) {
  if (!line.soldByWeight) return String(line.quantity);
  const g = line.quantity;
  return `${Math.floor(g / 1000)}.${String(g % 1000).padStart(3, '0')} kg`;
}

/** Asks the server what the cart costs, with the member, coupons and points chosen. */
async function requote() {
  const seq = ++quoteSeq;
  const benefits = $('benefits-form');
  clearErrors(benefits);
  if (!sale.lines.length) {
    quote = null;
    render();
    return;
  }
  $('quote-status').textContent = T.quoting;
  const body = {
    store_id: storeId,
    channel: 'pos',
    lines: sale.lines.map((l) => ({ sku_id: l.skuId, quantity: l.quantity })),
    coupon_ids: sale.member ? sale.couponIds : [],
  };
  if (sale.member) body.customer_id = sale.member.id;
  if (sale.member && sale.points > 0) body.points = sale.points;
  try {
    const priced = await api('POST', '/price-quotes', body);
    if (seq !== quoteSeq) return;
    quote = priced;
    $('quote-status').textContent = '';
  } catch (err) {
    if (seq !== quoteSeq) return;
    quote = null;
    $('quote-status').textContent = '';
    if (err.field === 'points' || err.code === 'insufficient_points') {
      showError(benefits, { ...err, field: 'points', message: err.message });
    } else {
      $('quote-status').textContent = err.message;
    }
  }
  render();
}

// --- Rendering ----------------------------------------------------------------------------------

function render() {
  const body = $('cart-lines');
  body.innerHTML = sale.lines.map((line, i) => {
    const priced = quote && quote.lines[i];
    const discount = priced ? priced.adjustments.reduce((sum, a) => sum + a.amount, 0) : 0;
    const unit = priced ? priced.unit_price : line.price;
    const per = line.soldByWeight ? '/kg' : '';
    const qtyControls = line.soldByWeight
      ? `<button type="button" class="qty-value" data-line="${i}" data-act="weigh" aria-label="${esc(T.edit)} ${esc(line.name)}">${esc(fmtQty(line))}</button>`
      : `<button type="button" class="step" data-line="${i}" data-act="less" aria-label="${esc(T.less)} ${esc(line.name)}">−</button>`
        + `<button type="button" class="qty-value" data-line="${i}" data-act="edit" aria-label="${esc(T.edit)} ${esc(line.name)}">${esc(fmtQty(line))}</button>`
        + `<button type="button" class="step" data-line="${i}" data-act="more" aria-label="${esc(T.more)} ${esc(line.name)}">+</button>`;
    const rules = priced ? priced.adjustments.map((a) => esc(a.rule)).join(' · ') : '';
    return `<tr data-sku="${esc(line.skuId)}">
      <td><span class="item-name">${esc(line.name)}</span>${rules ? `<br><span class="small muted">${rules}</span>` : ''}</td>
      <td class="num"><div class="qty">${qtyControls}</div></td>
      <td class="num">${money(unit)}${per}</td>
      <td class="num discount">${discount ? money(discount) : ''}</td>
      <td class="num amount">${priced ? money(priced.amount) : '…'}</td>
      <td><button type="button" class="remove" data-line="${i}" data-act="remove" aria-label="${esc(T.remove)} ${esc(line.name)}">×</button></td>
    </tr>`;
  }).join('');
  $('cart-empty').hidden = sale.lines.length > 0;
  const last = body.lastElementChild;
  if (last) last.scrollIntoView({ block: 'nearest' });
  renderTotals();
  renderMember();
  $('held-count').textContent = String(heldSales().length);
  root.querySelector('[data-action="pay"]').disabled = !(sale.lines.length && quote);
}

function renderTotals() {
  $('sum-subtotal').textContent = money(quote ? quote.subtotal : 0);
  const applied = quote ? quote.applied.filter((a) => a.step !== 'points') : [];
  $('sum-applied').innerHTML = applied.map((a) =>
    `<div class="applied"><dt>${esc(a.name || a.rule)}${a.name && a.rule && a.name !== a.rule ? ` <span class="muted small">${esc(a.rule)}</span>` : ''}</dt><dd class="num">${money(a.amount)}</dd></div>`).join('');
  const points = quote && quote.points_used > 0;
  $('sum-points-row').hidden = !points;
  if (points) {
    $('sum-points-used').textContent = `(${quote.points_used})`;
    $('sum-points').textContent = money(-quote.points_value);
  }
  $('sum-total').textContent = money(quote ? quote.total_payable : 0);
}

function renderMember() {
  const member = sale.member;
  $('member-none').hidden = Boolean(member);
  $('member-info').hidden = !member;
  if (!member) return;
  $('member-name').textContent = member.name || member.phone || '';
  const tier = member.tier;
  $('member-tier').hidden = !tier;
  $('member-tier').textContent = tier || '';
  $('member-phone').textContent = member.phone || '';
  $('member-points').textContent = String(member.points);
  const rejected = new Map((quote ? quote.rejected_coupons : []).map((r) => [r.coupon_id, r]));
  $('coupon-list').innerHTML = member.coupons.map((c) => {
    const why = rejected.get(c.id);
    const reason = why ? fill(T[`reason_${why.reason}`] || T.couponRejected, { amount: money(why.shortfall || 0) }) : '';
    const checked = sale.couponIds.includes(c.id) ? ' checked' : '';
    return `<label class="coupon${why ? ' rejected' : ''}"><input type="checkbox" name="coupon" value="${esc(c.id)}"${checked}>
      <span><strong>${esc(c.name)}</strong> <span class="small">${esc(c.rule)}</span>${reason ? `<br><span class="small reject">${esc(reason)}</span>` : ''}</span></label>`;
  }).join('');
  $('coupon-none').hidden = member.coupons.length > 0;
  const points = $('points');
  if (document.activeElement !== points) points.value = sale.points ? String(sale.points) : '';
}

// --- Dialogs --------------------------------------------------------------------------------------

function focusBarcode() {
  if (!document.querySelector('dialog[open]')) $('barcode').focus();
}

function openDialog(dialog, focus) {
  dialog.querySelectorAll('form').forEach(clearErrors);
  dialog.showModal();
  (focus || dialog.querySelector('input:not([type=radio]):not([hidden]), button')).focus();
}

for (const dialog of document.querySelectorAll('dialog')) {
  dialog.addEventListener('close', () => setTimeout(focusBarcode));
  dialog.querySelectorAll('[data-close]').forEach((b) => b.addEventListener('click', () => dialog.close()));
}

/**
 * Asks for a whole number in `dialog` (the weight or the quantity of a line): resolves with it,
 * or with null when the cashier cancels.
 */
function askNumber(dialog, form, input, { title, value, min, max, invalid }) {
  return new Promise((resolve) => {
    dialog.querySelector('p.muted').textContent = title;
    input.value = value ? String(value) : '';
    let answered = false;
    const submit = (event) => {
      event.preventDefault();
      clearErrors(form);
      const text = input.value.trim();
      const n = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
      if (!(n >= min && n <= max)) {
        showError(form, { field: input.name, message: invalid });
        return;
      }
      answered = true;
      resolve(n);
      dialog.close();
    };
    form.addEventListener('submit', submit);
    dialog.addEventListener('close', () => {
      form.removeEventListener('submit', submit);
      if (!answered) resolve(null);
    }, { once: true });
    openDialog(dialog, input);
    input.select();
  });
}

const askGrams = (item, grams) => askNumber($('weight-dialog'), $('weight-form'), $('grams'),
  { title: `${item.name} · ${money(item.price)}/kg`, value: grams, min: 1, max: 100000, invalid: T.gramsInvalid });

const askQty = (line) => askNumber($('qty-dialog'), $('qty-form'), $('qty'),
  { title: line.name, value: line.quantity, min: 1, max: 9999, invalid: T.qtyInvalid });

// --- Adding items ---------------------------------------------------------------------------------

async function addItem(item) {
  if (!item.available) throw fieldError('barcode', T.unavailable);
  const line = {
    skuId: item.sku_id, name: item.name, unit: item.unit, soldByWeight: item.sold_by_weight,
    price: item.price, quantity: 1,
  };
  if (item.sold_by_weight) {
    const grams = await askGrams(item);
    if (!grams) return;
    line.quantity = grams;
    sale.lines.push(line);
  } else {
    const same = sale.lines.find((l) => l.skuId === item.sku_id && !l.soldByWeight);
    if (same) same.quantity += 1; else sale.lines.push(line);
  }
  await changed();
}

// Scans queue: a wedge scanner types the next code while the last one is still being looked
// up, so each Enter takes the code and clears the field at once, and lookups run in order.
let scans = Promise.resolve();
$('scan-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('barcode');
  const code = input.value.trim();
  input.value = '';
  if (code) scans = scans.then(() => scan(code));
});

// Typing a new code clears the error of the last one.
$('barcode').addEventListener('input', () => clearErrors($('scan-form')));

async function scan(code) {
  const form = $('scan-form');
  clearErrors(form);
  try {
    const found = await api('GET', `/stores/${storeId}/till-items?barcode=${encodeURIComponent(code)}`);
    if (!found.items.length) throw fieldError('barcode', T.unknownBarcode);
    await addItem(found.items[0]);
    focusBarcode();
  } catch (err) {
    // The code stays in the field beside its error, to be corrected or cleared.
    if (!$('barcode').value) $('barcode').value = code;
    if (err instanceof ApiError && err.code === 'malformed') err.message = T.barcodeMalformed;
    showError(form, err instanceof ApiError ? err : { message: String(err) });
  }
}

let searchItems = [];
bindForm($('search-form'), async (form) => {
  const q = (form.q || '').trim();
  const found = await api('GET', `/stores/${storeId}/till-items?q=${encodeURIComponent(q)}`);
  searchItems = found.items;
  const list = $('search-results');
  if (!searchItems.length) throw fieldError('q', T.noResults);
  list.innerHTML = searchItems.map((item, i) => `<li><button type="button" class="pick" data-pick="${i}"${item.available ? '' : ' disabled'}>
      <span><strong>${esc(item.name)}</strong> <span class="small muted">${esc(item.code)}${item.barcode ? ' · ' + esc(item.barcode) : ''}</span></span>
      <span class="num">${money(item.price)}${item.sold_by_weight ? '/kg' : ''}${item.member_price < item.price ? ` <span class="small">${esc(T.memberPrice)} ${money(item.member_price)}</span>` : ''}
      <span class="small muted">${esc(T.stock)} ${item.sold_by_weight ? `${Math.floor(item.stock_available / 1000)} kg` : item.stock_available}</span>
      ${item.available ? '' : `<span class="small reject">${esc(T.unavailable)}</span>`}</span></button></li>`).join('');
  const first = list.querySelector('button:not([disabled])');
  if (first) first.focus();
});

$('search-results').addEventListener('click', async (event) => {
  const button = event.target.closest('[data-pick]');
  if (!button) return;
  const item = searchItems[Number(button.dataset.pick)];
  $('search-dialog').close();
  try { await addItem(item); } catch (err) { showError($('scan-form'), err); }
});

/** Up and down move between the buttons of a pick list. */
for (const list of document.querySelectorAll('.pick-list')) {
  list.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = [...list.querySelectorAll('button:not([disabled])')];
    const at = buttons.indexOf(document.activeElement);
    const next = buttons[at + (event.key === 'ArrowDown' ? 1 : -1)];
    if (next) { next.focus(); event.preventDefault(); }
  });
}

// --- Cart lines -----------------------------------------------------------------------------------

$('cart-lines').addEventListener('click', async (event) => {
  const button = event.target.closest('[data-act]');
  if (!button) return;
  const index = Number(button.dataset.line);
  const line = sale.lines[index];
  if (!line) return;
  switch (button.dataset.act) {
    case 'more': line.quantity = Math.min(9999, line.quantity + 1); break;
    case 'less':
      if (line.quantity <= 1) sale.lines.splice(index, 1); else line.quantity -= 1;
      break;
    case 'remove': sale.lines.splice(index, 1); break;
    case 'edit': {
      const qty = await askQty(line);
      if (!qty) return;
      line.quantity = qty;
      break;
    }
    case 'weigh': {
      const grams = await askGrams({ name: line.name, price: line.price }, line.quantity);
      if (!grams) return;
      line.quantity = grams;
      break;
    }
    default: return;
  }
  await changed();
  focusBarcode();
});

// --- The member -----------------------------------------------------------------------------------

/** The member an identifier belongs to (any store's), with their tier, points and usable coupons. */
const findMember = (identity) =>
  api('GET', `/stores/${storeId}/till-member?kind=${identity.kind}&value=${encodeURIComponent(identity.value)}`);

/** Serves `found` (a till member) on this sale. */
async function setMember(found) {
  const profile = found.customer;
  const phone = (profile.identities || []).find((i) => i.kind === 'phone');
  sale.member = {
    id: profile.id,
    name: profile.display_name,
    phone: phone ? phone.value : null,
    tier: found.tier_name,
    points: found.points_balance,
    coupons: found.coupons.map((c) => ({ id: c.id, name: c.name, rule: c.rule })),
  };
  sale.couponIds = [];
  sale.points = 0;
  await changed();
}

/** A phone number (digits, maybe +86, spaces and dashes) or else a member card number. */
function identityOf(text) {
  const digits = text.replace(/[\s-]/g, '').replace(/^\+?86(?=1\d{10}$)/, '');
  return /^1\d{10}$/.test(digits) ? { kind: 'phone', value: digits } : { kind: 'member_card', value: text.trim() };
}

bindForm($('member-form'), async (form) => {
  const value = (form.value || '').trim();
  const identity = identityOf(value);
  $('register-form').hidden = true;
  let found;
  try {
    found = await findMember(identity);
  } catch (err) {
    if (err.status === 404) {
      const register = $('register-form');
      register.hidden = false;
      clearErrors(register);
      $('register-phone').value = identity.kind === 'phone' ? identity.value : '';
      throw fieldError('value', T.memberNotFound);
    }
    if (err instanceof ApiError) err.field = 'value';
    throw err;
  }
  await setMember(found);
  $('member-dialog').close();
  toast(T.memberSet);
});

bindForm($('register-form'), async (form, key) => {
  const body = { identities: [{ kind: 'phone', value: form.phone || '' }] };
  if (form.display_name) body.display_name = form.display_name;
  let profile;
  try {
    profile = await api('POST', '/customers', body, { key });
  } catch (err) {
    if (err instanceof ApiError && err.field && err.field.startsWith('identities')) err.field = 'phone';
    throw err;
  }
  // A new member may have been given a welcome coupon: read their wallet as the till sees it.
  const phone = profile.identities.find((i) => i.kind === 'phone');
  await setMember(await findMember({ kind: 'phone', value: phone.value }));
  $('member-dialog').close();
  toast(T.memberSet);
});

$('benefits-form').addEventListener('change', async (event) => {
  if (event.target.name === 'coupon') {
    sale.couponIds = [...$('coupon-list').querySelectorAll('input:checked')].map((i) => i.value);
    await changed();
  } else if (event.target.name === 'points') {
    await choosePoints();
  }
});
$('benefits-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  await choosePoints();
  focusBarcode();
});

async function choosePoints() {
  const form = $('benefits-form');
  clearErrors(form);
  const text = $('points').value.trim();
  const points = text === '' ? 0 : (/^\d{1,9}$/.test(text) ? Number(text) : NaN);
  if (!(points >= 0) || points % 100 !== 0) {
    showError(form, { field: 'points', message: T.pointsInvalid });
    return;
  }
  sale.points = points;
  await changed();
}

// --- Paying ---------------------------------------------------------------------------------------

const payForm = $('pay-form');

function payMethod() {
  return payForm.querySelector('input[name=method]:checked').value;
}

/** What the pay dialog takes: a table's bill being settled, or the sale on the till. */
function dueNow() {
  if (settling) return settling.due;
  return sale.orderDue ?? (quote ? quote.total_payable : 0);
}

function showChange() {
  const due = dueNow();
  const tendered = toFen($('tendered').value);
  $('change').textContent = tendered !== null && tendered >= due ? money(tendered - due) : '—';
}

function openPay() {
  if (!sale.lines.length || !quote) return;
  $('pay-due').textContent = money(sale.orderDue ?? quote.total_payable);
  $('tendered').value = '';
  $('reference').value = '';
  $('pay-progress').textContent = '';
  showChange();
  openDialog($('pay-dialog'), payMethod() === 'cash' ? $('tendered') : $('reference'));
}

payForm.addEventListener('change', (event) => {
  if (event.target.name !== 'method') return;
  for (const field of payForm.querySelectorAll('[data-method]')) field.hidden = field.dataset.method !== payMethod();
  clearErrors(payForm);
  (payMethod() === 'cash' ? $('tendered') : $('reference')).focus();
});
$('tendered').addEventListener('input', () => { clearErrors(payForm); showChange(); });

payForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(payForm);
  const method = payMethod();
  const submit = payForm.querySelector('[type=submit]');
  submit.disabled = true; submit.setAttribute('aria-busy', 'true');
  try {
    // Settling a table's bill leaves the sale on the till as it is.
    const bill = settling;
    const orderId = bill ? await settleBill(bill, method) : await pay(method);
    if (!bill) localStorage.removeItem(CURRENT_KEY);
    location.href = `/pos/receipts/${orderId}`;
  } catch (err) {
    $('pay-progress').textContent = '';
    if (err instanceof ApiError) showError(payForm, err); else showError(payForm, { message: String(err) });
  } finally {
    submit.disabled = false; submit.removeAttribute('aria-busy');
  }
});

/** A refusal means the server did nothing under the key, so the next attempt may use a new one. */
const refused = (err) => err instanceof ApiError && err.status >= 400 && err.status < 500;

/**
 * Creates the sale's order (once) and takes its payment (once): each under a key kept with the
 * sale until it succeeds, so retrying after a lost answer gets the first result.
 */
async function pay(method) {
  let tendered = null;
  const due = () => sale.orderDue ?? quote.total_payable;
  if (method === 'cash') {
    tendered = toFen($('tendered').value);
    if (tendered === null) throw fieldError('tendered', T.tenderedInvalid);
    if (tendered < due()) throw fieldError('tendered', T.tenderedShort);
  }
  if (!sale.orderId) {
    sale.orderKey ||= newKey();
    save();
    $('pay-progress').textContent = T.creatingOrder;
    const body = {
      store_id: storeId,
      channel: 'pos',
      lines: sale.lines.map((l) => ({ sku_id: l.skuId, quantity: l.quantity })),
    };
    if (sale.member) {
      body.customer_id = sale.member.id;
      body.coupon_ids = sale.couponIds;
      if (sale.points > 0) body.points = sale.points;
    }
    try {
      const order = await api('POST', '/orders', body, { key: sale.orderKey });
      sale.orderId = order.id;
      sale.orderDue = order.total - order.paid;
      save();
    } catch (err) {
      if (refused(err)) { sale.orderKey = null; save(); }
      throw err;
    }
    $('pay-due').textContent = money(sale.orderDue);
    if (tendered !== null && tendered < sale.orderDue) throw fieldError('tendered', T.tenderedShort);
  }
  sale.payKey ||= newKey();
  save();
  $('pay-progress').textContent = T.takingPayment;
  // The cash handed over is kept with the payment, so a reprinted receipt shows the change too.
  const body = { method, amount: sale.orderDue };
  if (method === 'card') body.reference = $('reference').value.trim();
  if (tendered !== null) body.tendered = tendered;
  try {
    await api('POST', `/orders/${sale.orderId}/payments`, body, { key: sale.payKey });
  } catch (err) {
    if (refused(err)) { sale.payKey = null; save(); }
    throw err;
  }
  return sale.orderId;
}

// --- Holding and resuming ---------------------------------------------------------------------------

function heldSales() {
  return stored(HELD_KEY) || [];
}

function hold({ quiet = false } = {}) {
  if (!sale.lines.length) {
    if (!quiet) toast(T.nothingToHold, true);
    return false;
  }
  const held = heldSales();
  held.push({
    id: newKey(), at: new Date().toISOString(), lines: sale.lines, member: sale.member,
    couponIds: sale.couponIds, points: sale.points, total: quote ? quote.total_payable : null,
  });
  localStorage.setItem(HELD_KEY, JSON.stringify(held));
  sale = { ...emptySale(), orderId: sale.orderId };
  changed();
  if (!quiet) toast(T.held);
  return true;
}

function openHeld() {
  const held = heldSales();
  $('held-none').hidden = held.length > 0;
  $('held-list').innerHTML = held.map((h, i) => {
    const at = new Date(h.at);
    const time = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
    const count = h.lines.length;
    const who = h.member ? ` · ${esc(h.member.name || h.member.phone || '')}` : '';
    return `<li><button type="button" class="pick" data-resume="${i}">
      <span><strong>${time}</strong> ${esc(fill(T.heldItems, { count }))}${who}<br><span class="small muted">${h.lines.map((l) => esc(l.name)).join('、')}</span></span>
      <span class="num">${h.total !== null ? money(h.total) : ''}</span></button></li>`;
  }).join('');
  openDialog($('held-dialog'), $('held-list').querySelector('button') || $('held-dialog').querySelector('[data-close]'));
}

$('held-list').addEventListener('click', async (event) => {
  const button = event.target.closest('[data-resume]');
  if (!button) return;
  const held = heldSales();
  const [entry] = held.splice(Number(button.dataset.resume), 1);
  localStorage.setItem(HELD_KEY, JSON.stringify(held));
  // The cart on the till is parked in its place rather than lost.
  if (sale.lines.length) hold({ quiet: true });
  sale = { ...emptySale(), lines: entry.lines, member: entry.member, couponIds: entry.couponIds, points: entry.points };
  $('held-dialog').close();
  await changed();
  toast(T.resumed);
});

// --- Refunds --------------------------------------------------------------------------------------

const findForm = $('find-order-form');
const refundForm = $('refund-form');
let refundOrder = null;

function statusText(status) {
  return T[`status_${status}`] || status;
}

async function openRefund() {
  findForm.hidden = false;
  refundForm.hidden = true;
  $('receipt-key').value = '';
  openDialog($('refund-dialog'), $('receipt-key'));
  const list = $('today-list');
  list.innerHTML = '';
  try {
    const today = await api('GET', `/stores/${storeId}/till-orders`);
    $('today-none').hidden = today.items.length > 0;
    list.innerHTML = today.items.map(({ receipt_no: no, order }) => {
      const at = new Date(order.created_at);
      const time = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
      return `<li><button type="button" class="pick" data-order="${esc(order.id)}">
        <span><strong class="mono">${esc(no)}</strong> ${time} · ${esc(statusText(order.status))}${order.table ? ` · ${esc(fill(T.tableOf, { table: order.table }))}` : ''}<br>
        <span class="small muted">${order.lines.map((l) => esc(l.sku_name)).join('、')}</span></span>
        <span class="num">${money(order.total)}${order.refunded ? `<br><span class="small reject">−${money(order.refunded)}</span>` : ''}</span></button></li>`;
    }).join('');
  } catch (err) {
    showError(findForm, err);
  }
}

bindForm(findForm, async (form) => {
  const key = (form.receipt_no || '').trim();
  if (UUID.test(key)) {
    showOrder(await api('GET', `/orders/${key}`));
    return;
  }
  const found = await api('GET', `/stores/${storeId}/till-orders?receipt_no=${encodeURIComponent(key)}`);
  if (!found.items.length) throw fieldError('receipt_no', T.noOrder);
  showOrder(await api('GET', `/orders/${found.items[0].order.id}`));
});

$('today-list').addEventListener('click', async (event) => {
  const button = event.target.closest('[data-order]');
  if (!button) return;
  try { showOrder(await api('GET', `/orders/${button.dataset.order}`)); } catch (err) { showError(findForm, err); }
});

function showOrder(order, result = '') {
  refundOrder = order;
  findForm.hidden = true;
  refundForm.hidden = false;
  clearErrors(refundForm);
  delete refundForm.dataset.key;
  $('refund-order').textContent = `${order.id.slice(-8).toUpperCase()} · ${money(order.total)} · ${statusText(order.status)}`;
  $('refund-receipt').href = `/pos/receipts/${order.id}`;
  $('refund-result').textContent = result;
  $('refund-lines').innerHTML = order.lines.map((l) => {
    const left = l.quantity - l.refunded_quantity;
    const fmt = (q) => fmtQty({ soldByWeight: l.sold_by_weight, quantity: q });
    return `<tr><td>${esc(l.sku_name)}<br><span class="small muted">${money(l.amount)}</span></td>
      <td class="num">${esc(fmt(l.quantity))}</td><td class="num">${esc(fmt(l.refunded_quantity))}${l.refunded_amount ? `<br><span class="small">${money(l.refunded_amount)}</span>` : ''}</td>
      <td><input name="line-${l.line_no}" inputmode="numeric" aria-label="${esc(l.sku_name)}" placeholder="0" ${left > 0 ? '' : 'disabled'} data-left="${left}"></td></tr>`;
  }).join('');
  const first = refundForm.querySelector('input[name^="line-"]:not([disabled])');
  (first || refundForm.querySelector('[data-close]')).focus();
}

bindForm(refundForm, async (form, key) => {
  const lines = [];
  for (const input of refundForm.querySelectorAll('input[name^="line-"]:not([disabled])')) {
    const text = input.value.trim();
    if (!text) continue;
    const qty = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
    if (!(qty >= 1 && qty <= Number(input.dataset.left))) throw fieldError(input.name, T.qtyInvalid);
    lines.push({ line_no: Number(input.name.slice(5)), quantity: qty });
  }
  if (!lines.length) throw new ApiError(422, { error: { code: 'invalid', message: T.refundNothing } });
  const body = { lines };
  if (form.reason) body.reason = form.reason;
  const before = refundOrder.refunded;
  const order = await api('POST', `/orders/${refundOrder.id}/refunds`, body, { key });
  showOrder(order, fill(T.refunded, { amount: money(order.refunded - before) }));
  toast(fill(T.refunded, { amount: money(order.refunded - before) }));
});

document.querySelector('[data-action="refund-back"]').addEventListener('click', () => {
  refundForm.hidden = true;
  findForm.hidden = false;
  $('receipt-key').focus();
});

// --- Tables (桌台) ------------------------------------------------------------------------------------
// An eat-first bill is an order on the server (channel table_eat_first) that holds its items'
// stock until it is settled or voided; the cart on the till only ever moves onto one. Each write
// keeps its Idempotency-Key until it succeeds, as a sale's do.

const openBillForm = $('open-bill-form');
const PAY_TITLE = $('pay-title').textContent;
let bills = [];
/** The bill being settled through the pay dialog: { orderId, due, table, key }. */
let settling = null;
/** An Idempotency-Key per bill the cart is being added to, kept until the add succeeds. */
const addKeys = {};

const cartLines = () => sale.lines.map((l) => ({ sku_id: l.skuId, quantity: l.quantity }));
const hhmm = (iso) => { const at = new Date(iso); return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`; };

/** The cart went onto a table's bill: the till starts afresh (an unpaid till order for it is voided). */
function cartMoved() {
  sale = { ...emptySale(), orderId: sale.orderId };
  return changed();
}

async function loadTables() {
  const found = await api('GET', `/stores/${storeId}/till-tables`);
  bills = found.items;
  $('tables-count').textContent = String(bills.length);
  $('tables-none').hidden = bills.length > 0;
  const cartEmpty = !sale.lines.length;
  $('tables-list').innerHTML = bills.map((b, i) => {
    const label = esc(b.table);
    return `<tr data-bill="${esc(b.order.id)}" data-table="${label}">
      <th scope="row" class="table-label">${label}</th><td class="mono">${esc(b.receipt_no)}</td>
      <td class="num">${b.item_count}</td><td class="num">${money(b.total)}</td><td>${hhmm(b.opened_at)}</td>
      <td><div class="bill-actions">
        <button type="button" class="button small" data-bill-act="add" data-i="${i}"${cartEmpty ? ' disabled' : ''} aria-label="${esc(T.tableAdd)} ${label}">${esc(T.tableAdd)}</button>
        <button type="button" class="button small" data-bill-act="prebill" data-i="${i}" aria-label="${esc(T.tablePrebill)} ${label}">${esc(T.tablePrebill)}</button>
        <button type="button" class="button small primary" data-bill-act="settle" data-i="${i}" aria-label="${esc(T.tableSettle)} ${label}">${esc(T.tableSettle)}</button>
        <button type="button" class="button small danger" data-bill-act="void" data-i="${i}" aria-label="${esc(T.tableVoid)} ${label}">${esc(T.tableVoid)}</button>
      </div></td></tr>`;
  }).join('');
}

async function openTables() {
  $('table-label').value = '';
  openDialog($('tables-dialog'), $('table-label'));
  try { await loadTables(); } catch (err) { showError(openBillForm, err); }
}

/** Marks the row of the bill an error names (the open bill of an occupied table), if any. */
function markOccupied(err) {
  const occupied = err instanceof ApiError && err.body && err.body.error ? err.body.error.order_id : null;
  for (const row of $('tables-list').querySelectorAll('tr')) row.classList.toggle('occupied', row.dataset.bill === occupied);
}

/** Shows `err` in the tables dialog. */
function tableError(err) {
  markOccupied(err);
  showError(openBillForm, err instanceof ApiError ? err : { message: String(err) });
}

bindForm(openBillForm, async (form, key) => {
  if (!sale.lines.length) throw fieldError('table', T.tableCartEmpty);
  const body = { store_id: storeId, channel: 'table_eat_first', table: form.table || '', lines: cartLines() };
  if (sale.member) {
    body.customer_id = sale.member.id;
    body.coupon_ids = sale.couponIds;
    if (sale.points > 0) body.points = sale.points;
  }
  let bill;
  try {
    bill = await api('POST', '/orders', body, { key });
  } catch (err) {
    if (err.code === 'table_occupied') {
      await loadTables().catch(() => {});
      markOccupied(err);
    }
    throw err;
  }
  await cartMoved();
  $('table-label').value = '';
  toast(fill(T.tableOpened, { table: bill.table }));
  await loadTables();
});

async function addToBill(bill) {
  if (!sale.lines.length) throw fieldError('table', T.tableCartEmpty);
  const id = bill.order.id;
  addKeys[id] ||= newKey();
  try {
    await api('POST', `/orders/${id}/lines`, { lines: cartLines() }, { key: addKeys[id] });
  } catch (err) {
    if (refused(err)) delete addKeys[id];
    throw err;
  }
  delete addKeys[id];
  await cartMoved();
  toast(fill(T.tableAdded, { table: bill.table }));
}

/** Opens the pay dialog for a table's bill, at what it comes to now. */
async function openSettle(bill) {
  const order = await api('GET', `/orders/${bill.order.id}`);
  $('tables-dialog').close();
  settling = { orderId: order.id, due: order.total - order.paid, table: bill.table, key: null };
  $('pay-title').textContent = fill(T.tableSettleTitle, { table: bill.table });
  $('pay-due').textContent = money(settling.due);
  $('tendered').value = '';
  $('reference').value = '';
  $('pay-progress').textContent = '';
  showChange();
  openDialog($('pay-dialog'), payMethod() === 'cash' ? $('tendered') : $('reference'));
}

// Closing the pay dialog lets the bill be: the till's own sale is what it takes next. (A second
// payment of a bill already settled is refused by the server, whatever its key.)
$('pay-dialog').addEventListener('close', () => {
  settling = null;
  $('pay-title').textContent = PAY_TITLE;
});

/** Takes a table bill's payment (once), under a key kept until it succeeds. */
async function settleBill(bill, method) {
  const body = { method, amount: bill.due };
  if (method === 'cash') {
    const tendered = toFen($('tendered').value);
    if (tendered === null) throw fieldError('tendered', T.tenderedInvalid);
    if (tendered < bill.due) throw fieldError('tendered', T.tenderedShort);
    body.tendered = tendered;
  } else {
    body.reference = $('reference').value.trim();
  }
  bill.key ||= newKey();
  $('pay-progress').textContent = T.takingPayment;
  try {
    await api('POST', `/orders/${bill.orderId}/payments`, body, { key: bill.key });
  } catch (err) {
    if (refused(err)) bill.key = null;
    throw err;
  }
  return bill.orderId;
}

async function voidBill(bill) {
  if (!window.confirm(fill(T.tableConfirmVoid, { table: bill.table }))) return;
  await api('POST', `/orders/${bill.order.id}/cancel`, {});
  toast(fill(T.tableVoided, { table: bill.table }));
}

$('tables-list').addEventListener('click', async (event) => {
  const button = event.target.closest('[data-bill-act]');
  if (!button) return;
  const bill = bills[Number(button.dataset.i)];
  clearErrors(openBillForm);
  try {
    switch (button.dataset.billAct) {
      case 'add': await addToBill(bill); break;
      case 'prebill': location.href = `/pos/receipts/${bill.order.id}`; return;
      case 'settle': await openSettle(bill); return;
      case 'void': await voidBill(bill); break;
      default: return;
    }
    await loadTables();
  } catch (err) {
    tableError(err);
  }
});

// --- Buttons and keys -----------------------------------------------------------------------------

function clearSale() {
  if (!sale.lines.length && !sale.member) return;
  if (!window.confirm(T.confirmClear)) return;
  sale = { ...emptySale(), orderId: sale.orderId };
  changed();
}

const actions = {
  search: () => { $('search-results').innerHTML = ''; openDialog($('search-dialog'), $('search-q')); },
  member: () => { $('register-form').hidden = true; $('member-key').value = ''; openDialog($('member-dialog'), $('member-key')); },
  'member-clear': () => { sale.member = null; sale.couponIds = []; sale.points = 0; changed(); },
  hold: () => hold(),
  resume: openHeld,
  refund: openRefund,
  tables: openTables,
  clear: clearSale,
  pay: openPay,
};

root.addEventListener('click', (event) => {
  const button = event.target.closest('[data-action]');
  if (button && actions[button.dataset.action]) {
    actions[button.dataset.action]();
    if (!document.querySelector('dialog[open]')) focusBarcode();
  }
});

const keys = { F2: 'member', F3: 'search', F4: 'hold', F6: 'resume', F7: 'refund', F8: 'pay', F9: 'clear', F10: 'tables' };

document.addEventListener('keydown', (event) => {
  const open = document.querySelector('dialog[open]');
  if (keys[event.key]) {
    event.preventDefault();
    if (!open) actions[keys[event.key]]();
    return;
  }
  // A scanner types into whatever has focus: when nothing that takes text has it, the
  // barcode field does.
  const active = document.activeElement;
  const typing = active && (active.matches('input, textarea, select') || active.isContentEditable);
  if (!open && !typing && event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
    $('barcode').focus();
  }
});

document.addEventListener('click', (event) => {
  if (!event.target.closest('input, button, a, label, select, textarea, dialog')) focusBarcode();
});

render();
if (sale.lines.length) requote();
loadTables().catch(() => {});
focusBarcode();
