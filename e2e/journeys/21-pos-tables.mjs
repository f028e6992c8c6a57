// A cashier at SH001 keeps a table's bill (桌台, eat first and pay later): a bill is opened for
// table A3 with two items from the cart, a second bill for A3 is refused naming the first, one
// more item is added to A3's bill, its pre-settlement bill (预结单) is printed marked as not
// paid, and it is settled in cash: the order is completed and the stock sold. A bill opened for
// another table is voided after the cashier confirms.
import { apiToken, assert, callApi, loginStaff, waitText } from '../lib.mjs';

export const name = 'POS tables: open a bill for A3, add to it, pre-bill, settle in cash, void another';

/** Two packaged items in stock at SH001, with barcodes, to put on the table. */
async function setup(baseURL) {
  const admin = await apiToken(baseURL, 'admin');
  const cashier = await apiToken(baseURL, 'cashier-sh001');
  const store = (await callApi(baseURL, admin, 'GET', '/stores?limit=500')).items.find((s) => s.code === 'SH001');
  const skus = (await callApi(baseURL, admin, 'GET', '/skus?limit=500')).items
    .filter((s) => s.barcode && s.status === 'active' && !s.sold_by_weight);
  const items = [];
  for (const sku of skus.reverse()) {
    if (items.length >= 2) break;
    const item = (await callApi(baseURL, cashier, 'GET', `/stores/${store.id}/till-items?barcode=${sku.barcode}`)).items[0];
    if (item && item.available && item.stock_available >= 5) items.push(item);
  }
  assert.equal(items.length, 2, 'two packaged items in stock at SH001');
  const stock = async (item) => {
    const row = await callApi(baseURL, admin, 'GET', `/stores/${store.id}/stock/${item.sku_id}`);
    return { onHand: row.on_hand, reserved: row.reserved };
  };
  return { admin, items, stock };
}

async function scan(page, code) {
  assert.equal(await page.evaluate(() => document.activeElement.id), 'barcode', 'the barcode field has focus when idle');
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
}

/** Opens the tables view (F10) and waits for its list. */
async function openTables(page) {
  await page.keyboard.press('F10');
  await page.locator('#tables-dialog[open]').waitFor();
  await waitText(page.locator('#tables-count'), /^\d+$/);
}

