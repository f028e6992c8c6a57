// A cashier at SH001 rings up a sale on a 1024×768 till: two items scanned by barcode (typed as
// a wedge scanner does, then Enter), an unknown barcode explained next to the field, a weighed
// item, the member found by phone with one of their coupons applied; the sale is held for the
// next customer and resumed, paid in cash with change, and its receipt shown; then one line is
// refunded from today's sales and the receipt shows it.
import { apiToken, assert, callApi, loginStaff, waitText } from '../lib.mjs';

export const name = 'POS: scan, weigh, member coupon, hold/resume, cash, receipt, refund';

/** A 13-digit GTIN with a valid check digit that no demo SKU carries. */
function unknownGtin(taken) {
  for (let n = 200000000000; ; n += 1) {
    const body = String(n);
    let sum = 0;
    [...body].reverse().forEach((d, i) => { sum += Number(d) * (i % 2 === 0 ? 3 : 1); });
    const code = body + String((10 - (sum % 10)) % 10);
    if (!taken.has(code)) return code;
  }
}

/** Finds what the journey sells: two packaged items and one weighed item in stock at the store. */
async function setup(baseURL) {
  const admin = await apiToken(baseURL, 'admin');
  const cashier = await apiToken(baseURL, 'cashier-sh001');
  const stores = await callApi(baseURL, admin, 'GET', '/stores?limit=500');
  const store = stores.items.find((s) => s.code === 'SH001');
  const skus = (await callApi(baseURL, admin, 'GET', '/skus?limit=500')).items.filter((s) => s.barcode && s.status === 'active');
  const packaged = [];
  let weighed = null;
  for (const sku of skus) {
    if (packaged.length >= 2 && weighed) break;
    if (sku.sold_by_weight ? weighed : packaged.length >= 2) continue;
    const found = await callApi(baseURL, cashier, 'GET', `/stores/${store.id}/till-items?barcode=${sku.barcode}`);
    const item = found.items[0];
    if (!item || !item.available) continue;
    if (item.sold_by_weight && item.stock_available >= 2000) weighed = item;
    if (!item.sold_by_weight && item.stock_available >= 5 && item.price >= 500) packaged.push(item);
  }
  assert.equal(packaged.length, 2, 'two packaged items in stock at SH001');
  assert.ok(weighed, 'a weighed item in stock at SH001');

  // A demo member with a phone number (of any store: members shop anywhere), given a
  // no-threshold coupon for the till.
  const customers = await callApi(baseURL, admin, 'GET', '/customers?limit=20');
  let member = null;
  for (const c of customers.items) {
    const profile = await callApi(baseURL, admin, 'GET', `/customers/${c.id}`);
    const phone = profile.identities.find((i) => i.kind === 'phone');
    if (phone) { member = { id: c.id, phone: phone.value, name: profile.display_name }; break; }
  }
  assert.ok(member, 'a demo member with a phone');
  const template = await callApi(baseURL, admin, 'POST', '/coupon-templates', {
    name: '收银台立减 5 元', type: 'amount_off', amount: 500, threshold: 0, valid_days: 30, channels: ['store'],
  }, `e2e-pos-template-${Date.now()}`);
  const coupon = await callApi(baseURL, admin, 'POST', `/coupon-templates/${template.id}/coupons`,
    { customer_id: member.id }, `e2e-pos-coupon-${Date.now()}`);
  return { packaged, weighed, member, coupon, unknown: unknownGtin(new Set(skus.map((s) => s.barcode))) };
}

/** Types `code` where the focus is (the barcode field when the till is idle) and presses Enter. */
async function scan(page, code) {
  assert.equal(await page.evaluate(() => document.activeElement.id), 'barcode', 'the barcode field has focus when idle');
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
}

