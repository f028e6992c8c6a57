// The marketing page: create coupon templates and promotions, change their status, and the
// price-quote playground (POST /price-quotes) with its explained breakdown. Amounts typed in
// yuan become 分 through toFen (no floats); every write carries an Idempotency-Key.
import { api, bindForm, toast, toFen, money, esc, newKey, ApiError, enableSkuSearch } from '/assets/app.js';

enableSkuSearch();

const S = JSON.parse(document.getElementById('marketing-strings')?.textContent || '{}');
const invalid = (field, message) => new ApiError(422, { error: { field, message } });

/** A yuan field as 分, or undefined when empty; a malformed amount is shown at its field. */
function fen(data, field, message) {
  if (data[field] === undefined) return undefined;
  const value = toFen(data[field]);
  if (value === null) throw invalid(field, message);
  return value;
}
const int = (v) => (v === undefined ? undefined : Number.parseInt(v, 10));
const selected = (select) => [...(select?.selectedOptions || [])].map((o) => o.value);
/** A <input type=date> day as the start of that day in China Standard Time. */
const dayStart = (d) => (d ? `${d}T00:00:00+08:00` : undefined);
const dayEnd = (d) => (d ? `${d}T23:59:59+08:00` : undefined);
const local = (v) => (v ? `${v}:00+08:00` : undefined);

// Show only the fields a kind uses.
function toggle(select, attr) {
  const sync = () => {
    for (const el of select.form.querySelectorAll(`[${attr}]`)) {
      const box = el.closest('.field') || el;
      box.hidden = !el.getAttribute(attr).split(' ').includes(select.value);
    }
  };
  select.addEventListener('change', sync);
  sync();
}

const couponForm = document.getElementById('coupon-template-form');
if (couponForm) {
  toggle(couponForm.querySelector('[data-coupon-type]'), 'data-kinds');
  toggle(couponForm.querySelector('[data-validity]'), 'data-validity-for');
  const scope = couponForm.querySelector('[data-scope-type]');
  const syncScope = () => couponForm.querySelectorAll('[data-scope-for]').forEach((el) => { el.hidden = el.dataset.scopeFor !== scope.value; });
  scope.addEventListener('change', syncScope);
  syncScope();
  const amountMessage = couponForm.dataset.amountMessage || '¥';
  bindForm(couponForm, async (data, key) => {
    const kind = data.type === 'no_threshold' ? 'amount_off' : data.type;
    const body = {
      name: data.name || '',
      type: kind,
      threshold: data.type === 'no_threshold' ? 0 : (fen(data, 'threshold', amountMessage) ?? 0),
      channels: [data.channel_store, data.channel_online].filter(Boolean),
      store_ids: selected(couponForm.querySelector('[name=store_ids]')),
      claimable: data.claimable === 'true',
    };
    if (kind === 'amount_off' || kind === 'delivery') body.amount = fen(data, 'amount', amountMessage);
    if (kind === 'percent_off') {
      const pay = int(data.pay_bp);
      body.pay_bp = Number.isInteger(pay) ? pay * 100 : undefined;
      body.cap = fen(data, 'cap', amountMessage);
    }
    if (scope.value !== 'all') {
      body.scope = { type: scope.value, ids: selected(couponForm.querySelector(`[name=scope_${scope.value}]`)) };
    }
    if (data.validity === 'fixed') {
      body.valid_from = dayStart(data.valid_from);
      body.valid_until = dayEnd(data.valid_until);
    } else {
      body.valid_days = int(data.valid_days);
    }
    body.budget_count = int(data.budget_count);
    body.budget_value = fen(data, 'budget_value', amountMessage);
    body.per_customer_limit = int(data.per_customer_limit);
    const created = await api('POST', '/coupon-templates', body, { key });
    toast(created.name + ' · ' + created.rule);
    location.reload();
  });
}