export default async function ({ context, baseURL, shot }) {
  const { admin, items, stock } = await setup(baseURL);
  const before = await Promise.all(items.map(stock));
  const ctx = await context({ viewport: { width: 1024, height: 768 }, hasTouch: true });
  const page = await ctx.newPage();
  const confirmations = [];
  page.on('dialog', (d) => { confirmations.push(d.message()); d.accept(); });
  await loginStaff(page, 'cashier-sh001');
  assert.equal(new URL(page.url()).pathname, '/pos');
  await page.locator('#barcode').waitFor();
  const cart = page.locator('#cart-lines tr');

  // Two items in the cart become table A3's bill.
  await scan(page, items[0].barcode);
  await scan(page, items[1].barcode);
  await waitText(page.locator('#cart-lines tr:nth-child(2)'), items[1].name);
  await openTables(page);
  await page.locator('#table-label').fill('a3');
  await shot(page, '21-pos-tables-open');
  await page.keyboard.press('Enter');
  const a3 = page.locator('#tables-list tr[data-table="A3"]');
  await a3.waitFor();
  await waitText(a3, /A3/);
  assert.equal((await a3.locator('td.num').first().textContent()).trim(), '2', 'two items on the bill');
  assert.equal(await cart.count(), 0, 'the cart moved onto the bill');
  const billId = await a3.getAttribute('data-bill');
  const opened = await Promise.all(items.map(stock));
  items.forEach((_, i) => assert.equal(opened[i].reserved, before[i].reserved + 1, 'the bill holds its items'));
  await page.keyboard.press('Escape');

  // One more item: a second bill for A3 is refused, naming the open one; it goes on A3's bill.
  await scan(page, items[0].barcode);
  await waitText(page.locator('#cart-lines'), items[0].name);
  await openTables(page);
  await page.locator('#table-label').fill('A3');
  await page.keyboard.press('Enter');
  await waitText(page.locator('#table-error'), /A3 已有未结账单/);
  await page.locator('#tables-list tr.occupied[data-table="A3"]').waitFor();
  await shot(page, '21-pos-tables-occupied');
  await a3.getByRole('button', { name: '加菜 A3' }).click();
  await waitText(a3.locator('td.num').first(), /^3$/);
  assert.equal(await cart.count(), 0, 'the cart was added to the bill');
  await shot(page, '21-pos-tables-added');

  // The pre-settlement bill: its lines and what is due, marked as not paid yet.
  await Promise.all([page.waitForURL(/\/pos\/receipts\//), a3.getByRole('button', { name: '预结单 A3' }).click()]);
  await waitText(page.locator('[data-prebill]'), /预结单.*未结账/);
  await waitText(page.locator('[data-table]'), /^A3$/);
  assert.equal(await page.locator('.receipt-lines tbody tr').count(), 3);
  const due = (await page.locator('[data-due]').textContent()).trim();
  assert.equal(due, (await page.locator('[data-total]').textContent()).trim());
  await shot(page, '21-pos-prebill');
  await page.emulateMedia({ media: 'print' });
  await shot(page, '21-pos-prebill-print');
  await page.emulateMedia({ media: 'screen' });
  await Promise.all([page.waitForURL(/\/pos$/), page.keyboard.press('Escape')]);

  // Settled in cash from the tables view: the receipt shows the change and the order completed.
  await page.locator('#barcode').waitFor();
  await openTables(page);
  await a3.getByRole('button', { name: '结账 A3' }).click();
  await page.locator('#pay-dialog[open]').waitFor();
  await waitText(page.locator('#pay-title'), /桌台 A3/);
  await waitText(page.locator('#pay-due'), due);
  const tendered = String((Math.floor(Number(due.replace(/[^\d.]/g, '').split('.')[0]) / 100) + 1) * 100);
  await page.locator('#tendered').fill(tendered);
  await waitText(page.locator('#change'), /¥\d/);
  await shot(page, '21-pos-tables-settle');
  await Promise.all([page.waitForURL(new RegExp(`/pos/receipts/${billId}$`)), page.keyboard.press('Enter')]);
  await waitText(page.locator('.receipt-head'), /已完成/);
  assert.equal(await page.locator('[data-prebill]').count(), 0, 'a settled bill prints as a receipt');
  await waitText(page.locator('[data-change]'), /¥\d/);
  await shot(page, '21-pos-tables-receipt');
  const order = await callApi(baseURL, admin, 'GET', `/orders/${billId}`);
  assert.equal(order.status, 'completed');
  assert.equal(order.table, 'A3');
  const sold = await Promise.all(items.map(stock));
  assert.deepEqual(sold, [
    { onHand: before[0].onHand - 2, reserved: before[0].reserved },
    { onHand: before[1].onHand - 1, reserved: before[1].reserved },
  ], 'the settled bill sold its items');

  // Another table's bill is voided once the cashier confirms; its item goes back to stock.
  await page.goto('/pos');
  await page.locator('#barcode').waitFor();
  await scan(page, items[1].barcode);
  await waitText(page.locator('#cart-lines'), items[1].name);
  await openTables(page);
  assert.equal(await a3.count(), 0, 'A3 is free again');
  await page.locator('#table-label').fill('B2');
  await page.keyboard.press('Enter');
  const b2 = page.locator('#tables-list tr[data-table="B2"]');
  await b2.waitFor();
  await b2.getByRole('button', { name: '作废 B2' }).click();
  await b2.waitFor({ state: 'detached' });
  assert.ok(confirmations.some((m) => m.includes('B2')), 'voiding asked first');
  const after = await stock(items[1]);
  assert.deepEqual(after, sold[1], 'the voided bill gave its item back');
}
