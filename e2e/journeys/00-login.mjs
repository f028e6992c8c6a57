// A newcomer opens the demo, finds the four faces, signs in as the HQ admin, switches to English
// and back, and a wrong password is explained next to the form.
import { assert, loginStaff } from '../lib.mjs';

export const name = 'staff login, language switch';

export default async function ({ context, shot }) {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto('/');
  assert.match(await page.locator('h1').textContent(), /全域/);
  await shot(page, '00-home');

  await page.goto('/login');
  await page.getByLabel('用户名或手机号').fill('admin');
  await page.getByLabel('密码').fill('wrong-password');
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('.form-error:not([hidden]), .field-error:not([hidden])').first().waitFor();
  await shot(page, '00-login-error');

  await loginStaff(page, 'admin', { next: '/admin' });
  assert.equal(new URL(page.url()).pathname, '/admin');
  await page.getByRole('link', { name: 'English' }).click();
  await page.waitForURL(/\/admin/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.getByRole('link', { name: '中文' }).click();
  await page.waitForURL(/\/admin/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
}