const promoForm = document.getElementById('promotion-form');
if (promoForm) {
  toggle(promoForm.querySelector('[data-promo-type]'), 'data-promo-for');
  // A bundle (组合价) is a set of SKUs with quantities sold together at one price; it starts
  // with two rows, the smallest set.
  const bundle = promoForm.querySelector('[data-bundle-items]');
  const bundleRow = bundle.querySelector('[data-bundle-template]');
  const addBundleItem = () => bundle.querySelector('[data-add-bundle-item]').parentElement.before(bundleRow.content.cloneNode(true));
  addBundleItem(); addBundleItem();
  bundle.querySelector('[data-add-bundle-item]').addEventListener('click', addBundleItem);
  bundle.addEventListener('click', (event) => {
    if (event.target.closest('[data-remove-bundle-item]')) event.target.closest('[data-bundle-item]').remove();
  });
  const bundleItems = () => [...bundle.querySelectorAll('[data-bundle-item]')].map((row) => ({
    sku_id: row.querySelector('[name=bundle_sku]').value,
    quantity: int(row.querySelector('[name=bundle_qty]').value),
  }));
  bindForm(promoForm, async (data, key) => {
    const body = {
      name: data.name || '', type: data.type, starts_at: local(data.starts_at), ends_at: local(data.ends_at),
      audience: data.audience, priority: int(data.priority) || 0, exclusive: data.exclusive === 'true',
    };
    const pay = int(data.pay_bp);
    if (data.type === 'amount_off_ladder') body.tiers = [{ threshold: fen(data, 'tiers.threshold', '¥') ?? 0, amount: fen(data, 'tiers.amount', '¥') }];
    if (data.type === 'percent_off_ladder') body.tiers = [{ threshold: fen(data, 'tiers.threshold', '¥') ?? 0, pay_bp: Number.isInteger(pay) ? pay * 100 : undefined }];
    if (data.type === 'second_item') body.pay_bp = Number.isInteger(pay) ? pay * 100 : undefined;
    if (data.type === 'buy_get_free') { body.buy = int(data.buy); body.free = int(data.free); }
    if (data.type === 'limited_time_price') body.items = [{ sku_id: data['items.sku_id'], unit_price: fen(data, 'items.unit_price', '¥') }];
    if (data.type === 'bundle') {
      body.items = bundleItems();
      if (body.items.length < 2) throw invalid('items', S.bundleTooSmall);
      if (body.items.some((i) => !Number.isInteger(i.quantity) || i.quantity < 1)) throw invalid('items', S.bundleQuantity);
      body.price = fen(data, 'price', S.bundlePrice);
    }
    await api('POST', '/promotions', body, { key });
    location.reload();
  });
}

// Status buttons of templates and promotions.
document.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-template-status], [data-end-promotion]');
  if (!button) return;
  if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
  button.disabled = true;
  try {
    if (button.dataset.templateStatus) {
      const id = button.closest('[data-template-id]').dataset.templateId;
      await api('PUT', `/coupon-templates/${id}/status`, { status: button.dataset.templateStatus });
    } else {
      const id = button.closest('[data-promotion-id]').dataset.promotionId;
      await api('POST', `/promotions/${id}/end`, {});
    }
    location.reload();
  } catch (err) {
    toast(err instanceof ApiError ? err.message : String(err), true);
    button.disabled = false;
  }
});

