// The HQ admin reads the business in the console: the dashboard's numbers and charts, a coupon
// template created on the marketing page and then seen at work in the quote playground, an
// order's timeline, a member's single customer view, and an audience counted while typing
// (with the position of a syntax error marked).
import { assert, loginStaff, waitText } from '../lib.mjs';

export const name = 'admin console: dashboard, marketing, orders, members, audiences';

export default async function ({ context, shot }) {
  const ctx = await context({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await loginStaff(page, 'admin', { next: '/admin' });

  // Dashboard: KPI numbers and server-drawn SVG charts.
  assert.equal(new URL(page.url()).pathname, '/admin');
  const sales30 = await page.locator('[data-kpi="sales-30d"] .value').textContent();
  assert.match(sales30, /^¥\d[\d,]*\.\d\d$/);
  assert.notEqual(sales30, '¥0.00', 'the demo chain sold something in 30 days');
  assert.match(await page.locator('[data-kpi="online-share"] .value').textContent(), /%/);
  assert.ok(await page.locator('.chart-daily svg[viewBox="0 0 720 280"]').count());
  assert.ok(await page.locator('.chart-channels svg rect').count() > 1);
  await shot(page, '10-admin-dashboard');

  // Marketing: a new 满减 template, then the playground uses it on a member's cart.
  await page.getByRole('link', { name: '营销' }).click();
  await page.waitForURL(/\/admin\/marketing/);
  await page.locator('#new-coupon > summary').click();
  const couponName = `试算满减券 ${Date.now() % 100000}`;
  const form = page.locator('#coupon-template-form');
  await form.getByLabel('名称', { exact: true }).fill(couponName);
  await form.getByLabel(/门槛金额/).fill('1');
  // A malformed amount is explained next to its field.
  await form.getByLabel(/减免金额/).fill('5.555');
  await form.getByRole('button', { name: '创建模板' }).click();
  await form.locator('#f-amount-error:not([hidden])').waitFor();
  await form.getByLabel(/减免金额/).fill('0.50');
  await Promise.all([page.waitForLoadState('load'), form.getByRole('button', { name: '创建模板' }).click()]);
  await page.locator('[data-coupon-templates]').getByText(couponName).waitFor();
  await shot(page, '10-admin-marketing');

  // A bundle (组合价): two SKUs sold together at one price, a week from now.
  await page.locator('#new-promotion > summary').click();
  const promo = page.locator('#promotion-form');
  const bundleName = `早餐组合 ${Date.now() % 100000}`;
  await promo.getByLabel('名称', { exact: true }).fill(bundleName);
  await promo.locator('[data-promo-type]').selectOption('bundle');
  const items = promo.locator('[data-bundle-item]');
  assert.equal(await items.count(), 2, 'a set starts with two rows');
  const choices = await items.nth(0).locator('select option:not([data-by-weight])').evaluateAll((os) => os.map((o) => o.value));
  await items.nth(0).locator('select').selectOption(choices[0]);
  await items.nth(1).locator('select').selectOption(choices[1]);
  await items.nth(1).getByLabel('数量').fill('2');
  await promo.getByLabel(/组合价/).fill('9.90');
  const day = (offset) => new Date(Date.now() + offset * 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 16);
  await promo.locator('[name=starts_at]').fill(day(0));
  await promo.locator('[name=ends_at]').fill(day(7));
  await Promise.all([page.waitForLoadState('load'), promo.getByRole('button', { name: '创建活动' }).click()]);
  const row = page.locator('#promotions tr', { hasText: bundleName });
  await waitText(row, '组合价');

  const quote = page.locator('#quote-form');
  await quote.getByLabel('会员手机号').fill(await firstMemberPhone(page));
  await quote.getByRole('button', { name: '查找' }).click();
  await quote.locator('[data-wallet]:not([hidden])').waitFor();
  const option = quote.locator('[data-give-template] option', { hasText: couponName });
  await quote.locator('[data-give-template]').selectOption(await option.getAttribute('value'));
  await quote.getByRole('button', { name: '发给这位会员' }).click();
  await quote.locator('[name=coupon]:checked').waitFor();
  const line = quote.locator('[data-line]').first();
  const unitSku = await line.locator('select option:not([data-by-weight])').first().getAttribute('value');
  await line.locator('select').selectOption(unitSku);
  await line.getByLabel('数量').fill('2');
  await quote.getByRole('button', { name: '试算' }).click();
  const applied = page.locator('[data-quote-applied]');
  await waitText(applied, couponName);
  assert.match(await applied.textContent(), /-¥0\.50/);
  await shot(page, '10-admin-quote');

  // A SKU beyond the head of the catalog is found by typing in the picker's search box.
  const last = await page.evaluate(async () => {
    const response = await fetch('/api/v1/skus?sort=-code&limit=1', { headers: { accept: 'application/json' } });
    return (await response.json()).items[0];
  });
  assert.equal(await quote.locator(`[data-line] select option[value="${last.id}"]`).count(), 0, 'not offered at first');
  await quote.locator('[data-add-line]').click();
  const second = quote.locator('[data-line]').nth(1);
  await second.locator('[data-sku-search]').fill(last.code);
  await second.locator(`select option[value="${last.id}"]`).waitFor({ state: 'attached' });
  assert.equal(await second.locator('select').inputValue(), last.id, 'the match is chosen');

  // Orders: the newest order's page shows its timeline.
  await page.getByRole('link', { name: '订单' }).first().click();
  await page.waitForURL(/\/admin\/orders/);
  assert.ok(await page.locator('tbody a.mono').count() > 1);
  await shot(page, '10-admin-orders');
  await page.locator('tbody a.mono').first().click();
  await page.waitForURL(/\/admin\/orders\/[0-9a-f-]{36}/);
  assert.ok(await page.locator('[data-timeline] li').count() >= 1);
  await waitText(page.locator('[data-timeline]'), /创建|支付/);
  await shot(page, '10-admin-order');

  // Members: the single customer view.
  await page.goto('/admin/members');
  await page.locator('tbody a').first().click();
  await page.waitForURL(/\/admin\/members\/[0-9a-f-]{36}/);
  await waitText(page.locator('main'), /RFM/);
  assert.ok(await page.locator('[data-stage]').count());
  await shot(page, '10-admin-member');

  // Referral: settings, promoters with balances, payouts.
  await page.getByRole('link', { name: '推广分销' }).click();
  await page.waitForURL(/\/admin\/referral/);
  await page.locator('#rules-form').waitFor();
  await shot(page, '10-admin-referral');

  // Audiences: the count follows the expression while typing; a malformed one is marked.
  await page.getByRole('link', { name: '人群' }).click();
  await page.waitForURL(/\/admin\/audiences/);
  const editor = page.getByLabel('人群表达式');
  const live = page.locator('[data-live-count]');
  await editor.pressSequentially('orders_365d >= 1', { delay: 20 });
  await waitText(live, /^[\d,]+ 人$/);
  const wide = Number(await live.getAttribute('data-count'));
  assert.ok(wide > 0, `members with an order: ${wide}`);
  await editor.pressSequentially(' and orders_365d >= 4', { delay: 20 });
  await page.waitForFunction((before) => {
    const el = document.querySelector('[data-live-count]');
    return el.dataset.count !== undefined && Number(el.dataset.count) !== before;
  }, wide);
  const narrow = Number(await live.getAttribute('data-count'));
  assert.ok(narrow < wide, `narrowing the audience lowers the count: ${wide} → ${narrow}`);
  await shot(page, '10-admin-audience-count');

  await editor.fill('');
  await editor.pressSequentially('orders_365d >= and stage = "growth"', { delay: 20 });
  const error = page.locator('#f-expression-error:not([hidden])');
  await waitText(error, /第 1 行第 \d+ 列/);
  const marked = page.locator('#expr-mark mark');
  await marked.waitFor();
  assert.equal(await marked.getAttribute('data-error-at'), String('orders_365d >= '.length));
  assert.equal(await editor.getAttribute('aria-invalid'), 'true');
  await shot(page, '10-admin-audience-error');
}

/** A member's phone number, read from the single customer view of the first member listed. */
async function firstMemberPhone(page) {
  const probe = await page.context().newPage();
  await probe.goto('/admin/members');
  await probe.locator('tbody a').first().click();
  await probe.waitForURL(/\/admin\/members\/[0-9a-f-]{36}/);
  const phone = (await probe.locator('dl.facts dd.mono').first().textContent()).trim();
  await probe.close();
  return phone;
}
