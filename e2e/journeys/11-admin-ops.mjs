// The admin console's operations half, as HQ and as a region manager: the stores page with its
// scatter, a store's delivery radius, a store price override, a store's stock and one SKU's
// ledger, approving SH001's requisition, a loss report, and finding all of it in the audit log.
import { assert, loginStaff, waitText } from '../lib.mjs';

export const name = 'admin console: stores, catalog, inventory, documents, audit';

export default async function ({ context, shot }) {
  const ctx = await context();
  const page = await ctx.newPage();
  await loginStaff(page, 'admin', { next: '/admin/stores' });

  // Stores: the scatter links every store; SH001 is one of them.
  await page.locator('svg.scatter circle').first().waitFor();
  const dots = await page.locator('svg.scatter circle').count();
  assert.ok(dots >= 3, `a dot per store, got ${dots}`);
  await shot(page, '11-ops-stores');
  await page.getByRole('link', { name: 'SH001', exact: true }).click();
  await page.waitForURL(/\/admin\/stores\/[0-9a-f-]{36}$/);
  const storeUrl = page.url();
  const storeId = storeUrl.split('/').pop();
  const radius = page.getByLabel('配送半径（米）');
  const before = Number(await radius.inputValue());
  const after = before === 3500 ? 4000 : 3500;
  await radius.fill(String(after));
  await page.getByRole('button', { name: '保存' }).click();
  await waitText(page.locator('.toast'), '已保存');
  assert.equal(await page.getByLabel('配送半径（米）').inputValue(), String(after));
  await shot(page, '11-ops-store-edit');

  // Catalog: a SKU's price override at SH001, seen in the effective price.
  await page.goto('/admin/catalog');
  // A SKU sold by the unit, so the loss report below counts units rather than grams.
  const firstSku = page.locator('tbody tr').filter({ hasNotText: '称重' }).first().locator('td.mono a');
  const skuCode = (await firstSku.textContent()).trim();
  await firstSku.click();
  await page.waitForURL(/\/admin\/catalog\/skus\//);
  const storeSelect = page.getByLabel('门店', { exact: true });
  const sh001 = await storeSelect.locator('option', { hasText: 'SH001' }).getAttribute('value');
  await Promise.all([page.waitForURL(new RegExp(`store_id=${sh001}`)), storeSelect.selectOption(sh001)]);
  await page.getByLabel('本店价（元）', { exact: true }).fill('8.80');
  await page.getByRole('button', { name: '保存门店价' }).click();
  await waitText(page.locator('.toast'), '已保存');
  await waitText(page.locator('[data-price="in_store"]'), '¥8.80');
  // A price that is not an amount is refused next to its field, before anything is sent.
  await page.getByLabel('本店价（元）', { exact: true }).fill('8.8.8');
  await page.getByRole('button', { name: '保存门店价' }).click();
  await waitText(page.locator('#o-price-error'), '请输入以元为单位的金额');
  await shot(page, '11-ops-sku');

  // Inventory: SH001's stock, then one SKU's ledger.
  await page.goto(`/admin/inventory?store_id=${storeId}`);
  await page.locator('#stock-table tbody tr').first().waitFor();
  await shot(page, '11-ops-inventory');
  await page.locator('#stock-table tbody tr a').first().click();
  await page.waitForURL(/\/admin\/inventory\/[0-9a-f-]{36}\/[0-9a-f-]{36}/);
  await page.locator('#ledger tbody tr').first().waitFor();
  assert.match(await page.locator('#ledger').textContent(), /采购入库/);
  await shot(page, '11-ops-ledger');

  // The region manager approves the requisition SH001 is waiting on.
  const rmContext = await context();
  const rm = await rmContext.newPage();
  await loginStaff(rm, 'rm-sh', { next: '/admin/documents?status=submitted&kind=requisition' });
  const row = rm.locator('#documents tbody tr', { hasText: 'SH001' }).first();
  const number = (await row.locator('td.mono a').textContent()).trim();
  assert.match(number, /^RQ-/);
  await row.locator('td.mono a').click();
  await rm.waitForURL(/\/admin\/documents\/[0-9a-f-]{36}$/);
  await rm.getByLabel('备注').fill('周末备货，同意');
  await rm.getByRole('button', { name: '审批通过' }).click();
  await waitText(rm.locator('#document-status'), '已审批');
  await shot(rm, '11-ops-requisition-approved');

  // …and reports a loss at SH001.
  await rm.goto('/admin/documents');
  const form = rm.locator('form[data-form="document-create"]');
  await form.getByLabel('单据类型').selectOption('loss');
  const target = await form.getByLabel('门店（收货方）').locator('option', { hasText: 'SH001' }).getAttribute('value');
  await form.getByLabel('门店（收货方）').selectOption(target);
  await form.getByLabel('SKU 编码或条码').first().fill(skuCode);
  await form.getByLabel('数量').first().fill('2');
  await form.getByLabel('原因').first().fill('运输破损');
  await form.getByRole('button', { name: '创建' }).click();
  await rm.waitForURL(/\/admin\/documents\/[0-9a-f-]{36}$/);
  await waitText(rm.locator('#document-status'), '待审批');
  assert.match(await rm.locator('#lines').textContent(), /运输破损/);
  await shot(rm, '11-ops-loss-report');

  // The audit log has all of it.
  await page.goto('/admin/audit?action=store.updated');
  await waitText(page.locator('#audit tbody'), 'delivery_radius_m');
  await page.goto('/admin/audit?action=store_sku.set');
  await waitText(page.locator('#audit tbody'), 'store_sku');
  await page.goto('/admin/audit?action=stock_document.step');
  await waitText(page.locator('#audit tbody'), 'approved');
  await page.goto('/admin/audit?action=stock_document.created');
  await waitText(page.locator('#audit tbody'), 'loss');
  await shot(page, '11-ops-audit');
  const csv = await page.request.get('/admin/audit/export.csv?action=stock_document.created');
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /stock_document\.created/);

  // On a phone, in English: the documents list still reads.
  const phone = await context({ viewport: { width: 390, height: 844 }, locale: 'en' });
  const mobile = await phone.newPage();
  await loginStaff(mobile, 'rm-sh', { next: '/admin/documents' });
  await mobile.goto('/lang/en?next=/admin/documents');
  await waitText(mobile.locator('h1'), 'Stock documents');
  assert.match(await mobile.locator('#documents').textContent(), /Requisition|Loss report/);
  await shot(mobile, '11-ops-documents-en-phone');
}