// The playground.
const quote = document.getElementById('quote-form');
if (quote) {
  const lines = quote.querySelector('[data-quote-lines]');
  const lineTemplate = quote.querySelector('[data-line-template]');
  const addLine = () => lines.append(lineTemplate.content.cloneNode(true));
  addLine();
  quote.querySelector('[data-add-line]').addEventListener('click', addLine);
  lines.addEventListener('click', (e) => {
    if (e.target.closest('[data-remove-line]') && lines.querySelectorAll('[data-line]').length > 1) e.target.closest('[data-line]').remove();
  });

  let member = null;
  const wallet = quote.querySelector('[data-wallet]');
  const walletList = quote.querySelector('[data-wallet-list]');
  const memberName = quote.querySelector('[data-member-name]');
  const phoneError = quote.querySelector('#q-phone-error');

  async function loadWallet() {
    const coupons = await api('GET', `/customers/${member.id}/coupons?limit=100`);
    const usable = coupons.items.filter((c) => c.state === 'usable');
    walletList.innerHTML = usable.length
      ? usable.map((c) => `<label class="badge"><input type="checkbox" name="coupon" value="${esc(c.id)}" style="width:auto; min-height:0"> ${esc(c.name)} · ${esc(c.rule)}</label>`).join(' ')
      : `<span class="muted">${esc(S.noCoupons)}</span>`;
    wallet.hidden = false;
  }

  async function findMember() {
    phoneError.hidden = true;
    const phone = quote.querySelector('[name=phone]').value.trim();
    member = null; wallet.hidden = true; memberName.textContent = '';
    if (!phone) return;
    try {
      member = await api('GET', `/customers/lookup?kind=phone&value=${encodeURIComponent(phone)}`);
      memberName.textContent = `${member.display_name || ''} #${member.ordinal}`;
      await loadWallet();
    } catch (err) {
      phoneError.textContent = err.status === 404 ? S.noMember : err.message;
      phoneError.hidden = false;
    }
  }
  quote.querySelector('[data-find-member]').addEventListener('click', findMember);

  quote.querySelector('[data-give-coupon]')?.addEventListener('click', async (event) => {
    if (!member) return;
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const template = quote.querySelector('[data-give-template]').value;
      const coupon = await api('POST', `/coupon-templates/${template}/coupons`, { customer_id: member.id }, { key: newKey() });
      await loadWallet();
      const box = walletList.querySelector(`input[value="${CSS.escape(coupon.id)}"]`);
      if (box) box.checked = true;
      toast(S.given);
    } catch (err) {
      toast(err instanceof ApiError ? err.message : String(err), true);
    } finally {
      button.disabled = false;
    }
  });

  const result = document.querySelector('[data-quote-result]');
  bindForm(quote, async (data) => {
    const picked = [...lines.querySelectorAll('[data-line]')].map((row) => ({
      sku_id: row.querySelector('[name=line_sku]').value,
      quantity: Number.parseInt(row.querySelector('[name=line_qty]').value, 10),
      label: row.querySelector('[name=line_sku]').selectedOptions[0]?.textContent || '',
    })).filter((l) => l.quantity > 0);
    if (!picked.length) throw invalid(null, S.noLines);
    const body = {
      store_id: data.store_id, channel: data.channel,
      lines: picked.map(({ sku_id, quantity }) => ({ sku_id, quantity })),
      coupon_ids: [...quote.querySelectorAll('[name=coupon]:checked')].map((c) => c.value),
    };
    if (member) body.customer_id = member.id;
    if (data.points) body.points = Number.parseInt(data.points, 10);
    const out = await api('POST', '/price-quotes', body);
    render(out, picked);
  });

  function render(out, picked) {
    const step = (s) => S.steps?.[s] || s;
    result.querySelector('[data-quote-lines-out]').innerHTML = out.lines.map((l) => `
      <tr><td>${l.line_no}</td><td>${esc(picked[l.line_no - 1]?.label || l.sku_id)}</td><td class="num">${l.quantity}</td>
        <td class="num">${money(l.base_amount)}</td>
        <td>${l.adjustments.map((a) => `<div class="small">${esc(step(a.step))} · ${esc(a.rule)} <span class="num">${money(a.amount)}</span></div>`).join('') || '—'}</td>
        <td class="num">${money(l.amount)}</td></tr>`).join('');
    result.querySelector('[data-quote-totals]').innerHTML = `
      <tr><td colspan="5">${esc(S.subtotal)}</td><td class="num">${money(out.subtotal)}</td></tr>
      ${out.points_used ? `<tr><td colspan="5">${esc(S.points)} (${out.points_used})</td><td class="num discount">${money(-out.points_value)}</td></tr>` : ''}
      <tr><td colspan="5">${esc(S.delivery)}</td><td class="num">${money(out.delivery_fee)}</td></tr>
      <tr><td colspan="5">${esc(S.total)}</td><td class="num" data-quote-total>${money(out.total_payable)}</td></tr>`;
    result.querySelector('[data-quote-applied]').innerHTML = out.applied.length
      ? out.applied.map((r) => `<li data-source="${esc(r.source)}"><strong>${esc(step(r.step))}</strong> · ${esc(r.name)} · ${esc(r.rule)} <span class="num discount">${money(r.amount)}</span></li>`).join('')
      : `<li class="muted">${esc(S.none)}</li>`;
    result.querySelector('[data-quote-rejected]').innerHTML = out.rejected_coupons.length
      ? `<p class="field-error">${esc(S.rejected)}: ${out.rejected_coupons.map((r) => esc(S.reasons?.[r.reason] || r.reason) + (r.shortfall ? ` (${money(r.shortfall)})` : '')).join('；')}</p>`
      : '';
    result.hidden = false;
  }
}
