// Every console section fits a 390 px phone in both languages: wide tables scroll inside their
// frame instead of widening the page (a visually hidden label once escaped a table's frame and
// made the stock documents page 417 px wide in English).
import { assert, loginStaff } from '../lib.mjs';

export const name = 'console sections fit a phone in zh-CN and en';

const SECTIONS = ['/admin', '/admin/orders', '/admin/members', '/admin/marketing', '/admin/referral', '/admin/audiences',
  '/admin/stores', '/admin/staff', '/admin/catalog', '/admin/inventory', '/admin/documents', '/admin/audit'];

export default async function ({ context, shot }) {
  const ctx = await context({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  await loginStaff(page, 'admin', { next: '/admin' });
  const wide = [];
  for (const lang of ['en', 'zh']) {
    await page.goto(`/lang/${lang}?next=/admin`);
    for (const path of SECTIONS) {
      await page.goto(path);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 390) wide.push(`${lang} ${path}: ${width}px`);
    }
  }
  await shot(page, '12-phone-documents');
  assert.deepEqual(wide, [], 'pages wider than the phone');
}
