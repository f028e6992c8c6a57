// The shopping guide on their phone: guide-sh001 signs in, sees their customers with tags and
// lifecycle stage, opens one, completes a follow-up, copies a product share link, and — once a
// customer has bought through that link (placed through the API exactly as the mall places it:
// an online order carrying the link's `ref` as `promoter_code`, then paid) — sees the sale in
// My KPIs.
import { assert, callApi, loginStaff, waitText } from '../lib.mjs';

export const name = 'guide workbench: customers, follow-up, share link, attributed sale';

const TASK_TITLE = 'E2E 回访：新品试吃邀请';

/** `¥1,234.50`-free amounts as the pages print them (`¥1234.50`) → 分. */
function fen(text) {
  const m = /(-?)¥(\d+)\.(\d{2})/.exec(text);
  assert.ok(m, `no amount in ${text}`);
  return (m[1] ? -1 : 1) * (Number(m[2]) * 100 + Number(m[3]));
}

export default async function ({ context, baseURL, shot }) {
  // Setup as HQ: tag one of the guide's customers and hand that audience to their guides.
  const admin = (await callApi(baseURL, '', 'POST', '/auth/login', { login: 'admin', password: 'quanyu-demo' })).token;
  const staff = await callApi(baseURL, admin, 'GET', '/staff?role=guide&limit=500');
  const guide = staff.items.find((s) => s.username === 'guide-sh001');
  assert.ok(guide, 'the demo has guide-sh001');
  // A small demo may give SH001 no members: the guide then adds three of their own, as a guide
  // adds the customers they befriend (numbers outside the demo's prefixes, fixed per run).
  const guideToken = (await callApi(baseURL, '', 'POST', '/auth/login', { login: 'guide-sh001', password: 'quanyu-demo' })).token;
  const stamp = String(Date.now() % 100_000_000).padStart(8, '0');
  for (const [n, name] of ['周敏女士', '陈刚先生', '林小雨女士'].entries()) {
    await callApi(baseURL, guideToken, 'POST', '/customers', {
      identities: [{ kind: 'phone', value: `16${n}${stamp}` }], display_name: name, guide_id: guide.id,
    }, `e2e-guide-reg-${n}-${stamp}`);
  }
  const book = await callApi(baseURL, admin, 'GET', `/staff/${guide.id}/customer-book?limit=5`);
  assert.ok(book.items.length >= 3, 'guide-sh001 has customers');
  const target = book.items[0];
  await callApi(baseURL, admin, 'POST', '/tags', { name: 'E2E回访', kind: 'manual' });
  await callApi(baseURL, admin, 'POST', `/customers/${target.id}/tags`, { tag: 'E2E回访' });
  const audience = await callApi(baseURL, admin, 'POST', '/audiences', { name: 'E2E 回访人群', expression: '#E2E回访' });
  await callApi(baseURL, admin, 'POST', `/audiences/${audience.id}/guide-tasks`, { title: TASK_TITLE });

  const ctx = await context({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await ctx.newPage();
  await loginStaff(page, 'guide-sh001');
  assert.equal(new URL(page.url()).pathname, '/guide', 'a guide lands on the workbench');

  // My customers: cards with stage badges and tags.
  const cards = page.locator('.customer-card');
  assert.ok(await cards.count() > 0, 'customers are listed');
  assert.ok(await page.locator('.customer-card .badge[class*="stage-"]').count() > 0, 'stages are shown');
  await waitText(page.locator('.cards'), 'E2E回访');
  await shot(page, '40-guide-customers');
  // Keyboard: the first Tab reaches the skip link, which shows itself with a focus ring.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip-link');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');

  // Search by the customer's phone digits, then open them.
  const digits = (target.phone || '').slice(-4);
  if (digits) {
    await page.getByLabel('搜索姓名或手机号').fill(digits);
    await Promise.all([page.waitForURL(/q=/), page.getByRole('button', { name: '搜索' }).click()]);
  }
  await Promise.all([page.waitForURL(`**/guide/c/${target.id}`), page.locator(`a[href="/guide/c/${target.id}"]`).first().click()]);
  await waitText(page.locator('main'), TASK_TITLE);
  assert.ok(!/1[3-9]\d{9}/.test(await page.locator('main').textContent()), 'no full phone number on the page');
  await shot(page, '40-guide-customer');

  // Follow-ups: the new task is due; complete it with a note.
  await Promise.all([page.waitForURL('**/guide/tasks'), page.getByRole('link', { name: '任务' }).click()]);
  const task = page.locator('[data-task]', { hasText: TASK_TITLE });
  await task.waitFor();
  await shot(page, '40-guide-tasks');
  await task.getByLabel('联系记录').fill('已电话联系，周末到店试吃');
  await task.getByRole('button', { name: '完成' }).click();
  await task.waitFor({ state: 'detached' });
  const open = await callApi(baseURL, admin, 'GET', `/staff/${guide.id}/tasks?status=done`);
  assert.ok(open.items.some((t) => t.title === TASK_TITLE && t.note === '已电话联系，周末到店试吃'), 'the task is done with its note');

  // KPIs before the sale.
  await Promise.all([page.waitForURL('**/guide/kpis'), page.getByRole('link', { name: '业绩' }).click()]);
  const before = fen(await page.locator('[data-kpi="sales-month"]').textContent());

  // Share: find a product this store sells online, pick it, copy its link.
  await Promise.all([page.waitForURL('**/guide/share'), page.getByRole('link', { name: '分享' }).click()]);
  await page.getByLabel('搜索本店线上商品').fill('牛奶');
  await Promise.all([page.waitForURL(/q=/), page.getByRole('button', { name: '搜索' }).click()]);
  const pick = page.locator('.pick-list a.pick').first();
  await pick.waitFor();
  await Promise.all([page.waitForURL(/sku=/), pick.click()]);
  const link = await page.locator('[data-share-link]').inputValue();
  const match = /\/m\/p\/([0-9a-f-]{36})\?ref=([A-Za-z0-9]+)$/.exec(link);
  assert.ok(match, `a product link with the guide's code: ${link}`);
  assert.ok(link.startsWith(baseURL), 'an absolute link a customer can open');
  await page.getByRole('button', { name: '复制' }).click();
  await waitText(page.locator('.toast'), '链接已复制');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, 'the link is on the clipboard');
  assert.ok(await page.locator('.qr svg').count() === 1, 'a QR code is drawn');
  await shot(page, '40-guide-share');

  // A customer buys through the link: the mall sends `ref` as the order's promoter_code.
  const [, skuId, code] = match;
  const order = await callApi(baseURL, admin, 'POST', '/orders', {
    store_id: guide.store_id, channel: 'pickup', customer_id: target.id, promoter_code: code,
    lines: [{ sku_id: skuId, quantity: 1 }],
  }, `e2e-guide-order-${Date.now()}`);
  await callApi(baseURL, admin, 'POST', `/orders/${order.id}/payments`, { method: 'cash', amount: order.total }, `e2e-guide-pay-${order.id}`);

  // My KPIs show the attributed sale.
  await Promise.all([page.waitForURL('**/guide/kpis'), page.getByRole('link', { name: '业绩' }).click()]);
  const after = fen(await page.locator('[data-kpi="sales-month"]').textContent());
  assert.equal(after - before, order.total, 'the sale through the link counts for the guide');
  assert.ok(await page.locator('.chart rect.bar').count() === 6, 'six months of bars');
  await shot(page, '40-guide-kpis');

  // The same page in English.
  await page.getByRole('link', { name: 'English' }).click();
  await page.waitForURL('**/guide/kpis');
  await waitText(page.locator('h1'), 'My KPIs');
  await shot(page, '40-guide-kpis-en');
}
