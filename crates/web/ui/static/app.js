// Quanyu's shared page helpers: calling the JSON API with the reader's language and an
// Idempotency-Key, showing API errors next to the field that caused them, reading forms,
// money in 分, and the toast. Every face imports this module.

export const lang = document.documentElement.lang === 'en' ? 'en' : 'zh-CN';

/** An error answered by the API: `code` and `message` (in the reader's language), maybe `field`. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || 'http_' + status;
    this.field = error.field || null;
    this.body = body;
  }
}

/** A random key for `Idempotency-Key` (works on plain http too, where randomUUID may not). */
export function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Calls `/api/v1{path}`. `opts.key` sends an Idempotency-Key (reuse it when retrying the same
 * action). Resolves with the JSON body (or null on 204); rejects with ApiError.
 */
export async function api(method, path, body, opts = {}) {
  const headers = { accept: 'application/json', 'accept-language': lang };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.key) headers['idempotency-key'] = opts.key;
  let res;
  try {
    res = await fetch((opts.base ?? '/api/v1') + path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { error: { code: 'network', message: document.body.dataset.networkError || e.message } });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** `1250` → `¥12.50` (amounts are integer 分). */
export function money(fen) {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** `"12.5"` → `1250`; null when the text is not an amount with at most two decimals. No floats. */
export function toFen(text) {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(String(text));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

/** Removes every error shown in `form`. */
export function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((p) => { p.hidden = true; p.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  const top = form.querySelector('.form-error');
  if (top) { top.hidden = true; top.textContent = ''; }
}

/**
 * Shows `err` next to the input it names (`err.field`, matched against `name`, then against the
 * last segment of a dotted path), else at the top of the form.
 */
export function showError(form, err) {
  const field = err.field || '';
  const candidates = [field, field.split('.').pop(), field.replace(/\[\d+\]/g, '')];
  let input = null;
  for (const name of candidates) {
    if (!name) continue;
    input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) break;
  }
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    const id = input.getAttribute('aria-describedby') || `${input.id || input.name}-error`;
    let p = form.querySelector(`#${CSS.escape(id)}`) || input.closest('.field')?.querySelector('.field-error');
    if (!p) {
      p = document.createElement('p');
      p.className = 'field-error';
      p.id = id;
      input.insertAdjacentElement('afterend', p);
    }
    input.setAttribute('aria-describedby', p.id || id);
    p.textContent = err.message;
    p.hidden = false;
    input.focus();
    return;
  }
  const top = form.querySelector('.form-error');
  if (top) { top.textContent = err.message; top.hidden = false; } else { toast(err.message, true); }
}

/** The form's named inputs as an object; empty values are left out. */
export function formData(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) continue;
    if (el.value === '') continue;
    out[el.name] = el.value;
  }
  return out;
}

/**
 * Wires `form`'s submit to `handler(data, key)`: clears errors, marks the button busy, keeps one
 * Idempotency-Key per attempt until it succeeds (so a retry cannot act twice), and shows any
 * ApiError next to its field.
 */
export function bindForm(form, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = event.submitter || form.querySelector('[type=submit]');
    if (button) { button.disabled = true; button.setAttribute('aria-busy', 'true'); }
    form.dataset.key ||= newKey();
    try {
      await handler(formData(form), form.dataset.key, event.submitter);
      delete form.dataset.key;
    } catch (err) {
      if (err instanceof ApiError) showError(form, err); else { console.error(err); showError(form, { message: String(err) }); }
    } finally {
      if (button) { button.disabled = false; button.removeAttribute('aria-busy'); }
    }
  });
}

let toastTimer;
/** A short message at the bottom of the screen. */
export function toast(message, isError = false) {
  const el = document.querySelector('.toast');
  if (!el) return;
  el.textContent = message;
  el.classList.toggle('error', isError);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 3500);
}

/** HTML-escapes text for the few places that build markup in the browser. */
export function esc(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// Every page: the language link comes back here, and the logout button ends the session.
for (const a of document.querySelectorAll('[data-lang-switch]')) {
  const target = a.getAttribute('href').split('?')[0];
  a.href = `${target}?next=${encodeURIComponent(location.pathname + location.search)}`;
}
for (const b of document.querySelectorAll('[data-logout]')) {
  b.addEventListener('click', async () => {
    try { await api('POST', b.dataset.logout || '/auth/logout'); } catch { /* the session may be gone already */ }
    location.href = b.dataset.after || '/login';
  });
}

/**
 * SKU pickers beyond the head of the catalog: in an element marked `data-sku-picker`, typing in
 * its `[data-sku-search]` box asks the API for SKUs whose code or name (or product name) matches
 * and offers them in the picker's `<select>`, an exact code or barcode first. A multiple select
 * keeps what is already chosen; a single one takes the first match. Works for pickers added
 * later (rows cloned from a template) too.
 */
export function enableSkuSearch() {
  const timers = new WeakMap();
  document.addEventListener('input', (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.matches('[data-sku-search]')) return;
    const select = box.closest('[data-sku-picker]')?.querySelector('select');
    if (!select) return;
    clearTimeout(timers.get(box));
    timers.set(box, setTimeout(async () => {
      const q = box.value.trim();
      if (!q) return;
      let found;
      try {
        found = await api('GET', `/skus?q=${encodeURIComponent(q)}&limit=50`);
      } catch (err) {
        toast(err.message, true);
        return;
      }
      if (!found.items.length) return;
      const exact = (s) => s.code.toLowerCase() === q.toLowerCase() || s.barcode === q;
      const items = [...found.items.filter(exact), ...found.items.filter((s) => !exact(s))];
      const kept = select.multiple ? [...select.options].filter((o) => o.selected) : [];
      const keptIds = new Set(kept.map((o) => o.value));
      const grams = box.dataset.gramsLabel || '';
      const fresh = items.filter((s) => !keptIds.has(s.id)).map((s) => {
        const option = new Option(`${s.name} · ${s.code}${s.sold_by_weight && grams ? ` (${grams})` : ''}`, s.id);
        if (s.sold_by_weight) option.dataset.byWeight = '';
        return option;
      });
      select.replaceChildren(...kept, ...fresh);
      if (!select.multiple) select.selectedIndex = 0;
      select.dispatchEvent(new Event('change', { bubbles: true }));
    }, 250));
  });
}
