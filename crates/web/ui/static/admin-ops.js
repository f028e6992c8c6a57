// The admin console's operations pages: every form writes through the JSON API (session cookie,
// page language, Idempotency-Key from bindForm) and shows the API's errors next to the field that
// caused them. Prices are typed in yuan and sent as integer 分 via toFen; quantities are integers.
import { api, ApiError, bindForm, toFen, toast, showError } from '/assets/app.js';

const forms = (name) => document.querySelectorAll(`form[data-form="${name}"]`);
const checked = (form, name) => Boolean(form.elements[name]?.checked);
/** An input's trimmed text, or null when empty (a PATCH then clears the value). */
const textOrNull = (form, name) => { const v = form.elements[name]?.value.trim(); return v ? v : null; };
const reloadAfter = (message) => { if (message) sessionStorage.setItem('ops-toast', message); location.reload(); };

/** An integer from an input, or an ApiError naming the field. */
function integer(form, name, { optional = false } = {}) {
  const raw = form.elements[name]?.value.trim() ?? '';
  if (raw === '' && optional) return undefined;
  if (!/^-?\d+$/.test(raw)) throw new ApiError(422, { error: { code: 'malformed', field: name, message: form.dataset.badNumber } });
  return Number(raw);
}

/** 分 from a yuan input: undefined when empty and `optional`, null when empty and `nullable`. */
function fen(form, name, { optional = false, nullable = false } = {}) {
  const raw = form.elements[name]?.value.trim() ?? '';
  if (raw === '') {
    if (nullable) return null;
    if (optional) return undefined;
  }
  const value = toFen(raw);
  if (value === null) throw new ApiError(422, { error: { code: 'malformed', field: name, message: form.dataset.badMoney } });
  return value;
}

/** A decimal coordinate (coordinates are the one legitimately fractional input here). */
function coordinate(form, name) {
  const raw = form.elements[name].value.trim();
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value)) throw new ApiError(422, { error: { code: 'malformed', field: name, message: form.dataset.badNumber } });
  return value;
}

/** The SKU whose code or barcode is `code`, or an error on `field`. */
async function skuByCode(code, field, message) {
  const wanted = code.trim();
  if (wanted) {
    const found = await api('GET', `/skus?q=${encodeURIComponent(wanted)}&limit=50`);
    const exact = found.items.find((s) => s.code === wanted || s.barcode === wanted);
    if (exact) return exact;
    const byBarcode = await api('GET', `/skus?barcode=${encodeURIComponent(wanted)}&limit=1`);
    if (byBarcode.items.length) return byBarcode.items[0];
  }
  throw new ApiError(422, { error: { code: 'unknown_reference', field, message } });
}

// A toast carried over a reload.
const pending = sessionStorage.getItem('ops-toast');
if (pending) { sessionStorage.removeItem('ops-toast'); toast(pending); }

// Selects that switch what a page shows.
for (const select of document.querySelectorAll('select[data-autosubmit]')) {
  select.addEventListener('change', () => select.form.requestSubmit());
}

// Regions and stores.
for (const form of forms('region-create')) {
  bindForm(form, async (data, key) => {
    await api('POST', '/regions', { code: data.code ?? '', name: data.name ?? '' }, { key });
    reloadAfter();
  });
}
function storeFields(form) {
  return {
    name: form.elements.name.value.trim(),
    address: form.elements.address.value.trim(),
    location: { lat: coordinate(form, 'lat'), lng: coordinate(form, 'lng') },
    opening_hours: form.elements.opening_hours.value.trim() || undefined,
    area_m2: integer(form, 'area_m2', { optional: true }),
    delivery_radius_m: integer(form, 'delivery_radius_m', { optional: true }),
  };
}
for (const form of forms('store-create')) {
  bindForm(form, async (data, key) => {
    const body = {
      code: data.code ?? '', region_id: data.region_id, kind: data.kind, phone: data.phone,
      ...storeFields(form), area_m2: integer(form, 'area_m2'),
    };
    const store = await api('POST', '/stores', body, { key });
    location.href = `/admin/stores/${store.id}`;
  });
}
for (const form of forms('store-edit')) {
  bindForm(form, async (data) => {
    const body = { ...storeFields(form), phone: textOrNull(form, 'phone'), status: data.status };
    if (form.elements.code) { body.code = data.code ?? ''; body.region_id = data.region_id; }
    await api('PATCH', `/stores/${form.dataset.id}`, body);
    reloadAfter(form.dataset.saved);
  });
}

