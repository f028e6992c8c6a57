// The H5 mall on a phone: a customer finds the nearest store to People's Square, browses, adds
// to the cart, signs in with phone and the one-time code (read from the demo server's log, where
// its SMS provider writes), picks a pickup time when the store is closed and is told its hours
// next to the time field, orders for pickup, pays with stored value, sees the pickup code in
// "my orders", sees how far a delivery goes on its order page, then opens their coupons and
// their invite QR code.
import { assert, waitText } from '../lib.mjs';

export const name = 'mall: nearest store → cart → sign in by code → pickup order paid by stored value';

export default async function ({ context, shot, serverLog }) {
  const banner = /customer (1\d{10}) has ¥[\d.,]+ of stored value/.exec(serverLog());
  assert.ok(banner, 'the demo banner names a customer with stored value');
  const phone = banner[1];

  const ctx = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await ctx.newPage();

  // No store chosen yet: the mall opens on the store finder.
  await page.goto('/m');
  await page.getByRole('heading', { name: '附近门店' }).waitFor();
  await page.getByLabel('纬度').fill('31.2323');
  await page.getByLabel('经度').fill('121.4691');
  await page.getByRole('button', { name: '查找门店' }).click();
  const first = page.locator('#nearby .store-card').first();
  await first.waitFor();
  const distance = await first.locator('[data-distance]').textContent();
  assert.match(distance, /\d+(\.\d)? (公里|米)/);
  await waitText(first.locator('[data-delivers]'), /可配送到家|仅支持到店自提/);
  await shot(page, '30-mall-locate');
  const storeName = (await first.locator('[data-name]').textContent()).trim();
  await Promise.all([page.waitForURL(/\/m$/), first.getByRole('button', { name: '在这家店购物' }).click()]);

  // The store's flash sale (the demo runs one in every store) counts down to its end.
  await waitText(page.locator('.storebar-name'), storeName);
  await Promise.all([page.waitForURL(/\/m\/flash\//), page.locator('.flash-link').first().click()]);
  await waitText(page.locator('[data-clock]'), /\d+:\d\d:\d\d/);
  await shot(page, '30-mall-flash');
  await page.goto('/m');

  // Browse: a category, then a product in stock.
  await page.locator('.chips a.chip').nth(1).click();
  await page.waitForURL(/category=/);
  await page.locator('.products').waitFor();
  await shot(page, '30-mall-home');
  const card = page.locator('.product-card:has(button.add)').first();
  await Promise.all([page.waitForURL(/\/m\/p\//), card.locator('.product-link').click()]);
  await page.getByText('会员价').first().waitFor();
  await shot(page, '30-mall-product');
  await page.getByRole('button', { name: '加入购物车' }).click();
  await waitText(page.locator('.toast'), '已加入购物车');
  await waitText(page.locator('[data-cart-count]'), /[1-9]/);

  // The cart, then checkout asks to sign in.
  await Promise.all([page.waitForURL(/\/m\/cart$/), page.getByRole('link', { name: /购物车/ }).click()]);
  await page.locator('#cart-lines .cart-line').first().waitFor();
  await shot(page, '30-mall-cart');
  await Promise.all([page.waitForURL(/\/m\/login\?next=/), page.getByRole('link', { name: '去结算' }).click()]);

  // Sign in by phone and code: the code comes from the server log's "SMS to 138****1234: …".
  const masked = `${phone.slice(0, 3)}****${phone.slice(7)}`;
  await page.getByLabel('手机号').fill(phone);
  await page.getByRole('button', { name: '获取验证码' }).click();
  await waitText(page.locator('#send-code'), /秒后重发/);
  let code = null;
  for (let i = 0; i < 50 && !code; i += 1) {
    const sent = [...serverLog().matchAll(/SMS to (\d{3}\*{4}\d{4}): 您的验证码是 (\d{6})/g)].filter((m) => m[1] === masked);
    code = sent.length ? sent[sent.length - 1][2] : null;
    if (!code) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(code, `a code was sent to ${masked}`);
  // A wrong code first: the error shows next to the code field.
  await page.getByLabel('验证码').fill(code === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await waitText(page.locator('#code-error'), /验证码不正确/);
  await shot(page, '30-mall-login');
  await page.getByLabel('验证码').fill(code);
  await Promise.all([page.waitForURL(/\/m\/checkout$/), page.getByRole('button', { name: '登录', exact: true }).click()]);

  // Checkout for pickup, with the breakdown from the quote.
  await waitText(page.locator('#payable'), /¥\d+\.\d\d/);
  await waitText(page.locator('#breakdown'), /商品原价[\s\S]*应付/);
  await shot(page, '30-mall-checkout');
  // A time when the store is closed (half an hour before it opens, two days ahead, on the
  // store's clock) is refused next to the time field with the store's hours; then none is
  // chosen, for as soon as the store can.
  const when = page.locator('#promised_at');
  const hours = await when.getAttribute('data-hours');
  assert.match(hours, /^\d\d:\d\d-\d\d:\d\d$/);
  if (hours !== '00:00-24:00') {
    const [h, m] = hours.slice(0, 5).split(':').map(Number);
    const before = (h * 60 + m + 1440 - 30) % 1440;
    const two = (n) => String(n).padStart(2, '0');
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    await when.fill(`${day}T${two(Math.floor(before / 60))}:${two(before % 60)}`);
    await page.getByRole('button', { name: '提交订单' }).click();
    await waitText(page.locator('#promised_at-error'), new RegExp(`门店营业时间为 ${hours}.*门店下次营业时间为 ${day} ${hours.slice(0, 5)}`));
    assert.equal(await when.getAttribute('aria-invalid'), 'true');
    await shot(page, '30-mall-checkout-closed');
    await when.fill('');
  }
  await Promise.all([page.waitForURL(/\/m\/orders\/[0-9a-f-]+$/), page.getByRole('button', { name: '提交订单' }).click()]);
  await waitText(page.locator('#order-status'), '待支付');
  await page.getByText('微信支付即将上线').waitFor();
  await shot(page, '30-mall-order-unpaid');

  // Pay with stored value: the pickup code appears.
  await page.getByRole('button', { name: /储值支付/ }).click();
  await waitText(page.locator('#order-status'), '已支付');
  const pickup = await waitText(page.locator('#pickup-code'), /^\d{6}$/);
  await shot(page, '30-mall-order-paid');

  // My orders show it with its pickup code.
  await Promise.all([page.waitForURL(/\/m\/orders$/), page.getByRole('link', { name: '订单', exact: true }).click()]);
  await waitText(page.locator('.order-list .order-card').first(), new RegExp(`取货码\\s*${pickup}`));
  await shot(page, '30-mall-orders');

  // A delivery from the same store to a point 2.3 km north of it: its page says how far it goes
  // and shows the point in small print.
  const delivery = await page.evaluate(async () => {
    const call = async (method, path, body, key) => {
      const headers = { accept: 'application/json' };
      if (body) headers['content-type'] = 'application/json';
      if (key) headers['idempotency-key'] = key;
      const res = await fetch(`/api/v1${path}`, { method, headers, credentials: 'same-origin', body: body && JSON.stringify(body) });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const last = (await call('GET', '/shop/orders?limit=1')).items[0];
    const near = await call('GET', '/stores/nearest?lat=31.2323&lng=121.4691&limit=10');
    const { store } = near.items.find((n) => n.store.id === last.store_id);
    return call('POST', '/shop/orders', {
      store_id: store.id, channel: 'delivery', delivery_address: '北京东路 1 号',
      delivery_location: { lat: store.location.lat + 0.0207, lng: store.location.lng },
      lines: [{ sku_id: last.lines[0].sku_id, quantity: last.lines[0].quantity }],
    }, `e2e-mall-delivery-${Date.now()}`);
  });
  await page.goto(`/m/orders/${delivery.id}`);
  await waitText(page.locator('[data-delivery-distance]'), /^配送距离 2\.3 公里$/);
  await waitText(page.locator('[data-delivery-point]'), /送达坐标 \d+\.\d+, \d+\.\d+ GCJ-02/);
  await shot(page, '30-mall-order-delivery');

  // My coupons, and my invite link with its QR code.
  await page.goto('/m/me');
  await page.getByText('储值余额').waitFor();
  await shot(page, '30-mall-me');
  await Promise.all([page.waitForURL(/\/m\/coupons$/), page.getByRole('link', { name: '我的优惠券' }).click()]);
  await page.getByRole('heading', { name: '我的优惠券' }).waitFor();
  await shot(page, '30-mall-coupons');
  await page.goto('/m/invite');
  await page.locator('figure.qr svg').waitFor();
  const link = await page.getByLabel('邀请链接').inputValue();
  assert.match(link, /\/m\/i\/[0-9A-Z]{8}\?invite=/);
  await shot(page, '30-mall-invite');
}