export default async function ({ context, baseURL, shot }) {
  const { packaged, weighed, member, coupon, unknown } = await setup(baseURL);
  const ctx = await context({ viewport: { width: 1024, height: 768 }, hasTouch: true });
  const page = await ctx.newPage();
  page.on('dialog', (d) => d.accept());
  await loginStaff(page, 'cashier-sh001');
  assert.equal(new URL(page.url()).pathname, '/pos');
  await page.locator('#barcode').waitFor();
  const rows = page.locator('#cart-lines tr');

  // Two packaged items, one of them twice: the second scan adds to its line.
  await scan(page, packaged[0].barcode);
  await waitText(page.locator('#cart-lines'), packaged[0].name);
  await scan(page, packaged[1].barcode);
  await scan(page, packaged[1].barcode);
  await waitText(page.locator('#cart-lines tr:nth-child(2) .qty-value'), /^2$/);
  assert.equal(await rows.count(), 2);

  // An unknown barcode is explained next to the field, and the field keeps the focus.
  await scan(page, unknown);
  await waitText(page.locator('#barcode-error'), /没有找到这个条码的商品/);
  await shot(page, '20-pos-unknown-barcode');
  await page.locator('#barcode').fill('');

  // Search by name (F3) as the fallback: arrows and Enter pick a result.
  await page.keyboard.press('F3');
  await page.locator('#search-dialog[open]').waitFor();
  await page.keyboard.type(packaged[0].code);
  await page.keyboard.press('Enter');
  await page.locator('#search-results button').first().waitFor();
  await shot(page, '20-pos-search');
  const picked = await page.evaluate(() => document.activeElement.textContent);
  await page.keyboard.press('Enter');
  await page.locator('#search-dialog:not([open])').waitFor({ state: 'attached' });
  await waitText(page.locator('#cart-lines'), picked.trim().split(/\s+/)[0]);
  const afterSearch = await rows.count();
  assert.ok(afterSearch >= 2, 'the picked item is in the cart');

  // The weighed item asks for grams.
  await scan(page, weighed.barcode);
  await page.locator('#weight-dialog[open]').waitFor();
  await page.locator('#grams').fill('0');
  await page.keyboard.press('Enter');
  await waitText(page.locator('#grams-error'), /克数/);
  await page.locator('#grams').fill('1250');
  await page.keyboard.press('Enter');
  const weighedRow = page.locator('#cart-lines tr').last();
  await waitText(weighedRow, /1\.250 kg/);
  await waitText(weighedRow.locator('.amount'), /¥\d/);
  const noScroll = await page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight);
  assert.ok(noScroll, 'the till fits 1024×768 without scrolling');
  await shot(page, '20-pos-cart');

  // Someone new is registered at the till when the phone finds no member.
  await page.keyboard.press('F2');
  await page.locator('#member-dialog[open]').waitFor();
  await page.keyboard.type('13312345678');
  await page.keyboard.press('Enter');
  await waitText(page.locator('#value-error'), /没有找到这位会员/);
  await page.locator('#register-form:not([hidden])').waitFor();
  assert.equal(await page.locator('#register-phone').inputValue(), '13312345678');
  await page.locator('#register-name').fill('新顾客');
  await shot(page, '20-pos-register');
  await page.getByRole('button', { name: '注册会员' }).click();
  await page.locator('#member-dialog:not([open])').waitFor({ state: 'attached' });
  await waitText(page.locator('#member-name'), '新顾客');
  await page.locator('[data-action="member-clear"]').click();
  await page.locator('#member-none:not([hidden])').waitFor();

  // The member, by phone (F2): tier, points and coupons; one coupon applied through the quote.
  const before = await page.locator('#sum-total').textContent();
  await page.keyboard.press('F2');
  await page.locator('#member-dialog[open]').waitFor();
  await page.keyboard.type(member.phone);
  await page.keyboard.press('Enter');
  await page.locator('#member-info:not([hidden])').waitFor();
  await waitText(page.locator('#member-phone'), member.phone);
  const couponBox = page.locator(`#coupon-list input[value="${coupon.id}"]`);
  await couponBox.check();
  await waitText(page.locator('#sum-applied'), /收银台立减 5 元/);
  const after = await page.locator('#sum-total').textContent();
  assert.notEqual(after, before, 'the member price and the coupon change the total');
  await shot(page, '20-pos-member-coupon');

  // Hold the sale (F4), serve someone else, then resume it (F6).
  await page.keyboard.press('F4');
  await page.locator('#cart-empty:not([hidden])').waitFor();
  await waitText(page.locator('#held-count'), /^1$/);
  assert.equal(await rows.count(), 0);
  await shot(page, '20-pos-held');
  await page.keyboard.press('F6');
  await page.locator('#held-dialog[open]').waitFor();
  await shot(page, '20-pos-held-list');
  await page.locator('#held-list button').first().click();
  await waitText(page.locator('#sum-total'), after);
  assert.equal(await rows.count(), afterSearch + 1);
  assert.ok(await couponBox.isChecked(), 'the coupon stays chosen');
  await waitText(page.locator('#held-count'), /^0$/);

  // Pay cash (F8): a round amount, the change shown before confirming.
  const total = after.replace(/[^\d.]/g, '');
  const tendered = String((Math.floor(Number(total.split('.')[0]) / 100) + 1) * 100);
  await page.keyboard.press('F8');
  await page.locator('#pay-dialog[open]').waitFor();
  await page.locator('#tendered').fill('1');
  await page.keyboard.press('Enter');
  await waitText(page.locator('#tendered-error'), /不足/);
  await page.locator('#tendered').fill(tendered);
  await waitText(page.locator('#change'), /¥\d/);
  const change = await page.locator('#change').textContent();
  await shot(page, '20-pos-pay');
  await Promise.all([page.waitForURL(/\/pos\/receipts\//), page.keyboard.press('Enter')]);

  // The receipt: lines, the coupon, total, paid, change, the member and points earned.
  const receipt = page.locator('.receipt');
  await waitText(receipt, packaged[0].name);
  await waitText(page.locator('[data-total]'), after);
  await waitText(page.locator('[data-change]'), change);
  await waitText(receipt, /优惠券/);
  await waitText(receipt, member.phone.slice(-4));
  assert.ok(Number(await page.locator('[data-points-earned]').textContent()) > 0, 'points earned');
  const receiptNo = (await page.locator('[data-receipt-no]').textContent()).trim();
  await shot(page, '20-pos-receipt');
  await page.emulateMedia({ media: 'print' });
  await shot(page, '20-pos-receipt-print');
  await page.emulateMedia({ media: 'screen' });

  // Refund one unit of the first line from today's sales (F7).
  await page.goto('/pos');
  await page.locator('#barcode').waitFor();
  assert.equal(await rows.count(), 0, 'a paid sale leaves the till empty');
  await page.keyboard.press('F7');
  await page.locator('#refund-dialog[open]').waitFor();
  await waitText(page.locator('#today-list'), receiptNo);
  await page.locator('#receipt-key').fill(receiptNo.toLowerCase());
  await page.keyboard.press('Enter');
  await page.locator('#refund-form:not([hidden])').waitFor();
  await page.locator('#refund-lines input').first().fill('1');
  await page.getByRole('button', { name: '确认退款' }).click();
  await waitText(page.locator('#refund-result'), /已退款 ¥\d/);
  await waitText(page.locator('#refund-order'), /部分退款/);
  await shot(page, '20-pos-refund');

  const refundedReceipt = await page.locator('#refund-receipt').getAttribute('href');
  await page.goto(refundedReceipt);
  await waitText(page.locator('[data-refunded]'), /¥\d/);
  await waitText(page.locator('.receipt'), /已退 1/);
  await shot(page, '20-pos-receipt-refunded');
}