// Staff.
for (const form of forms('staff-create')) {
  bindForm(form, async (data, key) => {
    const body = {
      username: data.username ?? '', display_name: data.display_name ?? '', phone: data.phone, role: data.role,
      region_id: data.region_id, store_id: data.store_id, password: data.password ?? '',
    };
    const staff = await api('POST', '/staff', body, { key });
    location.href = `/admin/staff/${staff.id}`;
  });
}
for (const form of forms('staff-edit')) {
  bindForm(form, async (data) => {
    const body = { display_name: data.display_name ?? '', phone: textOrNull(form, 'phone') };
    if (form.elements.role) { body.role = data.role; body.region_id = data.region_id; body.store_id = data.store_id; }
    if (data.password) body.password = data.password;
    await api('PATCH', `/staff/${form.dataset.id}`, body);
    reloadAfter(form.dataset.saved);
  });
}
for (const button of document.querySelectorAll('[data-staff-status]')) {
  button.addEventListener('click', async () => {
    if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
    button.disabled = true;
    try {
      await api('PATCH', `/staff/${button.dataset.id}`, { status: button.dataset.staffStatus });
      reloadAfter();
    } catch (err) { toast(err.message, true); button.disabled = false; }
  });
}

// Catalog.
for (const form of forms('category-create')) {
  bindForm(form, async (data, key) => {
    await api('POST', '/categories', { name: data.name ?? '', parent_id: data.parent_id }, { key });
    reloadAfter();
  });
}
for (const form of forms('product-create')) {
  bindForm(form, async (data, key) => {
    const sku = {
      code: data.code ?? '', name: data.sku_name ?? '', unit: data.unit ?? '', barcode: data.barcode,
      sold_by_weight: checked(form, 'sold_by_weight'),
      base_price: fen(form, 'base_price'), member_price: fen(form, 'member_price', { optional: true }),
    };
    const body = { name: data.name ?? '', category_id: data.category_id, kind: data.kind, skus: [sku] };
    try {
      const product = await api('POST', '/products', body, { key });
      location.href = `/admin/catalog/skus/${product.skus[0].id}`;
    } catch (err) {
      // The SKU's name is `sku_name` on this form.
      if (err instanceof ApiError && err.field && /skus\[\d+\]\.name$/.test(err.field)) err.field = 'sku_name';
      throw err;
    }
  });
}
for (const form of forms('product-edit')) {
  bindForm(form, async (data) => {
    await api('PATCH', `/products/${form.dataset.id}`, { name: data.name ?? '', category_id: data.category_id, kind: data.kind, status: data.status });
    reloadAfter(form.dataset.saved);
  });
}
for (const form of forms('sku-edit')) {
  bindForm(form, async (data) => {
    const body = {
      code: data.code ?? '', name: data.name ?? '', unit: data.unit ?? '', barcode: textOrNull(form, 'barcode'),
      status: data.status, sold_by_weight: checked(form, 'sold_by_weight'), online_only: checked(form, 'online_only'),
      base_price: fen(form, 'base_price'),
      store_price: fen(form, 'store_price', { nullable: true }),
      online_price: fen(form, 'online_price', { nullable: true }),
      member_price: fen(form, 'member_price', { nullable: true }),
      cost_price: fen(form, 'cost_price', { nullable: true }),
    };
    await api('PATCH', `/skus/${form.dataset.id}`, body);
    reloadAfter(form.dataset.saved);
  });
}
for (const form of forms('store-price')) {
  const path = `/stores/${form.dataset.store}/skus/${form.dataset.sku}`;
  bindForm(form, async (_data, key) => {
    const body = {
      price: fen(form, 'price', { optional: true }), member_price: fen(form, 'member_price', { optional: true }),
      available_in_store: checked(form, 'available_in_store'), available_online: checked(form, 'available_online'),
    };
    await api('PUT', path, body, { key });
    reloadAfter(form.dataset.saved);
  });
  form.querySelector('[data-clear-override]')?.addEventListener('click', async () => {
    try { await api('DELETE', path); reloadAfter(form.dataset.saved); } catch (err) { showError(form, err); }
  });
}

// Inventory.
for (const form of forms('movement')) {
  bindForm(form, async (data, key) => {
    const skuId = data.sku_id ?? (await skuByCode(data.sku_code ?? '', 'sku_code', form.dataset.unknownSku)).id;
    const body = { sku_id: skuId, kind: data.kind, quantity: integer(form, 'quantity'), reason: data.reason, reference: data.reference };
    await api('POST', `/stores/${form.dataset.store}/stock/movements`, body, { key });
    reloadAfter(form.dataset.saved);
  });
}
for (const button of document.querySelectorAll('[data-reconcile]')) {
  const out = button.parentElement.querySelector('.reconcile-result');
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    out.textContent = '…';
    try {
      const result = await api('GET', '/inventory/reconcile');
      out.textContent = result.sound ? button.dataset.sound : `${button.dataset.unsound} (${result.mismatches.length})`;
      out.className = `reconcile-result badge ${result.sound ? 'ok' : 'danger'}`;
    } catch (err) { out.textContent = err.message; out.className = 'reconcile-result badge danger'; }
    finally { button.disabled = false; button.removeAttribute('aria-busy'); }
  });
}

