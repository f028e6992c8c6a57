// The H5 mall in the browser: choosing a store, the cart (kept in localStorage per store),
// sign-in by phone and code with a resend countdown, checkout with the quote's breakdown and
// an optional time on the store's clock, paying with stored value, claiming coupons, copying
// the invite link and the flash-sale countdown. Every change goes through /api/v1/shop with an Idempotency-Key where it moves
// money, stock or coupons; prices shown before checkout are estimates, the quote is the truth.
import { ApiError, api, bindForm, clearErrors, esc, money, newKey, showError, toast } from './app.js';

const root = document.getElementById('mall');
const page = root?.dataset.page || '';
const storeId = root?.dataset.store || '';

// ---- the chosen store and the cart -------------------------------------------------------

const STORE_COOKIE = 'quanyu_mall_store';
const LAST_POINT = 'quanyu-mall-point';

function chooseStore(id) {
  document.cookie = `${STORE_COOKIE}=${id}; Path=/; Max-Age=${30 * 24 * 3600}; SameSite=Lax`;
}

/**
 * A wall-clock time from a datetime-local input (`2026-12-07T08:00`) read on the clock of the
 * IANA zone `zone` (the store's, whatever the browser's), as an RFC 3339 instant; null if it is
 * not a time.
 */
function zonedInstant(local, zone) {
  const wall = Date.parse(`${local.length === 16 ? `${local}:00` : local}Z`);
  if (Number.isNaN(wall)) return null;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  // How far the zone's clock is ahead of UTC at an instant.
  const offset = (at) => {
    const p = Object.fromEntries(format.formatToParts(at).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - at;
  };
  // The offset at the wall time read as UTC, then at the instant that gives (across a clock change).
  const at = wall - offset(wall - offset(wall));
  return new Date(at).toISOString();
}

/** An error shown next to the input named `field`, as the API's would be. */
const fieldError = (field, message) => new ApiError(422, { error: { code: 'invalid', message, field } });

const cartKey = (store) => `quanyu-cart:${store}`;

/** The cart of the chosen store: [{sku_id, name, price, regular, by_weight, unit, quantity}]. */
export function readCart(store = storeId) {
  if (!store) return [];
  try { return JSON.parse(localStorage.getItem(cartKey(store)) || '[]'); } catch { return []; }
}

function writeCart(lines, store = storeId) {
  if (lines.length) localStorage.setItem(cartKey(store), JSON.stringify(lines));
  else localStorage.removeItem(cartKey(store));
  showCartCount();
}

/** Adds `quantity` (units, or grams when by weight) of an item described by a data-* element. */
function addToCart(el, quantity) {
  const d = el.dataset;
  const lines = readCart();
  const line = lines.find((l) => l.sku_id === d.sku);
  if (line) line.quantity += quantity;
  else {
    lines.push({
      sku_id: d.sku, name: d.name, price: Number(d.price), regular: Number(d.regular),
      by_weight: d.weight === 'true', unit: d.unit, quantity,
    });
  }
  writeCart(lines);
  toast(root.dataset.added);
}

/** What a line costs at its estimated price: per kg for goods sold by weight (grams). */
const lineAmount = (l) => (l.by_weight ? Math.round((l.price * l.quantity) / 1000) : l.price * l.quantity);
const stepOf = (l) => (l.by_weight ? 500 : 1);
const showQty = (l) => (l.by_weight ? `${(l.quantity / 1000).toFixed(3)} kg` : `× ${l.quantity}`);

function showCartCount() {
  const count = readCart().reduce((n, l) => n + (l.by_weight ? 1 : l.quantity), 0);
  for (const el of document.querySelectorAll('[data-cart-count]')) el.textContent = count ? String(count) : '';
}
showCartCount();

// ---- pages ---------------------------------------------------------------------------------

const pages = {
  locate() {
    const section = document.getElementById('locate');
    const strings = document.getElementById('locate-strings').dataset;
    const form = document.getElementById('point-form');
    const list = document.getElementById('nearby');
    const next = section.dataset.next || '/m';
    const district = document.getElementById('district');
    district.addEventListener('change', () => {
      if (!district.value) return;
      const [lat, lng] = district.value.split(',');
      form.lat.value = lat; form.lng.value = lng;
    });
    async function find(lat, lng, coord) {
      localStorage.setItem(LAST_POINT, JSON.stringify({ lat, lng }));
      const found = await api('GET', `/stores/nearest?lat=${lat}&lng=${lng}&limit=5${coord ? `&coord=${coord}` : ''}`);
      list.replaceChildren();
      document.getElementById('nearby-section').hidden = false;
      if (!found.items.length) {
        const li = document.createElement('li');
        li.className = 'card muted';
        li.textContent = strings.none;
        list.append(li);
        return;
      }
      const template = document.getElementById('store-item');
      for (const n of found.items) {
        const li = template.content.firstElementChild.cloneNode(true);
        li.querySelector('[data-name]').textContent = n.store.name;
        li.querySelector('[data-address]').textContent = n.store.address;
        li.querySelector('[data-distance]').textContent = n.distance_m >= 1000
          ? `${(n.distance_m / 1000).toFixed(1)} ${strings.km}` : `${n.distance_m} ${strings.m}`;
        const delivers = li.querySelector('[data-delivers]');
        delivers.textContent = n.delivers ? strings.delivers : strings.noDelivery;
        delivers.classList.add(n.delivers ? 'ok' : 'warn');
        const open = li.querySelector('[data-open]');
        open.textContent = n.open_now ? strings.open : strings.closed;
        open.classList.add(n.open_now ? 'ok' : 'danger');
        li.querySelector('[data-choose]').addEventListener('click', () => {
          chooseStore(n.store.id);
          location.href = next;
        });
        list.append(li);
      }
      list.querySelector('[data-choose]')?.focus();
    }
    bindForm(form, async (data) => {
      if (!data.lat || !data.lng) throw fieldError('lat', strings.pointRequired);
      await find(data.lat.trim(), data.lng.trim());
    });
    document.getElementById('use-location').addEventListener('click', (event) => {
      const button = event.currentTarget;
      clearErrors(form);
      if (!navigator.geolocation) { showError(form, { message: strings.geoDenied }); return; }
      button.setAttribute('aria-busy', 'true');
      navigator.geolocation.getCurrentPosition(async (pos) => {
        button.removeAttribute('aria-busy');
        const { latitude, longitude } = pos.coords;
        form.lat.value = latitude.toFixed(6); form.lng.value = longitude.toFixed(6);
        // A browser reports GPS (WGS-84); stores are kept in GCJ-02.
        try { await find(latitude.toFixed(6), longitude.toFixed(6), 'wgs84'); } catch (err) { showError(form, err); }
      }, () => {
        button.removeAttribute('aria-busy');
        showError(form, { message: strings.geoDenied });
      }, { timeout: 10000, maximumAge: 60000 });
    });
  },

  home() {
    for (const b of document.querySelectorAll('[data-add]')) {
      b.addEventListener('click', () => addToCart(b, b.dataset.weight === 'true' ? 500 : 1));
    }
  },

  product() {
    const form = document.getElementById('add-form');
    if (!form) return;
    const input = form.quantity;
    const step = Number(input.dataset.stepSize);
    const max = Number(input.dataset.max);
    for (const b of form.querySelectorAll('[data-step]')) {
      b.addEventListener('click', () => {
        const value = Math.max(step, Math.min(max, (Number(input.value) || 0) + Number(b.dataset.step) * step));
        input.value = String(value);
      });
    }
    bindForm(form, async (data) => {
      const quantity = Number(data.quantity);
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > max) {
        throw fieldError('quantity', `1 – ${max}`);
      }
      addToCart(form, quantity);
    });
  },

  cart() {
    const list = document.getElementById('cart-lines');
    if (!list) return;
    const template = document.getElementById('cart-line');
    function draw() {
      const lines = readCart();
      list.replaceChildren();
      document.getElementById('cart-empty').hidden = lines.length > 0;
      document.getElementById('cart-total').hidden = lines.length === 0;
      lines.forEach((l, i) => {
        const li = template.content.firstElementChild.cloneNode(true);
        li.querySelector('[data-name]').textContent = l.name;
        li.querySelector('[data-amount]').textContent = money(lineAmount(l));
        li.querySelector('[data-unit-price]').textContent = `${money(l.price)}${l.by_weight ? '/kg' : ''}`;
        li.querySelector('[data-qty]').textContent = showQty(l);
        li.querySelector('[data-inc]').addEventListener('click', () => { l.quantity += stepOf(l); save(lines); });
        li.querySelector('[data-dec]').addEventListener('click', () => {
          l.quantity -= stepOf(l);
          if (l.quantity <= 0) lines.splice(i, 1);
          save(lines);
        });
        li.querySelector('[data-remove]').addEventListener('click', () => { lines.splice(i, 1); save(lines); });
        list.append(li);
      });
      const total = lines.reduce((sum, l) => sum + lineAmount(l), 0);
      document.querySelector('#cart-total [data-total]').textContent = money(total);
    }
    function save(lines) { writeCart(lines); draw(); }
    draw();
  },

  login() {
    const form = document.getElementById('login-form');
    const send = document.getElementById('send-code');
    let timer;
    function countdown(seconds) {
      clearInterval(timer);
      send.disabled = true;
      const tick = () => {
        if (seconds <= 0) { clearInterval(timer); send.disabled = false; send.textContent = send.dataset.label; return; }
        send.textContent = send.dataset.wait.replace('SECONDS', String(seconds));
        seconds -= 1;
      };
      tick();
      timer = setInterval(tick, 1000);
    }
    send.addEventListener('click', async () => {
      clearErrors(form);
      send.disabled = true;
      try {
        const sent = await api('POST', '/shop/login-codes', { phone: form.phone.value.trim() });
        document.getElementById('code-sent').hidden = false;
        countdown(sent.resend_after_s);
        form.code.focus();
      } catch (err) {
        send.disabled = false;
        showError(form, err);
        if (err.code === 'login_code_too_soon') {
          const wait = Number(/\d+/.exec(err.message)?.[0] || 60);
          countdown(wait);
        }
      }
    });
    bindForm(form, async (data) => {
      await api('POST', '/shop/sessions', {
        phone: (data.phone || '').trim(), code: (data.code || '').trim(), store_id: storeId || null,
      });
      location.href = form.dataset.next || '/m/me';
    });
  },

  checkout() {
    const form = document.getElementById('checkout-form');
    const strings = document.getElementById('checkout-strings').dataset;
    const breakdown = document.getElementById('breakdown');
    const lines = readCart();
    const fields = document.getElementById('delivery-fields');
    const last = JSON.parse(localStorage.getItem(LAST_POINT) || 'null');
    if (last) { form.lat.value = last.lat; form.lng.value = last.lng; }
    const channel = () => form.querySelector('[name=channel]:checked').value;
    const couponIds = () => [...form.querySelectorAll('[name=coupon]:checked')].map((c) => c.value);
    const points = () => {
      const raw = form.points.value.trim();
      return raw === '' ? null : Number(raw);
    };
    const cartLines = () => lines.map((l) => ({ sku_id: l.sku_id, quantity: l.quantity }));
    const ruleName = (source) => strings[{ member_price: 'memberPrice', coupon: 'coupon', promotion: 'promotion' }[source.split(':')[0]]] || source.split(':')[0];
    let quoting = 0;

    async function requote() {
      clearErrors(form);
      if (!lines.length) { breakdown.innerHTML = `<p class="muted">${esc(strings.empty)}</p>`; return; }
      const mine = ++quoting;
      breakdown.setAttribute('aria-busy', 'true');
      try {
        const q = await api('POST', '/shop/price-quotes', {
          store_id: form.dataset.store, channel: channel(), lines: cartLines(),
          coupon_ids: couponIds(), points: points(),
        });
        if (mine !== quoting) return;
        const rows = [`<div class="row spread small"><span>${esc(strings.subtotal)}</span><span class="num">${money(q.subtotal)}</span></div>`];
        for (const a of q.applied) {
          rows.push(`<div class="row spread small"><span>${esc(a.name || ruleName(a.source))} <span class="muted">${esc(a.rule)}</span></span><span class="num">${money(a.amount)}</span></div>`);
        }
        if (q.points_used) rows.push(`<div class="row spread small"><span>${esc(strings.points)} (${q.points_used})</span><span class="num">${money(-q.points_value)}</span></div>`);
        if (channel() === 'delivery') rows.push(`<div class="row spread small"><span>${esc(strings.deliveryFee)}</span><span class="num">${money(q.delivery_fee)}</span></div>`);
        for (const r of q.rejected_coupons) {
          const box = form.querySelector(`[name=coupon][value="${CSS.escape(r.coupon_id)}"]`);
          rows.push(`<p class="field-error small">${esc(box?.parentElement.textContent.trim() || r.coupon_id)}: ${esc(strings.rejected)} (${esc(r.reason)})</p>`);
        }
        rows.push(`<div class="row spread"><strong>${esc(strings.total)}</strong><strong class="num">${money(q.total_payable)}</strong></div>`);
        breakdown.innerHTML = rows.join('');
        document.getElementById('payable').textContent = money(q.total_payable);
      } catch (err) {
        if (mine === quoting) { breakdown.innerHTML = ''; showError(form, err); }
      } finally {
        if (mine === quoting) breakdown.removeAttribute('aria-busy');
      }
    }

    form.addEventListener('change', (event) => {
      if (event.target.name === 'channel') fields.hidden = channel() !== 'delivery';
      if (['channel', 'coupon', 'points'].includes(event.target.name)) requote();
    });
    bindForm(form, async (data, key) => {
      const body = { channel: channel(), lines: cartLines(), coupon_ids: couponIds(), points: points() };
      // A chosen time is on the store's clock; the API answers one outside its hours next to it.
      if (data.promised_at) {
        body.promised_at = zonedInstant(data.promised_at, form.promised_at.dataset.timeZone);
        if (!body.promised_at) throw fieldError('promised_at', strings.whenMalformed);
      }
      if (channel() === 'pickup') body.store_id = form.dataset.store;
      else {
        body.delivery_address = data.delivery_address || null;
        if (data.lat && data.lng) body.delivery_location = { lat: Number(data.lat), lng: Number(data.lng) };
        else body.store_id = form.dataset.store;
      }
      const order = await api('POST', '/shop/orders', body, { key });
      writeCart([]);
      location.href = `/m/orders/${order.id}`;
    });
    requote();
  },

  order() {
    const form = document.getElementById('pay-form');
    if (!form) return;
    bindForm(form, async (_data, key) => {
      await api('POST', `/shop/orders/${form.dataset.order}/payments`, { amount: Number(form.dataset.amount) }, { key });
      toast(root.dataset.paid);
      location.reload();
    });
  },

  me() {
    document.getElementById('sign-out').addEventListener('click', async () => {
      try { await api('DELETE', '/shop/sessions/current'); } catch { /* already signed out */ }
      location.href = '/m';
    });
  },

  coupons() { claimButtons(); },
  claim() { claimButtons(); },

  invite() {
    for (const b of document.querySelectorAll('[data-copy]')) {
      b.addEventListener('click', async () => {
        const input = document.querySelector(b.dataset.copy);
        input.select();
        try { await navigator.clipboard.writeText(input.value); } catch { document.execCommand('copy'); }
        toast(b.dataset.copied);
      });
    }
  },

  flash() {
    const box = document.getElementById('flash');
    const strings = document.getElementById('flash-strings').dataset;
    const phase = box.querySelector('[data-phase]');
    const clock = box.querySelector('[data-clock]');
    const buy = document.getElementById('flash-buy');
    const starts = Date.parse(box.dataset.starts);
    const ends = Date.parse(box.dataset.ends);
    const two = (n) => String(n).padStart(2, '0');
    function tick() {
      const now = Date.now();
      const target = now < starts ? starts : ends;
      if (now >= ends) {
        phase.textContent = strings.over; clock.textContent = '00:00:00';
        if (buy) buy.disabled = true;
        return false;
      }
      phase.textContent = now < starts ? strings.startsIn : strings.endsIn;
      const s = Math.max(0, Math.floor((target - now) / 1000));
      const days = Math.floor(s / 86400);
      const hms = `${two(Math.floor((s % 86400) / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
      clock.textContent = days > 0 ? `${strings.days.replace('{n}', days)} ${hms}` : hms;
      if (buy) buy.disabled = now < starts;
      return true;
    }
    if (tick()) { const timer = setInterval(() => { if (!tick()) clearInterval(timer); }, 1000); }
    const form = document.getElementById('flash-form');
    if (!buy) return;
    bindForm(form, async (_data, key) => {
      const reservation = await api('POST', `/shop/flash-sales/${box.dataset.sale}/reservations`, { quantity: 1 }, { key: `${key}:reserve` });
      const order = await api('POST', '/shop/orders', {
        channel: 'pickup', store_id: box.dataset.store, flash_reservation_id: reservation.id,
      }, { key: `${key}:order` });
      location.href = `/m/orders/${order.id}`;
    });
  },
};

function claimButtons() {
  for (const b of document.querySelectorAll('[data-claim]')) {
    b.dataset.key = newKey();
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        await api('POST', `/shop/coupon-templates/${b.dataset.claim}/claims`, {}, { key: b.dataset.key });
        toast(root.dataset.claimed);
        setTimeout(() => { location.href = b.dataset.after || location.pathname; }, 600);
      } catch (err) {
        b.disabled = false;
        toast(err.message, true);
      }
    });
  }
}

pages[page]?.();