// Stock documents: the create form shows the fields of the chosen kind and resolves SKU codes.
for (const form of forms('document-create')) {
  const kindSelect = form.querySelector('[data-kind-select]');
  const lines = form.querySelector('[data-lines]');
  const template = lines.querySelector('[data-line]').cloneNode(true);
  const showKind = () => {
    for (const el of form.querySelectorAll('[data-for-kinds]')) el.hidden = !el.dataset.forKinds.split(' ').includes(kindSelect.value);
    for (const input of form.querySelectorAll('[name="line_quantity"]')) input.disabled = kindSelect.value === 'stocktake';
  };
  kindSelect.addEventListener('change', showKind);
  showKind();
  form.querySelector('[data-add-line]').addEventListener('click', () => {
    const row = template.cloneNode(true);
    for (const input of row.querySelectorAll('input')) input.value = '';
    lines.append(row);
    showKind();
    row.querySelector('input').focus();
  });
  lines.addEventListener('click', (event) => {
    const remove = event.target.closest('[data-remove-line]');
    if (remove && lines.children.length > 1) remove.closest('[data-line]').remove();
  });
  bindForm(form, async (data, key) => {
    const kind = data.kind;
    const body = { kind, store_id: data.store_id, note: data.note, lines: [] };
    if (kind === 'purchase') body.supplier = data.supplier ?? '';
    if (kind === 'requisition' || kind === 'transfer') body.source_store_id = data.source_store_id;
    for (const row of lines.querySelectorAll('[data-line]')) {
      const code = row.querySelector('[name="line_code"]');
      if (!code.value.trim() && lines.children.length > 1) continue;
      try {
        const sku = await skuByCode(code.value, 'line_code', form.dataset.unknownSku);
        const line = { sku_id: sku.id };
        if (kind !== 'stocktake') {
          const raw = row.querySelector('[name="line_quantity"]').value.trim();
          line.quantity = /^\d+$/.test(raw) ? Number(raw) : 0;
        }
        if (kind === 'loss') line.reason = row.querySelector('[name="line_reason"]').value.trim() || undefined;
        body.lines.push(line);
      } catch (err) { throw markLine(row, err, 'line_code'); }
    }
    try {
      const document_ = await api('POST', '/stock-documents', body, { key });
      location.href = `/admin/documents/${document_.id}`;
    } catch (err) {
      const name = err instanceof ApiError && err.field ? err.field.split('.').pop() : '';
      const rows = [...lines.querySelectorAll('[data-line]')];
      const at = /\[(\d+)\]/.exec(err.field || '');
      if (['quantity', 'reason', 'sku_id'].includes(name)) {
        const target = ({ quantity: 'line_quantity', reason: 'line_reason', sku_id: 'line_code' })[name];
        const row = at ? rows[Number(at[1])] : rows.find((r) => !r.querySelector(`[name="${target}"]`).value.trim()) || rows[0];
        throw markLine(row, err, target);
      }
      throw err;
    }
  });
}
/** Marks a line's input and points the error at the lines fieldset (whose message slot is
 * `#lines-error`), so it shows once, under the lines. */
function markLine(row, err, target) {
  const input = row?.querySelector(`[name="${target}"]`);
  if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  err.field = 'lines';
  return err;
}

// A document's steps: the pressed button names the step; quantities come from the line inputs.
for (const form of forms('document-step')) {
  form.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-confirm]');
    if (button && !confirm(button.dataset.confirm)) event.preventDefault();
  });
  bindForm(form, async (data, key, submitter) => {
    const step = submitter?.value;
    const body = { step, note: data.note };
    const inputs = [...form.querySelectorAll('input[data-line-no]')];
    if (inputs.length && ['approve', 'ship', 'receive', 'count'].includes(step)) {
      body.lines = inputs.filter((i) => i.value.trim() !== '').map((i) => ({ line_no: Number(i.dataset.lineNo), quantity: integer(form, i.name) }));
    }
    if (data.source_store_id && step === 'approve') body.source_store_id = data.source_store_id;
    await api('POST', `/stock-documents/${form.dataset.id}/steps`, body, { key });
    reloadAfter();
  });
}
